import Hummingbird
import JSONSchema
import SimulatorKit

// MARK: - SimAdminRoutes

/// `/_admin`: knobs, forced outcomes, lost trigger answers, tokens, jobs, simulated time,
/// counters and resets, for tests, benchmarks and humans with curl. Outside the API, not counted,
/// not rate limited.
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
                let body = try await SimHTTP.body(of: request)
                var knobs = engine.withState { state, _ in state.knobs }
                try Self.apply(body, to: &knobs)
                let updated = knobs
                engine.withState { state, _ in
                    if state.knobs.rateLimit != updated.rateLimit { state.rateWindow = SimSlidingWindow(capacity: 1) }
                    state.knobs = updated
                }
                return SimHTTP.json(200, Self.json(updated))
            } catch { return SimHTTP.failure(error) }
        }

        admin.post("outcomes") { request, _ in
            do throws(SimFailure) {
                let body = try Self.object(try await SimHTTP.body(of: request))
                guard let text = body["outcome"]?.stringValue, let outcome = DBTCloudSimulator.RunOutcome(rawValue: text) else {
                    throw .invalid("outcome", "One of success, error, cancelled.")
                }
                let count = try Self.integer(body, "count")
                let jobID = try Self.integer(body, "jobId")
                let message = body["statusMessage"]?.stringValue
                let forced = SimForcedOutcome(outcome: outcome, message: message, remaining: max(1, count ?? (jobID == nil ? 1 : .max)))
                engine.withState { state, _ in
                    if let jobID { state.forcedByJob[jobID] = forced } else { state.forcedQueue.append(forced) }
                }
                return SimHTTP.json(200, .object(["forced": .string(outcome.rawValue)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.delete("outcomes") { _, _ in
            engine.withState { state, _ in
                state.forcedQueue.removeAll()
                state.forcedByJob.removeAll()
            }
            return SimHTTP.json(200, .object(["forced": .null]))
        }

        admin.get("triggers") { _, _ in
            SimHTTP.json(200, engine.withState { state, _ in .object(["data": .array(state.triggerLog.map(\.json))]) })
        }
        admin.post("triggers/drop") { request, _ in
            do throws(SimFailure) {
                let count = try Self.integer(try Self.object(try await SimHTTP.body(of: request)), "count") ?? 1
                guard count >= 0 else { throw .invalid("count", "Ensure this value is greater than or equal to 0.") }
                let pending = engine.withState { state, _ in
                    state.answersToDrop = count
                    return state.answersToDrop
                }
                return SimHTTP.json(200, .object(["answersToDrop": .int(pending)]))
            } catch { return SimHTTP.failure(error) }
        }

        admin.put("tokens") { request, _ in
            do throws(SimFailure) {
                guard case .array(let list)? = try Self.object(try await SimHTTP.body(of: request))["tokens"] else {
                    throw .invalid("tokens", "A list of strings is required.")
                }
                let tokens = list.compactMap(\.stringValue)
                engine.withState { state, _ in state.tokens = Set(tokens) }
                return SimHTTP.json(200, .object(["tokens": .int(tokens.count)]))
            } catch { return SimHTTP.failure(error) }
        }
        admin.post("tokens/revoke") { _, _ in
            engine.withState { state, _ in state.tokens.removeAll() }
            return SimHTTP.json(200, .object(["tokens": .int(0)]))
        }

        admin.get("jobs") { _, _ in
            SimHTTP.json(200, engine.withState { state, _ in
                .object(["data": .array(state.jobs.values.sorted { $0.id < $1.id }.map { SimJobJSON.json($0, accountID: state.accountID, createdAt: state.jobCreatedAt[$0.id] ?? 0) })])
            })
        }
        admin.post("jobs") { request, _ in
            do throws(SimFailure) {
                let job = try Self.job(try Self.object(try await SimHTTP.body(of: request)))
                engine.withState { state, now in state.addJob(job, now: now) }
                return SimHTTP.json(200, .object(["id": .int(job.id)]))
            } catch { return SimHTTP.failure(error) }
        }

        admin.post("time/advance") { request, _ in
            do throws(SimFailure) {
                guard case .number(let number)? = try Self.object(try await SimHTTP.body(of: request))["seconds"], number.doubleValue >= 0 else {
                    throw .invalid("seconds", "A non-negative number is required.")
                }
                let seconds = number.doubleValue
                let now = engine.withState { state, now in
                    state.clock.offset += seconds
                    return now + seconds
                }
                return SimHTTP.json(200, .object(["now": .string(SimTime.format(now))]))
            } catch { return SimHTTP.failure(error) }
        }
        // Simulated time stops (advance still moves it), then runs with the wall clock again.
        admin.post("time/freeze") { _, _ in
            SimHTTP.json(200, .object(["now": .string(SimTime.format(engine.freezeClock())), "frozen": .bool(true)]))
        }
        admin.post("time/resume") { _, _ in
            SimHTTP.json(200, .object(["now": .string(SimTime.format(engine.resumeClock())), "frozen": .bool(false)]))
        }

        admin.get("counters") { _, _ in
            SimHTTP.json(200, engine.withState { state, now in state.publicCounters(now: now).json })
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

    // MARK: - Reading admin bodies

    static func object(_ body: JSONValue?) throws(SimFailure) -> JSONObject {
        guard let body else { return JSONObject() }
        guard let object = body.objectValue else { throw .invalid(["non_field_errors": .array([.string("Expected a JSON object.")])]) }
        return object
    }

    static func integer(_ object: JSONObject, _ key: String) throws(SimFailure) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let number)? where number.isInteger: return number.intValue
        default: throw .invalid(key, "A valid integer is required.")
        }
    }

    static func job(_ object: JSONObject) throws(SimFailure) -> DBTCloudSimulator.Job {
        guard let id = try Self.integer(object, "id"), id > 0 else { throw .invalid("id", "A positive integer is required.") }
        var job = DBTCloudSimulator.Job(id: id, name: object["name"]?.stringValue ?? "Job \(id)")
        if let project = try Self.integer(object, "projectId") { job.projectID = project }
        if let name = object["projectName"]?.stringValue { job.projectName = name }
        if let environment = try Self.integer(object, "environmentId") { job.environmentID = environment }
        if let name = object["environmentName"]?.stringValue { job.environmentName = name }
        if let state = try Self.integer(object, "state") { job.state = state }
        if case .array(let steps)? = object["executeSteps"] {
            let commands = steps.compactMap(\.stringValue)
            guard !commands.isEmpty, commands.count == steps.count, commands.allSatisfy(SimState.isDBTCommand) else {
                throw .invalid("executeSteps", "A non-empty list of dbt commands is required.")
            }
            job.executeSteps = commands
        }
        return job
    }

    // MARK: - Knobs as JSON

    static func json(_ knobs: DBTCloudSimulator.Knobs) -> JSONValue {
        var weights = JSONObject()
        for outcome in DBTCloudSimulator.RunOutcome.allCases {
            if let weight = knobs.outcomeWeights[outcome] { weights[outcome.rawValue] = .double(weight) }
        }
        return .object([
            "latencyMs": .double(knobs.latency.seconds * 1_000),
            "serverErrorRate": .double(knobs.serverErrorRate),
            "serverErrorStatus": .int(knobs.serverErrorStatus),
            "runDurationMs": .double(knobs.runDuration.seconds * 1_000),
            "queueDelayMs": .double(knobs.queueDelay.seconds * 1_000),
            "outcomeWeights": .object(weights),
            "failureMessage": .string(knobs.failureMessage),
            "rateLimit": knobs.rateLimit.map { .object(["requests": .int($0.requests), "windowMs": .double($0.window.seconds * 1_000)]) } ?? .null,
            "seed": .double(Double(knobs.seed)),
        ])
    }

    /// Applies the fields present in a `PATCH /_admin/knobs` body; refuses the whole body (400
    /// naming the fields) if any is wrong.
    static func apply(_ body: JSONValue?, to knobs: inout DBTCloudSimulator.Knobs) throws(SimFailure) {
        let object = try Self.object(body)
        var errors = JSONObject()
        func fail(_ key: String, _ message: String) { errors[key] = .array([.string(message)]) }
        func number(_ key: String) -> Double? {
            switch object[key] {
            case nil: return nil
            case .number(let number)? where number.doubleValue >= 0: return number.doubleValue
            default:
                fail(key, "A non-negative number is required.")
                return nil
            }
        }
        let allowed = ["latencyMs", "serverErrorRate", "serverErrorStatus", "runDurationMs", "queueDelayMs", "outcomeWeights", "failureMessage", "rateLimit", "seed"]
        for key in object.keys where !allowed.contains(key) { fail(key, "Unknown knob; known: \(allowed.joined(separator: ", ")).") }
        var updated = knobs
        if let value = number("latencyMs") { updated.latency = .milliseconds(Int64(value)) }
        if let value = number("runDurationMs") { updated.runDuration = .milliseconds(Int64(value)) }
        if let value = number("queueDelayMs") { updated.queueDelay = .milliseconds(Int64(value)) }
        if let value = number("serverErrorRate") {
            if value <= 1 { updated.serverErrorRate = value } else { fail("serverErrorRate", "Ensure this value is between 0 and 1.") }
        }
        if let value = number("serverErrorStatus") {
            if (500...599).contains(Int(value)) { updated.serverErrorStatus = Int(value) } else { fail("serverErrorStatus", "A 5xx status is required.") }
        }
        if let value = number("seed") { updated.seed = UInt64(value) }
        if let text = object["failureMessage"] {
            if let message = text.stringValue { updated.failureMessage = message } else { fail("failureMessage", "Not a valid string.") }
        }
        if let value = object["outcomeWeights"] {
            var weights: [DBTCloudSimulator.RunOutcome: Double] = [:]
            for member in value.objectValue ?? JSONObject() {
                guard let outcome = DBTCloudSimulator.RunOutcome(rawValue: member.key), let weight = member.value.numberValue?.doubleValue, weight >= 0 else {
                    fail("outcomeWeights", "An object of success, error, cancelled to weights >= 0.")
                    continue
                }
                weights[outcome] = weight
            }
            if value.objectValue == nil || !weights.values.contains(where: { $0 > 0 }) {
                fail("outcomeWeights", "An object of success, error, cancelled to weights >= 0, one of them positive.")
            } else {
                updated.outcomeWeights = weights
            }
        }
        switch object["rateLimit"] {
        case nil: break
        case .null?: updated.rateLimit = nil
        case .object(let limit)?:
            if let requests = limit["requests"]?.numberValue?.intValue, requests >= 1, let window = limit["windowMs"]?.numberValue?.doubleValue, window > 0 {
                updated.rateLimit = DBTCloudSimulator.RateLimit(requests: requests, window: .milliseconds(Int64(window)))
            } else {
                fail("rateLimit", "{\"requests\": >= 1, \"windowMs\": > 0} or null.")
            }
        default: fail("rateLimit", "{\"requests\": >= 1, \"windowMs\": > 0} or null.")
        }
        guard errors.isEmpty else { throw .invalid(errors) }
        knobs = updated
    }
}
