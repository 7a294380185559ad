import JSONSchema
import SimulatorKit

// MARK: - Triggers

extension SimState {
    /// The cause of a trigger that sends none (Dagster's and dlt's clients send no body at all).
    static let defaultCause = "Triggered via API"

    /// `POST /jobs/{id}/run/`: validates the body as Django REST framework would (400 with field
    /// errors; unknown fields ignored), creates a run and answers it. `dropAnswer` is true when
    /// the answer must be lost (the run exists all the same).
    mutating func trigger(jobIDText: String, body: JSONValue?, now: Double) throws(SimFailure) -> (answer: JSONValue, dropAnswer: Bool) {
        let job = try self.job(idText: jobIDText)
        let trigger = try Self.readTrigger(body)
        for step in trigger.stepsOverride ?? [] where !SimState.isDBTCommand(step) {
            throw .invalid("steps_override", "Invalid step: \"\(step)\". Every step must be a dbt command, starting with \"dbt \".")
        }
        guard job.state == 1 else {
            throw .envelope(400, "Job \(job.id) has been deleted and cannot be run.")
        }
        let commands = trigger.stepsOverride.flatMap { $0.isEmpty ? nil : $0 } ?? job.executeSteps
        let run = self.createRun(job: job, trigger: trigger, commands: commands, rerunOf: nil, kind: "run", now: now)
        return (self.envelope(run, now: now), self.takeDroppedAnswer(runID: run.id))
    }

    /// `POST /jobs/{id}/rerun/`: reruns the job's latest run from its failing step when it ended in
    /// error; otherwise triggers a new run of the whole job (as dbt Cloud documents it).
    mutating func rerun(jobIDText: String, now: Double) throws(SimFailure) -> (answer: JSONValue, dropAnswer: Bool) {
        let job = try self.job(idText: jobIDText)
        guard job.state == 1 else {
            throw .envelope(400, "Job \(job.id) has been deleted and cannot be run.")
        }
        let latest = self.runs.last { $0.jobID == job.id }
        let run: SimRun
        if let latest, latest.status(at: now) == 20, let failing = latest.failingStep {
            var trigger = latest.trigger
            trigger.cause = "Rerun of run \(latest.id) from its failed step"
            let commands = Array(latest.commands[(failing - latest.firstCommandStep)...])
            trigger.stepsOverride = commands
            run = self.createRun(job: job, trigger: trigger, commands: commands, rerunOf: latest.id, kind: "rerun", now: now)
        } else {
            let trigger = SimTrigger(cause: "Rerun of job \(job.id)")
            run = self.createRun(job: job, trigger: trigger, commands: job.executeSteps, rerunOf: nil, kind: "rerun", now: now)
        }
        self.counters.reruns += 1
        return (self.envelope(run, now: now), self.takeDroppedAnswer(runID: run.id))
    }

    private mutating func takeDroppedAnswer(runID: Int) -> Bool {
        guard self.answersToDrop > 0 else { return false }
        self.answersToDrop -= 1
        self.counters.droppedAnswers += 1
        if let index = self.triggerLog.lastIndex(where: { $0.runID == runID }) {
            let record = self.triggerLog[index]
            self.triggerLog[index] = SimTriggerRecord(
                runID: record.runID, jobID: record.jobID, kind: record.kind, trigger: record.trigger, at: record.at, answerDropped: true
            )
        }
        return true
    }

    private func envelope(_ run: SimRun, now: Double) -> JSONValue {
        SimEnvelope.wrap(self.runJSON(run, now: now, include: SimRun.Include()))
    }

    static func isDBTCommand(_ step: String) -> Bool {
        let trimmed = step.trimmingCharacters(in: " \t")
        return trimmed == "dbt" || trimmed.hasPrefix("dbt ")
    }

    /// Creates a run queued behind the job's active runs; its outcome is forced or drawn.
    private mutating func createRun(
        job: DBTCloudSimulator.Job, trigger: SimTrigger, commands: [String], rerunOf: Int?, kind: String, now: Double
    ) -> SimRun {
        let id = self.nextRunID
        self.nextRunID += 1
        let triggerID = self.nextTriggerID
        self.nextTriggerID += 1
        let knobs = self.knobs
        let seed = knobs.seed

        var outcome = Self.drawOutcome(weights: knobs.outcomeWeights, seed: seed, runID: id)
        var message: String?
        if var forced = self.forcedByJob[job.id] {
            outcome = forced.outcome
            message = forced.message
            forced.remaining -= 1
            self.forcedByJob[job.id] = forced.remaining > 0 ? forced : nil
        } else if var forced = self.forcedQueue.first {
            outcome = forced.outcome
            message = forced.message
            forced.remaining -= 1
            if forced.remaining > 0 { self.forcedQueue[0] = forced } else { self.forcedQueue.removeFirst() }
        }

        let steps = SimRun.setupSteps + commands.map(SimRun.stepName)
        let firstCommand = SimRun.setupSteps.count
        var failing: Int?
        switch outcome {
        case .error:
            failing = firstCommand + SimRandom.integer(seed: seed, .failingStep, UInt64(id), in: 0...max(0, commands.count - 1))
            message = message ?? knobs.failureMessage
        case .cancelled:
            message = message ?? "This run was cancelled."
        case .success:
            message = nil
        }

        let duration = max(0, knobs.runDuration.seconds)
        let queueDelay = max(0, knobs.queueDelay.seconds)
        let dequeued = max(now + 0.1 * duration + queueDelay, self.busyUntil[job.id] ?? -Double.infinity)
        var run = SimRun(
            id: id, jobID: job.id, triggerID: triggerID, trigger: trigger, createdAt: now, dequeuedAt: dequeued,
            startedAt: dequeued + 0.1 * duration, duration: duration, outcome: outcome, end: 0, steps: steps,
            firstCommandStep: firstCommand, failingStep: failing, statusMessage: message, cancelledAt: nil, rerunOf: rerunOf,
            gitSHA: SimRandom.sha(seed: seed, UInt64(id)), queueDelay: queueDelay
        )
        run.planEnd()
        self.runPosition[id] = self.runs.count
        self.runs.append(run)
        self.busyUntil[job.id] = max(self.busyUntil[job.id] ?? run.end, run.end)

        self.counters.runsTriggeredByJob[job.id, default: 0] += 1
        self.counters.causesByJob[job.id, default: []].append(trigger.cause)
        if self.triggerLog.count >= Self.maxTriggerLog { self.triggerLog.removeFirst(self.triggerLog.count / 2) }
        self.triggerLog.append(SimTriggerRecord(runID: id, jobID: job.id, kind: kind, trigger: trigger, at: now, answerDropped: false))
        return run
    }

    private static func drawOutcome(weights: [DBTCloudSimulator.RunOutcome: Double], seed: UInt64, runID: Int) -> DBTCloudSimulator.RunOutcome {
        let positive = DBTCloudSimulator.RunOutcome.allCases.map { ($0, max(0, weights[$0] ?? 0)) }
        let total = positive.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return .success }
        var point = SimRandom.unit(seed: seed, .outcome, UInt64(runID)) * total
        for (outcome, weight) in positive where weight > 0 {
            if point < weight { return outcome }
            point -= weight
        }
        return positive.last { $0.1 > 0 }?.0 ?? .success
    }

    // MARK: - Reading the body

    /// The trigger body's fields, typed as Django REST framework reads them: strings, integers
    /// (numeric strings too), booleans (`"true"`/`"false"` too), a list of strings; `null` or a
    /// missing field is "not sent"; unknown fields are ignored.
    static func readTrigger(_ body: JSONValue?) throws(SimFailure) -> SimTrigger {
        guard let body, !body.isNull else { return SimTrigger(cause: Self.defaultCause) }
        guard let object = body.objectValue else {
            throw .invalid(["non_field_errors": .array([.string("Invalid data. Expected a dictionary, but got \(Self.pythonType(body)).")])])
        }
        var errors = JSONObject()
        func fail(_ field: String, _ message: String) { errors[field] = .array([.string(message)]) }
        func string(_ field: String) -> String? {
            switch object[field] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            case .number(let number)?: return number.jsonLiteral  // DRF's CharField takes numbers as text
            default:
                fail(field, "Not a valid string.")
                return nil
            }
        }
        func integer(_ field: String) -> Int? {
            switch object[field] {
            case nil, .null?: return nil
            case .number(let number)? where number.isInteger: return number.intValue
            case .string(let text)? where Int(text.trimmingCharacters(in: " ")) != nil: return Int(text.trimmingCharacters(in: " "))
            default:
                fail(field, "A valid integer is required.")
                return nil
            }
        }
        func boolean(_ field: String) -> Bool? {
            switch object[field] {
            case nil, .null?: return nil
            case .bool(let value)?: return value
            case .string(let text)? where ["true", "false", "1", "0"].contains(text.lowercased()):
                return text.lowercased() == "true" || text == "1"
            default:
                fail(field, "Must be a valid boolean.")
                return nil
            }
        }
        var trigger = SimTrigger(cause: Self.defaultCause)
        if let cause = string("cause") {
            if cause.unicodeScalars.count > 255 {
                fail("cause", "Ensure this field has no more than 255 characters.")
            } else {
                trigger.cause = cause
            }
        }
        trigger.gitBranch = string("git_branch")
        trigger.gitSHA = string("git_sha")
        trigger.schemaOverride = string("schema_override")
        trigger.targetNameOverride = string("target_name_override")
        trigger.dbtVersionOverride = string("dbt_version_override")
        trigger.threadsOverride = integer("threads_override")
        trigger.timeoutSecondsOverride = integer("timeout_seconds_override")
        trigger.azurePullRequestID = integer("azure_pull_request_id")
        trigger.githubPullRequestID = integer("github_pull_request_id")
        trigger.gitlabMergeRequestID = integer("gitlab_merge_request_id")
        trigger.generateDocsOverride = boolean("generate_docs_override")
        switch object["steps_override"] {
        case nil, .null?: break
        case .array(let elements)?:
            let steps = elements.compactMap(\.stringValue)
            if steps.count == elements.count { trigger.stepsOverride = steps } else { fail("steps_override", "Not a valid string.") }
        default: fail("steps_override", "Expected a list of items but got type \"\(Self.pythonType(object["steps_override"] ?? .null))\".")
        }
        if let threads = trigger.threadsOverride, threads < 1 {
            fail("threads_override", "Ensure this value is greater than or equal to 1.")
        }
        guard errors.isEmpty else { throw .invalid(errors) }
        return trigger
    }

    private static func pythonType(_ value: JSONValue) -> String {
        switch value {
        case .array: "list"
        case .string: "str"
        case .number(let number): number.isInteger ? "int" : "float"
        case .bool: "bool"
        case .null: "NoneType"
        case .object: "dict"
        }
    }
}

// MARK: - Runs

extension SimState {
    func runJSON(_ run: SimRun, now: Double, include: SimRun.Include) -> JSONValue {
        let job = self.jobs[run.jobID]
        let href = "\(self.accessURL)/deploy/\(self.accountID)/projects/\(job?.projectID ?? 0)/runs/\(run.id)/"
        return run.json(at: now, accountID: self.accountID, job: job, href: href, include: include)
    }

    func run(idText: String) throws(SimFailure) -> SimRun {
        guard let id = Int(idText), let position = self.runPosition[id] else { throw .notFound }
        return self.runs[position]
    }

    /// `GET /runs/{id}/`.
    func getRun(idText: String, include: SimRun.Include, now: Double) throws(SimFailure) -> JSONValue {
        SimEnvelope.wrap(self.runJSON(try self.run(idText: idText), now: now, include: include))
    }

    /// Filters and order of `GET /runs/`.
    struct RunFilter: Sendable {
        var jobID: Int?
        var environmentID: Int?
        var projectID: Int?
        var statuses: [Int]?
        /// `id`, `created_at`, `finished_at`, `updated_at`, optionally with `-` (descending).
        var orderBy: String?
        var include = SimRun.Include()
    }

    static let runOrders = ["id", "created_at", "finished_at", "updated_at", "started_at"]

    /// `GET /runs/`.
    func listRuns(_ filter: RunFilter, paging: SimPaging, now: Double) -> JSONValue {
        var matching = self.runs.filter { run in
            if let jobID = filter.jobID, run.jobID != jobID { return false }
            let job = self.jobs[run.jobID]
            if let environmentID = filter.environmentID, job?.environmentID != environmentID { return false }
            if let projectID = filter.projectID, job?.projectID != projectID { return false }
            if let statuses = filter.statuses, !statuses.contains(run.status(at: now)) { return false }
            return true
        }
        let order = filter.orderBy ?? "id"
        let descending = order.hasPrefix("-")
        switch String(order.drop(while: { $0 == "-" })) {
        case "finished_at":
            matching.sort { ($0.isActive(at: now) ? .infinity : $0.end, $0.id) < ($1.isActive(at: now) ? .infinity : $1.end, $1.id) }
        case "started_at":
            matching.sort { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
        case "updated_at":
            matching.sort { (min(now, $0.end), $0.id) < (min(now, $1.end), $1.id) }
        default:
            break  // id and created_at: creation order
        }
        if descending { matching.reverse() }
        let page = paging.slice(matching)
        var filters: JSONObject = ["account_id": .int(self.accountID)]
        if let jobID = filter.jobID { filters["job_definition_id"] = .int(jobID) }
        if let statuses = filter.statuses { filters["status__in"] = .array(statuses.map { .int($0) }) }
        return SimEnvelope.wrap(
            .array(page.map { self.runJSON($0, now: now, include: filter.include) }),
            extra: paging.extra(count: page.count, total: matching.count, filters: filters, orderBy: filter.orderBy)
        )
    }

    /// `POST /runs/{id}/cancel/`: a queued or running run ends now as cancelled (30) and the job's
    /// queued runs move up; a run that has ended is answered as it is.
    mutating func cancelRun(idText: String, now: Double) throws(SimFailure) -> JSONValue {
        guard let id = Int(idText), let position = self.runPosition[id] else { throw .notFound }
        var run = self.runs[position]
        if run.isActive(at: now) {
            run.end = now
            run.outcome = .cancelled
            run.cancelledAt = now
            run.statusMessage = "Cancelled by the API."
            self.runs[position] = run
            self.replanQueue(jobID: run.jobID, now: now)
            self.counters.cancels += 1
        }
        return SimEnvelope.wrap(self.runJSON(run, now: now, include: SimRun.Include()))
    }

    /// After a cancel: the job's runs not yet dequeued start when every earlier run has ended.
    private mutating func replanQueue(jobID: Int, now: Double) {
        var earlierEnd = -Double.infinity
        for position in self.runs.indices where self.runs[position].jobID == jobID {
            var run = self.runs[position]
            if run.isActive(at: now), run.dequeuedAt > now, run.cancelledAt == nil {
                let dequeued = max(run.createdAt + 0.1 * run.duration + run.queueDelay, earlierEnd, now)
                run.dequeuedAt = dequeued
                run.startedAt = dequeued + 0.1 * run.duration
                run.planEnd()
                self.runs[position] = run
            }
            earlierEnd = max(earlierEnd, run.end)
        }
        self.busyUntil[jobID] = earlierEnd
    }

    // MARK: - Artifacts

    /// `GET /runs/{id}/artifacts/`: the files a finished run saved.
    func artifactList(runIDText: String, now: Double) throws(SimFailure) -> JSONValue {
        let run = try self.run(idText: runIDText)
        let saved = !run.isActive(at: now) && run.end >= run.startedAt
        return SimEnvelope.wrap(.array(saved ? [.string("manifest.json"), .string("run_results.json")] : []))
    }

    /// `GET /runs/{id}/artifacts/{path}`: the file itself, not enveloped; 404 until the run has
    /// ended having started, and for any other file.
    func artifact(runIDText: String, path: String, now: Double) throws(SimFailure) -> JSONValue {
        let run = try self.run(idText: runIDText)
        guard !run.isActive(at: now), run.end >= run.startedAt else { throw .notFound }
        switch path {
        case "run_results.json": return SimArtifacts.runResults(run, now: now)
        case "manifest.json": return SimArtifacts.manifest(run)
        default: throw .notFound
        }
    }
}

// MARK: - SimArtifacts

/// Small but well-formed dbt artifacts.
enum SimArtifacts {
    static let models = ["stg_customers", "stg_orders", "customers", "orders"]

    static func metadata(_ run: SimRun, schema: String) -> JSONValue {
        .object([
            "dbt_schema_version": .string("https://schemas.getdbt.com/dbt/\(schema).json"),
            "dbt_version": .string("1.9.0"),
            "generated_at": .string(SimTime.format(run.end).replacingSpace()),
            "invocation_id": .string("00000000-0000-4000-8000-\(String(run.id).leftPadded(to: 12))"),
            "env": .object([:]),
        ])
    }

    /// `run_results.json` (schema v6): one result per model; an errored run fails its last
    /// model and leaves none after it.
    static func runResults(_ run: SimRun, now: Double) -> JSONValue {
        let failed = run.outcome == .error
        let cancelled = run.outcome == .cancelled
        let results: [JSONValue] = self.models.enumerated().map { index, model in
            let last = index == self.models.count - 1
            let status = failed && last ? "error" : cancelled && index >= self.models.count / 2 ? "skipped" : "success"
            return .object([
                "status": .string(status),
                "timing": .array([]),
                "thread_id": .string("Thread-\(index % 4 + 1)"),
                "execution_time": .double(0.25 * Double(index + 1)),
                "adapter_response": .object([:]),
                "message": status == "error" ? .optional(run.statusMessage) : .string(status == "success" ? "SELECT 100" : "SKIP"),
                "failures": .null,
                "unique_id": .string("model.analytics.\(model)"),
                "compiled": .bool(status != "skipped"),
                "compiled_code": .null,
                "relation_name": .string("\"analytics\".\"prod\".\"\(model)\""),
            ])
        }
        return .object([
            "metadata": self.metadata(run, schema: "run-results/v6"),
            "results": .array(results),
            "elapsed_time": .double(max(0, run.end - run.startedAt)),
            "args": .object(["which": .string(run.commands.last.map { String($0.dropFirst(4)) } ?? "run")]),
        ])
    }

    /// The sources the models read: `raw.shop.<table>`.
    static let sources = ["customers", "orders"]

    /// What each model is built from (`depends_on.nodes`), by unique id.
    static func dependencies(of model: String) -> [String] {
        switch model {
        case "stg_customers": return ["source.analytics.shop.customers"]
        case "stg_orders": return ["source.analytics.shop.orders"]
        case "customers": return ["model.analytics.stg_customers", "model.analytics.stg_orders"]
        case "orders": return ["model.analytics.stg_orders"]
        default: return []
        }
    }

    /// `manifest.json` (schema v12), shaped like dbt's: the models as `nodes`, each with its
    /// `depends_on.nodes` and `relation_name`; the `sources` they read, with theirs.
    static func manifest(_ run: SimRun) -> JSONValue {
        var nodes = JSONObject()
        for model in self.models {
            nodes["model.analytics.\(model)"] = .object([
                "resource_type": .string("model"), "name": .string(model), "package_name": .string("analytics"),
                "path": .string("\(model).sql"), "unique_id": .string("model.analytics.\(model)"), "database": .string("analytics"), "schema": .string("prod"),
                "alias": .string(model), "relation_name": .string("\"analytics\".\"prod\".\"\(model)\""),
                "depends_on": .object(["macros": .array([]), "nodes": .array(self.dependencies(of: model).map { .string($0) })]),
            ])
        }
        var sources = JSONObject()
        for table in self.sources {
            sources["source.analytics.shop.\(table)"] = .object([
                "resource_type": .string("source"), "name": .string(table), "source_name": .string("shop"), "package_name": .string("analytics"),
                "unique_id": .string("source.analytics.shop.\(table)"), "database": .string("raw"), "schema": .string("shop"), "identifier": .string(table),
                "relation_name": .string("\"raw\".\"shop\".\"\(table)\""),
            ])
        }
        return .object([
            "metadata": self.metadata(run, schema: "manifest/v12"),
            "nodes": .object(nodes), "sources": .object(sources), "macros": .object([:]), "exposures": .object([:]),
        ])
    }
}

extension String {
    /// `2024-01-01 10:00:00.000000+00:00` → `2024-01-01T10:00:00.000000+00:00`.
    func replacingSpace() -> String {
        String(self.map { $0 == " " ? "T" : $0 })
    }
}
