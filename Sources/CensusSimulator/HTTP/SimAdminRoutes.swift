import Hummingbird
import SimulatorKit

// MARK: - SimAdminRoutes

/// `/_admin`: knobs, forced outcomes, tokens, syncs, simulated time, counters and resets, for
/// tests, benchmarks and humans with curl. Outside the API base path, not counted, not rate limited.
struct SimAdminRoutes {
    let engine: SimEngine

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
                let body = try await SimHTTP.fields(of: request) ?? SimObject()
                var knobs = engine.withState { state, _ in state.knobs }
                try Self.apply(body, to: &knobs)
                let updated = knobs
                engine.withState { state, _ in
                    if state.knobs.rateLimit != updated.rateLimit { state.rateWindows.removeAll() }
                    state.knobs = updated
                }
                return SimHTTP.json(200, Self.json(updated))
            } catch { return SimHTTP.failure(error) }
        }

        admin.post("outcomes") { request, _ in
            do throws(SimFailure) {
                let body = try await SimHTTP.fields(of: request) ?? SimObject()
                try Self.allow(body, ["outcome", "count", "error", "syncId"])
                guard let word = body["outcome"]?.stringValue, let outcome = CensusSimulator.RunOutcome(rawValue: word) else {
                    throw .error(422, "outcome must be one of completed, failed, skipped")
                }
                let count = try Self.integer(body["count"], "count", minimum: 1)
                let syncID = try Self.integer(body["syncId"], "syncId", minimum: 1)
                if let error = body["error"], error.stringValue == nil { throw .error(422, "error must be a string") }
                let forced = SimForcedOutcome(outcome: outcome, error: body["error"]?.stringValue, remaining: count ?? (syncID == nil ? 1 : .max))
                engine.withState { state, _ in
                    if let syncID { state.forcedBySync[syncID] = forced } else { state.forcedQueue.append(forced) }
                }
                return SimHTTP.json(200, .object(["forced": .string(outcome.rawValue)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.delete("outcomes") { _, _ in
            engine.withState { state, _ in
                state.forcedQueue.removeAll()
                state.forcedBySync.removeAll()
            }
            return SimHTTP.json(200, .object(["forced": .null]))
        }

        admin.put("tokens") { request, _ in
            do throws(SimFailure) {
                guard let list = try await SimHTTP.fields(of: request)?["tokens"]?.arrayValue else {
                    throw .error(422, "tokens (an array of strings) is required")
                }
                let tokens = list.compactMap(\.stringValue)
                engine.withState { state, _ in
                    state.tokens = Set(tokens.map(SimState.credential))
                    state.rateWindows.removeAll()
                }
                return SimHTTP.json(200, .object(["tokens": .int(tokens.count)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.post("tokens/revoke") { _, _ in
            engine.withState { state, _ in state.tokens.removeAll() }
            return SimHTTP.json(200, .object(["tokens": .int(0)]))
        }

        admin.post("syncs") { request, _ in
            do throws(SimFailure) {
                let body = try await SimHTTP.fields(of: request) ?? SimObject()
                try Self.allow(body, ["id", "label", "sourceId", "destinationId", "operation"])
                guard let id = try Self.integer(body["id"], "id", minimum: 1) else { throw .error(422, "id (a positive whole number) is required") }
                let seed = CensusSimulator.SeedSync(
                    id: id, label: body["label"]?.stringValue,
                    sourceID: try Self.integer(body["sourceId"], "sourceId", minimum: 1) ?? 4,
                    destinationID: try Self.integer(body["destinationId"], "destinationId", minimum: 1) ?? 15,
                    operation: body["operation"]?.stringValue ?? "upsert"
                )
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    try state.addSync(seed, now: now)
                    return try state.sync(id: id)
                })
            } catch { return SimHTTP.failure(error) }
        }
        admin.delete("syncs/:sync_id") { _, context in
            let id = SimRoutes.id(context, "sync_id")
            return SimHTTP.answer(engine.perform { state, _ throws(SimFailure) in
                guard let id, state.syncs.removeValue(forKey: id) != nil else { throw .notFound("Sync", context.parameters.get("sync_id") ?? "") }
                return .object(["status": "deleted"])
            })
        }

        admin.post("triggers/lose") { request, _ in
            do throws(SimFailure) {
                let body = try await SimHTTP.fields(of: request) ?? SimObject()
                try Self.allow(body, ["count"])
                let count = try Self.integer(body["count"], "count", minimum: 1) ?? 1
                let pending = engine.withState { state, _ in
                    state.lostTriggerAnswers += count
                    return state.lostTriggerAnswers
                }
                return SimHTTP.json(200, .object(["lostTriggerAnswers": .int(pending)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.post("syncs/:sync_id/runs") { request, context in
            do throws(SimFailure) {
                let body = try await SimHTTP.fields(of: request) ?? SimObject()
                try Self.allow(body, ["agoSeconds", "outcome"])
                let ago = try Self.integer(body["agoSeconds"], "agoSeconds", minimum: 0) ?? 3600
                let word = body["outcome"]?.stringValue ?? "completed"
                guard let outcome = CensusSimulator.RunOutcome(rawValue: word) else { throw .error(422, "outcome must be one of completed, failed, skipped") }
                let idText = context.parameters.get("sync_id") ?? ""
                let id = SimRoutes.id(context, "sync_id")
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    guard let id else { throw .notFound("Sync", idText) }
                    let runID = try state.addPastRun(syncID: id, ago: Double(ago), outcome: outcome, now: now)
                    return try state.syncRun(id: runID, now: now)
                })
            } catch { return SimHTTP.failure(error) }
        }

        admin.post("time/advance") { request, _ in
            do throws(SimFailure) {
                guard let seconds = try await SimHTTP.fields(of: request)?["seconds"]?.numberValue, seconds >= 0 else {
                    throw .error(422, "seconds (a non-negative number) is required")
                }
                let now = engine.withState { state, now in
                    state.clock.offset += seconds
                    return now + seconds
                }
                return SimHTTP.json(200, .object(["now": .string(SimTimestamp.format(now))]))
            } catch { return SimHTTP.failure(error) }
        }
        // Simulated time stops (advance still moves it), then runs with the wall clock again.
        admin.post("time/freeze") { _, _ in
            SimHTTP.json(200, .object(["now": .string(SimTimestamp.format(engine.freezeClock())), "frozen": .bool(true)]))
        }
        admin.post("time/resume") { _, _ in
            SimHTTP.json(200, .object(["now": .string(SimTimestamp.format(engine.resumeClock())), "frozen": .bool(false)]))
        }

        admin.get("counters") { _, _ in
            SimHTTP.json(200, engine.withState { state, now in state.publicCounters(now: now).json })
        }
        admin.get("triggers") { _, _ in
            SimHTTP.json(200, engine.withState { state, _ in .object(["data": .array(state.triggerLog.map(\.json))]) })
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

    static func json(_ knobs: CensusSimulator.Knobs) -> SimJSON {
        var weights = SimObject()
        for outcome in CensusSimulator.RunOutcome.allCases {
            if let weight = knobs.outcomeWeights[outcome] { weights[outcome.rawValue] = .number(weight) }
        }
        return .object([
            "latencyMs": .number(knobs.latency.seconds * 1_000),
            "latencyJitterMs": .number(knobs.latencyJitter.seconds * 1_000),
            "serverErrorRate": .number(knobs.serverErrorRate),
            "serverErrorStatus": .int(knobs.serverErrorStatus),
            "runDurationMs": .number(knobs.runDuration.seconds * 1_000),
            "queueDelayMs": .number(knobs.queueDelay.seconds * 1_000),
            "skipAfterMs": .number(knobs.skipAfter.seconds * 1_000),
            "outcomeWeights": .object(weights),
            "failureMessage": .string(knobs.failureMessage),
            "failedRecordRate": .number(knobs.failedRecordRate),
            "invalidRecordRate": .number(knobs.invalidRecordRate),
            "rateLimit": knobs.rateLimit.map { .object(["requests": .int($0.requests), "windowMs": .number($0.window.seconds * 1_000)]) } ?? .null,
            "seed": .number(Double(knobs.seed)),
        ])
    }

    /// Applies the fields present in a `PATCH /_admin/knobs` body; refuses the whole body (422,
    /// naming the field) if any is wrong, so no half-applied change.
    static func apply(_ body: SimObject, to knobs: inout CensusSimulator.Knobs) throws(SimFailure) {
        try allow(body, [
            "latencyMs", "latencyJitterMs", "serverErrorRate", "serverErrorStatus", "runDurationMs", "queueDelayMs", "skipAfterMs",
            "outcomeWeights", "failureMessage", "failedRecordRate", "invalidRecordRate", "rateLimit", "seed",
        ])
        var updated = knobs
        func milliseconds(_ key: String) throws(SimFailure) -> Duration? {
            try integer(body[key], key, minimum: 0).map { .milliseconds($0) }
        }
        func share(_ key: String) throws(SimFailure) -> Double? {
            guard let value = body[key] else { return nil }
            guard let number = value.numberValue, (0...1).contains(number) else { throw .error(422, "\(key) must be a number from 0 to 1") }
            return number
        }
        if let value = try milliseconds("latencyMs") { updated.latency = value }
        if let value = try milliseconds("latencyJitterMs") { updated.latencyJitter = value }
        if let value = try milliseconds("runDurationMs") { updated.runDuration = value }
        if let value = try milliseconds("queueDelayMs") { updated.queueDelay = value }
        if let value = try milliseconds("skipAfterMs") { updated.skipAfter = value }
        if let value = try share("serverErrorRate") { updated.serverErrorRate = value }
        if let value = try share("failedRecordRate") { updated.failedRecordRate = value }
        if let value = try share("invalidRecordRate") { updated.invalidRecordRate = value }
        if let status = try integer(body["serverErrorStatus"], "serverErrorStatus", minimum: 500) {
            guard status <= 599 else { throw .error(422, "serverErrorStatus must be a 5xx status") }
            updated.serverErrorStatus = status
        }
        if let value = body["outcomeWeights"] {
            guard let object = value.objectValue else { throw .error(422, "outcomeWeights must be an object such as {\"completed\": 8, \"failed\": 1}") }
            var weights: [CensusSimulator.RunOutcome: Double] = [:]
            for member in object.members {
                guard let outcome = CensusSimulator.RunOutcome(rawValue: member.key), let weight = member.value.numberValue, weight >= 0 else {
                    throw .error(422, "outcomeWeights.\(member.key) must be an outcome (completed, failed, skipped) with a weight >= 0")
                }
                weights[outcome] = weight
            }
            updated.outcomeWeights = weights
        }
        if let value = body["failureMessage"] {
            guard let text = value.stringValue else { throw .error(422, "failureMessage must be a string") }
            updated.failureMessage = text
        }
        switch body["rateLimit"] {
        case nil: break
        case .null?: updated.rateLimit = nil
        case .object(let limit)?:
            guard let requests = limit["requests"]?.numberValue, requests >= 1, let windowMs = limit["windowMs"]?.numberValue, windowMs > 0 else {
                throw .error(422, "rateLimit must be {\"requests\": >= 1, \"windowMs\": > 0} or null")
            }
            updated.rateLimit = CensusSimulator.RateLimit(requests: Int(requests), window: .milliseconds(Int64(windowMs)))
        default:
            throw .error(422, "rateLimit must be {\"requests\": >= 1, \"windowMs\": > 0} or null")
        }
        if let seed = try integer(body["seed"], "seed", minimum: 0) { updated.seed = UInt64(seed) }
        knobs = updated
    }

    static func allow(_ body: SimObject, _ names: Set<String>) throws(SimFailure) {
        if let unknown = body.keys.first(where: { !names.contains($0) }) {
            throw .error(422, "\(unknown) is not a field here; known: \(names.sorted().joined(separator: ", "))")
        }
    }

    /// A whole number, also given as a numeric string (form bodies); `nil` when absent.
    static func integer(_ value: SimJSON?, _ name: String, minimum: Int) throws(SimFailure) -> Int? {
        let number: Double?
        switch value {
        case nil, .null?: return nil
        case .number(let value)?: number = value
        case .string(let text)?: number = Double(text)
        default: number = nil
        }
        guard let number, number.rounded() == number, number >= Double(minimum), number < 1e15 else {
            throw .error(422, "\(name) must be a whole number of at least \(minimum)")
        }
        return Int(number)
    }
}

extension SimState {
    /// Adds a sync (`POST /_admin/syncs`); 409 if the id is taken.
    mutating func addSync(_ seed: CensusSimulator.SeedSync, now: Double) throws(SimFailure) {
        guard self.syncs[seed.id] == nil else { throw .error(409, "Sync \(seed.id) exists already") }
        self.syncs[seed.id] = SimSync(seed: seed, createdAt: now)
    }
}
