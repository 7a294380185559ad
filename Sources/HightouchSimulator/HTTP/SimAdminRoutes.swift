import Hummingbird
import SimulatorKit

// MARK: - SimAdminRoutes

/// `/_admin`: knobs, forced outcomes, tokens, simulated time, counters and resets, for tests,
/// benchmarks and humans with curl. Outside the API base path, not counted, not rate limited.
struct SimAdminRoutes {
    let engine: SimulatorEngine

    func install(on router: Router<BasicRequestContext>) {
        let admin = router.group("_admin")
        admin.add(middleware: SimAdminMiddleware(adminToken: self.engine.configuration.adminToken))
        let engine = self.engine
        let configuration = engine.configuration

        admin.get("health") { _, _ in SimHTTP.json(200, .object(["status": "ok"])) }

        admin.get("knobs") { _, _ in
            SimHTTP.json(200, engine.withState { state, _ in Self.json(state.knobs) })
        }
        admin.patch("knobs") { request, _ in
            do throws(SimFailure) {
                let body = try await SimHTTP.body(of: request)
                var current = engine.withState { state, _ in state.knobs }
                try Self.apply(body, to: &current)
                let knobs = current
                engine.withState { state, _ in
                    if state.knobs.rateLimit != knobs.rateLimit { state.rateWindows.removeAll() }
                    state.knobs = knobs
                }
                return SimHTTP.json(200, Self.json(knobs))
            } catch { return SimHTTP.failure(error) }
        }

        admin.post("outcomes") { request, _ in
            do throws(SimFailure) {
                var validator = SimValidator(body: try await SimHTTP.body(of: request), allowed: ["outcome", "count", "error", "syncSlug"])
                let outcomeText = validator.string("outcome", required: true)
                let count = validator.integer("count", required: false)
                let error = validator.string("error", required: false)
                let slug = validator.string("syncSlug", required: false)
                let outcome = outcomeText.flatMap(HightouchSimulator.RunOutcome.init(rawValue:))
                if let outcomeText, outcome == nil {
                    validator.fail("outcome", "one of success, warning, failed, cancelled, interrupted", value: .string(outcomeText))
                }
                try validator.check()
                guard let outcome else { throw .validation(validator.details) }
                let forced = SimForcedOutcome(outcome: outcome, error: error, remaining: max(1, count ?? (slug == nil ? 1 : .max)))
                engine.withState { state, _ in
                    if let slug { state.forcedBySlug[slug] = forced } else { state.forcedQueue.append(forced) }
                }
                return SimHTTP.json(200, .object(["forced": .string(outcome.rawValue)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.delete("outcomes") { _, _ in
            engine.withState { state, _ in
                state.forcedQueue.removeAll()
                state.forcedBySlug.removeAll()
            }
            return SimHTTP.json(200, .object(["forced": .null]))
        }

        admin.put("tokens") { request, _ in
            do throws(SimFailure) {
                guard case .object(let body)? = try await SimHTTP.body(of: request)?.value, case .array(let list)? = body["tokens"] else {
                    throw .validation(["requestBody.tokens": .object(["message": "'tokens' (array of strings) is required"])])
                }
                let tokens = list.compactMap(\.stringValue)
                engine.withState { state, _ in
                    state.tokens = Set(tokens)
                    state.rateWindows.removeAll()
                }
                return SimHTTP.json(200, .object(["tokens": .int(tokens.count)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.post("tokens/revoke") { _, _ in
            engine.withState { state, _ in state.tokens.removeAll() }
            return SimHTTP.json(200, .object(["tokens": .int(0)]))
        }

        admin.post("time/advance") { request, _ in
            do throws(SimFailure) {
                guard case .object(let body)? = try await SimHTTP.body(of: request)?.value, case .number(let seconds)? = body["seconds"], seconds >= 0
                else {
                    throw .validation(["requestBody.seconds": .object(["message": "'seconds' (a non-negative number) is required"])])
                }
                let now = engine.withState { state, now in
                    state.clockOffset += seconds
                    return now + seconds
                }
                return SimHTTP.json(200, .object(["now": .string(SimTimestamp.format(now))]))
            } catch { return SimHTTP.failure(error) }
        }

        admin.post("runs/:runId/cancel") { _, context in
            do throws(SimFailure) {
                let id = try SimulatorRoutes.numericID(context, "runId")
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.cancelRun(id: id, now: now) })
            } catch { return SimHTTP.failure(error) }
        }

        admin.post("bulk/syncs") { request, _ in
            do throws(SimFailure) {
                var validator = SimValidator(
                    body: try await SimHTTP.body(of: request),
                    allowed: ["count", "slugPrefix", "modelId", "destinationId", "trigger"]
                )
                let count = validator.integer("count", required: true)
                let prefix = validator.string("slugPrefix", required: false) ?? "bulk"
                let modelID = validator.integer("modelId", required: true)
                let destinationID = validator.integer("destinationId", required: false) ?? 80565
                let trigger = validator.bool("trigger", required: false) ?? false
                if let count, !(1...100_000).contains(count) { validator.fail("count", "must be between 1 and 100000", value: .int(count)) }
                try validator.check()
                guard let count, let modelID else { throw .validation(validator.details) }
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    let ids = try state.bulkCreateSyncs(
                        count: count,
                        slugPrefix: prefix,
                        modelID: modelID,
                        destinationID: destinationID,
                        trigger: trigger,
                        now: now
                    )
                    return .object(["created": .int(ids.count), "firstId": .int(ids.first ?? 0), "lastId": .int(ids.last ?? 0)])
                })
            } catch { return SimHTTP.failure(error) }
        }

        admin.get("counters") { _, _ in
            SimHTTP.json(200, engine.withState { state, now in state.publicCounters(now: now).json })
        }
        admin.get("triggers") { _, _ in
            SimHTTP.json(200, engine.withState { state, _ in .object(["data": .array(state.triggerLog.map(\.json))]) })
        }
        // Deleting a sync as someone would in Hightouch's UI (the API has no DELETE).
        admin.delete("syncs/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int.self) else {
                return SimHTTP.failure(.notFound("Sync", context.parameters.get("id") ?? ""))
            }
            let result: Result<Void, SimFailure> = engine.withState { state, now in
                do throws(SimFailure) {
                    try state.deleteSync(id: id, now: now)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success: return SimHTTP.json(200, .object(["deleted": .int(id)]))
            case .failure(let failure): return SimHTTP.failure(failure)
            }
        }
        admin.post("reset") { request, _ in
            let objects = SimQuery(request).first("objects") == "true"
            engine.withState { state, now in
                state.resetCounters()
                if objects { state.resetObjects(configuration: configuration, now: now) }
            }
            return SimHTTP.json(200, .object(["reset": .string(objects ? "counters and objects" : "counters")]))
        }
    }

    // MARK: - Knobs as JSON

    static func json(_ knobs: HightouchSimulator.Knobs) -> SimJSON {
        var weights = SimObject()
        for outcome in HightouchSimulator.RunOutcome.allCases {
            if let weight = knobs.outcomeWeights[outcome] { weights[outcome.rawValue] = .number(weight) }
        }
        return .object([
            "latencyMs": .number(knobs.latency.seconds * 1_000),
            "latencyJitterMs": .number(knobs.latencyJitter.seconds * 1_000),
            "serverErrorRate": .number(knobs.serverErrorRate),
            "serverErrorStatus": .int(knobs.serverErrorStatus),
            "runDurationMs": .number(knobs.runDuration.seconds * 1_000),
            "queueDelayMs": .number(knobs.queueDelay.seconds * 1_000),
            "outcomeWeights": .object(weights),
            "failureMessage": .string(knobs.failureMessage),
            "rateLimit": knobs.rateLimit.map {
                .object(["requests": .int($0.requests), "windowMs": .number($0.window.seconds * 1_000)])
            } ?? .null,
            "seed": .number(Double(knobs.seed)),
        ])
    }

    /// Applies the fields present in a `PATCH /_admin/knobs` body.
    static func apply(_ body: SimBody?, to knobs: inout HightouchSimulator.Knobs) throws(SimFailure) {
        var validator = SimValidator(
            body: body,
            allowed: [
                "latencyMs", "latencyJitterMs", "serverErrorRate", "serverErrorStatus", "runDurationMs", "queueDelayMs",
                "outcomeWeights", "failureMessage", "rateLimit", "seed",
            ]
        )
        func milliseconds(_ key: String) -> Duration? {
            guard let value = validator.integer(key, required: false) else { return nil }
            guard value >= 0 else {
                validator.fail(key, "must not be negative", value: .int(value))
                return nil
            }
            return .milliseconds(value)
        }
        let latency = milliseconds("latencyMs")
        let jitter = milliseconds("latencyJitterMs")
        let runDuration = milliseconds("runDurationMs")
        let queueDelay = milliseconds("queueDelayMs")
        var errorRate: Double?
        if case .number(let rate)? = validator.value("serverErrorRate") {
            if (0...1).contains(rate) { errorRate = rate } else { validator.fail("serverErrorRate", "must be between 0 and 1", value: .number(rate)) }
        } else if validator.has("serverErrorRate") {
            validator.fail("serverErrorRate", "invalid float number", value: validator.value("serverErrorRate"))
        }
        let errorStatus = validator.integer("serverErrorStatus", required: false)
        if let errorStatus, !(500...599).contains(errorStatus) {
            validator.fail("serverErrorStatus", "must be a 5xx status", value: .int(errorStatus))
        }
        var weights: [HightouchSimulator.RunOutcome: Double]?
        if let object = validator.object("outcomeWeights", required: false) {
            var parsed: [HightouchSimulator.RunOutcome: Double] = [:]
            for member in object.members {
                guard let outcome = HightouchSimulator.RunOutcome(rawValue: member.key), case .number(let weight) = member.value, weight >= 0
                else {
                    validator.fail("outcomeWeights.\(member.key)", "an outcome (success, warning, failed, cancelled, interrupted) with a weight >= 0", value: member.value)
                    continue
                }
                parsed[outcome] = weight
            }
            weights = parsed
        }
        let failureMessage = validator.string("failureMessage", required: false)
        var rateLimit: HightouchSimulator.RateLimit??
        switch validator.value("rateLimit") {
        case nil: rateLimit = nil
        case .null?: rateLimit = .some(nil)
        case .object(let limit)?:
            if case .number(let requests)? = limit["requests"], requests >= 1, case .number(let windowMs)? = limit["windowMs"], windowMs > 0 {
                rateLimit = .some(HightouchSimulator.RateLimit(requests: Int(requests), window: .milliseconds(Int64(windowMs))))
            } else {
                validator.fail("rateLimit", "{\"requests\": >= 1, \"windowMs\": > 0} or null", value: .object(limit))
            }
        case let other?:
            validator.fail("rateLimit", "{\"requests\": >= 1, \"windowMs\": > 0} or null", value: other)
        }
        let seed = validator.integer("seed", required: false)
        try validator.check()

        if let latency { knobs.latency = latency }
        if let jitter { knobs.latencyJitter = jitter }
        if let runDuration { knobs.runDuration = runDuration }
        if let queueDelay { knobs.queueDelay = queueDelay }
        if let errorRate { knobs.serverErrorRate = errorRate }
        if let errorStatus { knobs.serverErrorStatus = errorStatus }
        if let weights { knobs.outcomeWeights = weights }
        if let failureMessage { knobs.failureMessage = failureMessage }
        if let rateLimit { knobs.rateLimit = rateLimit }
        if let seed { knobs.seed = UInt64(truncatingIfNeeded: seed) }
    }
}
