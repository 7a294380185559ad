import Hummingbird
import SimulatorKit

// MARK: - SimAdminRoutes

/// `/_admin`: knobs, forced outcomes, setup test failures, faults, credentials, simulated time,
/// connectors, counters and resets, for tests, benchmarks and humans with curl. Outside `/v1`,
/// not counted, not rate limited. Bodies are JSON; a bad one is a 400 naming the field.
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
                var knobs = engine.withState { state, _ in state.knobs }
                try Self.apply(try await SimHTTP.body(of: request), to: &knobs)
                let updated = knobs
                engine.withState { state, _ in
                    if state.knobs.rateLimit != updated.rateLimit { state.rateWindows.removeAll() }
                    state.knobs = updated
                }
                return SimHTTP.json(200, Self.json(updated))
            } catch { return SimHTTP.failure(error) }
        }

        // {"outcome": "failed", "count": 2, "message": "...", "connectorId": "..."}
        admin.post("outcomes") { request, _ in
            do throws(SimFailure) {
                let fields = try SimFields(try await SimHTTP.body(of: request), allowed: ["outcome", "count", "message", "connectorId"])
                guard let text = try fields.string("outcome"), let outcome = FivetranSimulator.SyncOutcome(rawValue: text) else {
                    throw .invalidInput("outcome is required: success or failed.")
                }
                let connector = try fields.string("connectorId")
                let count = try fields.integer("count") ?? (connector == nil ? 1 : .max)
                guard count >= 1 else { throw .invalidInput("count must be at least 1.") }
                let forced = SimForcedOutcome(outcome: outcome, message: try fields.string("message"), remaining: count)
                engine.withState { state, _ in
                    if let connector { state.forcedByConnector[connector] = forced } else { state.forcedQueue.append(forced) }
                }
                return SimHTTP.json(200, .object(["forced": .string(outcome.rawValue)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.delete("outcomes") { _, _ in
            engine.withState { state, _ in
                state.forcedQueue.removeAll()
                state.forcedByConnector.removeAll()
            }
            return SimHTTP.json(200, .object(["forced": .null]))
        }

        // {"status": "FAILED", "title": "...", "message": "...", "connectorId": "...", "count": 1}
        admin.post("setup-tests") { request, _ in
            do throws(SimFailure) {
                let fields = try SimFields(try await SimHTTP.body(of: request), allowed: ["status", "title", "message", "connectorId", "count"])
                let status = try fields.string("status").map { text throws(SimFailure) -> FivetranSimulator.SetupTestStatus in
                    guard let status = FivetranSimulator.SetupTestStatus(rawValue: text.uppercased()) else {
                        throw .invalidInput("status must be FAILED or WARNING, not '\(text)'.")
                    }
                    return status
                } ?? .failed
                let title = try fields.string("title")
                if let title, !SimState.setupTestTitles.contains(title) {
                    throw .invalidInput("title must be one of: \(SimState.setupTestTitles.joined(separator: ", ")).")
                }
                let count = try fields.integer("count") ?? .max
                guard count >= 1 else { throw .invalidInput("count must be at least 1.") }
                let failure = SimSetupFailure(
                    connectorID: try fields.string("connectorId"), title: title, status: status, message: try fields.string("message"), remaining: count
                )
                engine.withState { state, _ in state.setupFailures.append(failure) }
                return SimHTTP.json(200, .object(["failing": .string(title ?? SimState.defaultFailingTest), "status": .string(status.rawValue)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.delete("setup-tests") { _, _ in
            engine.withState { state, _ in state.setupFailures.removeAll() }
            return SimHTTP.json(200, .object(["failing": .null]))
        }

        // {"loseAnswers": 1, "reschedule": {"count": 1, "delayMs": 60000}}
        admin.post("faults") { request, _ in
            do throws(SimFailure) {
                let fields = try SimFields(try await SimHTTP.body(of: request), allowed: ["loseAnswers", "reschedule"])
                let lose = try fields.integer("loseAnswers")
                var reschedule: (Int, Double)?
                if let object = try fields.object("reschedule") {
                    let inner = try SimFields(.object(object), allowed: ["count", "delayMs"])
                    guard let count = try inner.integer("count"), count >= 0, let delay = try inner.number("delayMs"), delay >= 0 else {
                        throw .invalidInput("reschedule needs count (>= 0) and delayMs (>= 0).")
                    }
                    reschedule = (count, delay / 1_000)
                }
                if let lose, lose < 0 { throw .invalidInput("loseAnswers must not be negative.") }
                let faults = engine.withState { state, _ -> SimJSON in
                    if let lose { state.lostAnswers = lose }
                    if let reschedule { state.reschedules = reschedule }
                    return .object([
                        "loseAnswers": .int(state.lostAnswers),
                        "reschedule": .object(["count": .int(state.reschedules.count), "delayMs": .number(state.reschedules.delay * 1_000)]),
                    ])
                }
                return SimHTTP.json(200, faults)
            } catch { return SimHTTP.failure(error) }
        }
        admin.delete("faults") { _, _ in
            engine.withState { state, _ in
                state.lostAnswers = 0
                state.reschedules = (0, 0)
            }
            return SimHTTP.json(200, .object(["loseAnswers": .int(0)]))
        }

        // {"credentials": [{"apiKey": "...", "apiSecret": "..."}]}
        admin.put("credentials") { request, _ in
            do throws(SimFailure) {
                let fields = try SimFields(try await SimHTTP.body(of: request), allowed: ["credentials"])
                guard case .array(let list)? = fields.value("credentials") else {
                    throw .invalidInput("credentials (an array of {\"apiKey\", \"apiSecret\"}) is required.")
                }
                var credentials: [FivetranSimulator.Credential] = []
                for element in list {
                    let pair = try SimFields(element, allowed: ["apiKey", "apiSecret"])
                    guard let key = try pair.string("apiKey"), let secret = try pair.string("apiSecret"), !key.isEmpty, !secret.isEmpty else {
                        throw .invalidInput("each credential needs a non-empty apiKey and apiSecret.")
                    }
                    credentials.append(.init(apiKey: key, apiSecret: secret))
                }
                let accepted = credentials
                engine.withState { state, _ in
                    state.credentials = Set(accepted)
                    state.rateWindows.removeAll()
                }
                return SimHTTP.json(200, .object(["credentials": .int(accepted.count)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.post("credentials/revoke") { _, _ in
            engine.withState { state, _ in state.credentials.removeAll() }
            return SimHTTP.json(200, .object(["credentials": .int(0)]))
        }

        admin.post("time/advance") { request, _ in
            do throws(SimFailure) {
                let fields = try SimFields(try await SimHTTP.body(of: request), allowed: ["seconds"])
                guard let seconds = try fields.number("seconds"), seconds >= 0 else {
                    throw .invalidInput("seconds (a non-negative number) is required.")
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

        // {"id": "...", "groupId": "...", "service": "...", "schema": "...", "paused": false,
        //  "scheduleType": "auto", "setupState": "connected"}
        admin.post("connectors") { request, _ in
            do throws(SimFailure) {
                let fields = try SimFields(
                    try await SimHTTP.body(of: request), allowed: ["id", "groupId", "service", "schema", "paused", "scheduleType", "setupState"]
                )
                guard let id = try fields.string("id"), FivetranSimulator.isConnectorID(id) else {
                    throw .invalidInput("id is required: lowercase letters, digits and underscores, e.g. shrank_paparazzi.")
                }
                let scheduleType = try fields.string("scheduleType") ?? "auto"
                guard ["auto", "manual"].contains(scheduleType) else { throw .invalidInput("scheduleType must be auto or manual.") }
                let setupState = try fields.string("setupState") ?? "connected"
                guard ["connected", "incomplete", "broken"].contains(setupState) else {
                    throw .invalidInput("setupState must be connected, incomplete or broken.")
                }
                let seed = FivetranSimulator.SeedConnector(
                    id: id, groupID: try fields.string("groupId") ?? "projected_sickle", service: try fields.string("service") ?? "postgres",
                    schema: try fields.string("schema"), paused: try fields.bool("paused") ?? false, scheduleType: scheduleType, setupState: setupState
                )
                let json = engine.withState { state, now -> SimJSON in
                    if state.connectors[id] == nil { state.connectorOrder.append(id) }
                    let connector = SimConnector(seed: seed, now: now)
                    state.connectors[id] = connector
                    return connector.json(now: now)
                }
                return SimHTTP.json(200, .object(["code": "Success", "data": json]))
            } catch { return SimHTTP.failure(error) }
        }
        // A sync started as the connector's own schedule would start it.
        admin.post("connectors/:connectorId/sync") { _, context in
            let id = SimHTTP.parameter(context, "connectorId")
            return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                let connector = try state.existing(id, .connectors, now: now)
                guard !connector.paused, connector.active == nil else {
                    throw SimFailure(status: 409, code: "Conflict", message: "Connector '\(id)' is paused or already syncing.")
                }
                state.startSync(.sync, connector: id, at: now)
                return .object(["code": "Success", "data": (state.connectors[id] ?? connector).json(now: now)])
            })
        }

        // The rescheduled sync's wait ends now (rescheduled_for becomes now); 409 if none is.
        admin.post("connectors/:connectorId/reschedule-due") { _, context in
            let id = SimHTTP.parameter(context, "connectorId")
            return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                guard try state.makeRescheduleDue(id, now: now) else {
                    throw SimFailure(status: 409, code: "Conflict", message: "Connector '\(id)' has no rescheduled sync.")
                }
                return .object(["code": "Success", "data": (state.connectors[id]?.json(now: now)) ?? .null])
            })
        }

        admin.get("counters") { _, _ in
            SimHTTP.json(200, engine.withState { state, _ in FivetranSimulator.Counters(state.counters).json })
        }
        admin.post("reset") { request, _ in
            let connectors = request.uri.queryParameters["connectors"] == "true"
            engine.withState { state, now in
                state.resetCounters()
                if connectors { state.resetConnectors(configuration: configuration, now: now) }
            }
            return SimHTTP.json(200, .object(["reset": .string(connectors ? "counters and connectors" : "counters")]))
        }
    }

    // MARK: - Knobs as JSON

    static func json(_ knobs: FivetranSimulator.Knobs) -> SimJSON {
        var weights = SimObject()
        for outcome in FivetranSimulator.SyncOutcome.allCases {
            if let weight = knobs.outcomeWeights[outcome] { weights[outcome.rawValue] = .number(weight) }
        }
        return .object([
            "latencyMs": .number(knobs.latency.seconds * 1_000),
            "latencyJitterMs": .number(knobs.latencyJitter.seconds * 1_000),
            "serverErrorRate": .number(knobs.serverErrorRate),
            "serverErrorStatus": .int(knobs.serverErrorStatus),
            "syncDurationMs": .number(knobs.syncDuration.seconds * 1_000),
            "outcomeWeights": .object(weights),
            "failureMessage": .string(knobs.failureMessage),
            "rateLimit": knobs.rateLimit.map { .object(["requests": .int($0.requests), "windowMs": .number($0.window.seconds * 1_000)]) } ?? .null,
            "seed": .number(Double(knobs.seed)),
        ])
    }

    /// Applies the fields present in a `PATCH /_admin/knobs` body.
    static func apply(_ body: SimJSON?, to knobs: inout FivetranSimulator.Knobs) throws(SimFailure) {
        let fields = try SimFields(body, allowed: [
            "latencyMs", "latencyJitterMs", "serverErrorRate", "serverErrorStatus", "syncDurationMs", "outcomeWeights", "failureMessage",
            "rateLimit", "seed",
        ])
        func milliseconds(_ key: String) throws(SimFailure) -> Duration? {
            guard let value = try fields.number(key) else { return nil }
            guard value >= 0 else { throw .invalidInput("\(key) must not be negative.") }
            return .milliseconds(Int64(value))
        }
        var updated = knobs
        if let latency = try milliseconds("latencyMs") { updated.latency = latency }
        if let jitter = try milliseconds("latencyJitterMs") { updated.latencyJitter = jitter }
        if let duration = try milliseconds("syncDurationMs") { updated.syncDuration = duration }
        if let rate = try fields.number("serverErrorRate") {
            guard (0...1).contains(rate) else { throw .invalidInput("serverErrorRate must be between 0 and 1.") }
            updated.serverErrorRate = rate
        }
        if let status = try fields.integer("serverErrorStatus") {
            guard (500...599).contains(status) else { throw .invalidInput("serverErrorStatus must be a 5xx status.") }
            updated.serverErrorStatus = status
        }
        if let object = try fields.object("outcomeWeights") {
            var weights: [FivetranSimulator.SyncOutcome: Double] = [:]
            for member in object.members {
                guard let outcome = FivetranSimulator.SyncOutcome(rawValue: member.key), case .number(let weight) = member.value, weight >= 0 else {
                    throw .invalidInput("outcomeWeights.\(member.key): use success or failed with a weight >= 0.")
                }
                weights[outcome] = weight
            }
            guard weights.values.contains(where: { $0 > 0 }) else { throw .invalidInput("outcomeWeights needs a positive weight.") }
            updated.outcomeWeights = weights
        }
        if let message = try fields.string("failureMessage") { updated.failureMessage = message }
        switch fields.value("rateLimit") {
        case nil: break
        case .null?: updated.rateLimit = nil
        case .object(let limit)?:
            guard case .number(let requests)? = limit["requests"], requests >= 1, case .number(let window)? = limit["windowMs"], window > 0 else {
                throw .invalidInput("rateLimit must be {\"requests\": >= 1, \"windowMs\": > 0} or null.")
            }
            updated.rateLimit = FivetranSimulator.RateLimit(requests: Int(requests), window: .milliseconds(Int64(window)))
        case let other?:
            throw .invalidInput("rateLimit must be an object or null, not \(other.typeName).")
        }
        if let seed = try fields.integer("seed") {
            guard seed >= 0 else { throw .invalidInput("seed must not be negative.") }
            updated.seed = UInt64(seed)
        }
        knobs = updated
    }
}

extension FivetranSimulator {
    /// Fivetran's id characters: lowercase letters, digits and underscores.
    static func isConnectorID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }
}
