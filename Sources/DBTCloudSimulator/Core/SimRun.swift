import JSONSchema

// MARK: - SimTrigger

/// What a trigger asked for (`POST /jobs/{id}/run/` body), as received; `nil` = not sent or null.
struct SimTrigger: Sendable, Hashable {
    var cause: String
    var gitBranch: String?
    var gitSHA: String?
    var schemaOverride: String?
    var stepsOverride: [String]?
    var threadsOverride: Int?
    var targetNameOverride: String?
    var generateDocsOverride: Bool?
    var timeoutSecondsOverride: Int?
    var dbtVersionOverride: String?
    var azurePullRequestID: Int?
    var githubPullRequestID: Int?
    var gitlabMergeRequestID: Int?
}

// MARK: - SimRun

/// One run. Its whole timeline is fixed when it is created (dequeue, start, each step, end,
/// outcome), so its status at any instant is computed on read: no timer per run.
///
/// With duration D on an idle job: queued 0.1 D (plus the queue-delay knob), starting 0.1 D,
/// running 0.8 D shared equally by the steps (two set-up steps, then one per dbt command). An
/// `error` run ends when its failing step ends; a `cancelled` one halfway through running; one
/// cancelled through the API at that instant. A job runs one run at a time: a run triggered while
/// another is active stays queued until that one ends.
struct SimRun: Sendable {
    let id: Int
    let jobID: Int
    let triggerID: Int
    let trigger: SimTrigger
    let createdAt: Double
    /// Status 1 → 2.
    var dequeuedAt: Double
    /// Status 2 → 3.
    var startedAt: Double
    let duration: Double
    var outcome: DBTCloudSimulator.RunOutcome
    var end: Double
    /// Step names in order.
    let steps: [String]
    /// The dbt command steps (index into `steps`) the run executes.
    let firstCommandStep: Int
    /// The step that fails an `error` run (index into `steps`).
    var failingStep: Int?
    var statusMessage: String?
    /// Set when cancelled through the API (the end moved to that instant).
    var cancelledAt: Double?
    /// The errored run this one reruns from its failing step, if any.
    let rerunOf: Int?
    let gitSHA: String
    let queueDelay: Double

    static let setupSteps = ["Clone git repository", "Create profile from connection"]

    static func stepName(_ command: String) -> String { "Invoke dbt with `\(command)`" }

    /// The dbt commands of the run (`dbt run`), from its steps' names.
    var commands: [String] {
        self.steps[self.firstCommandStep...].map { name in
            guard let open = name.firstIndex(of: "`"), let close = name.lastIndex(of: "`"), open < close else { return name }
            return String(name[name.index(after: open)..<close])
        }
    }

    var stepLength: Double { 0.8 * self.duration / Double(max(1, self.steps.count)) }
    func stepStart(_ index: Int) -> Double { self.startedAt + Double(index) * self.stepLength }
    func stepEnd(_ index: Int) -> Double { self.startedAt + Double(index + 1) * self.stepLength }

    /// When a run with this outcome ends, from its start.
    mutating func planEnd() {
        switch self.outcome {
        case .success: self.end = self.startedAt + 0.8 * self.duration
        case .error: self.end = self.stepEnd(self.failingStep ?? (self.steps.count - 1))
        case .cancelled: self.end = self.startedAt + 0.4 * self.duration
        }
    }

    // MARK: Status

    func status(at time: Double) -> Int {
        if time >= self.end { return self.outcome.status }
        if time < self.dequeuedAt { return 1 }
        if time < self.startedAt { return 2 }
        return 3
    }

    func isActive(at time: Double) -> Bool { time < self.end }

    static func humanized(_ status: Int) -> String {
        switch status {
        case 1: "Queued"
        case 2: "Starting"
        case 3: "Running"
        case 10: "Success"
        case 20: "Error"
        case 30: "Cancelled"
        default: "Unknown"
        }
    }

    /// A step's status and word at `time`. Steps the run never reached keep 1 and read `Skipped`
    /// once it has ended (dbt Cloud documents no code for them).
    func step(_ index: Int, at time: Double) -> (status: Int, humanized: String) {
        let start = self.stepStart(index)
        let stepEnd = self.stepEnd(index)
        let effective = min(time, self.end)
        if effective < start || start >= self.end {
            return time >= self.end ? (1, "Skipped") : (1, "Queued")
        }
        if time < self.end && effective < stepEnd { return (3, "Running") }
        if time >= self.end, self.outcome == .error, index == self.failingStep { return (20, "Error") }
        if stepEnd <= self.end { return (10, "Success") }
        // The step in progress when the run was cancelled.
        return self.outcome == .success ? (10, "Success") : (30, "Cancelled")
    }

    // MARK: JSON

    struct Include: Sendable {
        var runSteps = false
        var trigger = false
        var job = false
        var environment = false
        var debugLogs = false
    }

    /// The run as `GET /runs/{id}/` shows it at `time`.
    func json(at time: Double, accountID: Int, job: DBTCloudSimulator.Job?, href: String, include: Include) -> JSONValue {
        let status = self.status(at: time)
        let complete = time >= self.end
        let dequeued = min(time, self.end) >= self.dequeuedAt
        let started = min(time, self.end) >= self.startedAt
        let finishedAt = complete ? self.end : nil
        let updated = min(time, self.end)

        var object = JSONObject()
        object["id"] = .int(self.id)
        object["trigger_id"] = .int(self.triggerID)
        object["account_id"] = .int(accountID)
        object["environment_id"] = .optional(job?.environmentID)
        object["project_id"] = .optional(job?.projectID)
        object["job_definition_id"] = .int(self.jobID)
        object["status"] = .int(status)
        object["dbt_version"] = .string(self.trigger.dbtVersionOverride ?? "1.9.0-latest")
        object["git_branch"] = .string(self.trigger.gitBranch ?? "main")
        object["git_sha"] = .string(self.trigger.gitSHA ?? self.gitSHA)
        object["status_message"] = complete && self.outcome != .success ? .optional(self.statusMessage) : .null
        object["owner_thread_id"] = .null
        object["executed_by_thread_id"] = dequeued ? .string("dbt-run-\(self.id)-sim") : .null
        object["deferring_run_id"] = .null
        object["artifacts_saved"] = .bool(complete && started)
        object["artifact_s3_path"] = complete && started ? .string("prod/runs/\(self.id)/artifacts/target") : .null
        object["has_docs_generated"] = .bool(false)
        object["has_sources_generated"] = .bool(false)
        object["notifications_sent"] = .bool(complete)
        object["blocked_by"] = .array([])
        object["created_at"] = .string(SimTime.format(self.createdAt))
        object["updated_at"] = .string(SimTime.format(max(self.createdAt, updated)))
        object["dequeued_at"] = dequeued ? .string(SimTime.format(self.dequeuedAt)) : .null
        object["started_at"] = started ? .string(SimTime.format(self.startedAt)) : .null
        object["finished_at"] = finishedAt.map { .string(SimTime.format($0)) } ?? .null
        object["last_checked_at"] = started ? .string(SimTime.format(updated)) : .null
        object["last_heartbeat_at"] = started ? .string(SimTime.format(updated)) : .null
        object["should_start_at"] = .null
        object["trigger"] = include.trigger ? self.triggerJSON(accountID: accountID) : .null
        object["job"] = include.job ? (job.map { SimJobJSON.json($0, accountID: accountID, createdAt: self.createdAt) } ?? .null) : .null
        object["environment"] = include.environment ? (job.map(SimJobJSON.environment) ?? .null) : .null
        object["run_steps"] = include.runSteps ? .array(self.steps.indices.map { self.stepJSON($0, at: time, accountID: accountID, debugLogs: include.debugLogs) }) : .array([])
        object["status_humanized"] = .string(Self.humanized(status))
        object["in_progress"] = .bool(!complete)
        object["is_complete"] = .bool(complete)
        object["is_success"] = .bool(status == 10)
        object["is_error"] = .bool(status == 20)
        object["is_cancelled"] = .bool(status == 30)
        object["is_running"] = .bool(status == 3)
        object["href"] = .string(href)
        let total = updated - self.createdAt
        let queued = (dequeued ? self.dequeuedAt : updated) - self.createdAt
        let running = started ? updated - self.startedAt : 0
        object["duration"] = .string(SimTime.clock(total))
        object["queued_duration"] = .string(SimTime.clock(queued))
        object["run_duration"] = .string(SimTime.clock(running))
        object["duration_humanized"] = .string(SimTime.humanized(total))
        object["queued_duration_humanized"] = .string(SimTime.humanized(queued))
        object["run_duration_humanized"] = .string(SimTime.humanized(running))
        object["created_at_humanized"] = .string(SimTime.humanized(time - self.createdAt) + " ago")
        object["finished_at_humanized"] = finishedAt.map { .string(SimTime.humanized(time - $0) + " ago") } ?? .string("0 minutes from now")
        object["retrying_run_id"] = .optional(self.rerunOf)
        object["can_retry"] = .bool(complete && status == 20)
        object["job_id"] = .int(self.jobID)
        return .object(object)
    }

    func triggerJSON(accountID: Int) -> JSONValue {
        let trigger = self.trigger
        return .object([
            "id": .int(self.triggerID),
            "cause": .string(trigger.cause),
            "job_definition_id": .int(self.jobID),
            "git_branch": .optional(trigger.gitBranch),
            "git_sha": .optional(trigger.gitSHA),
            "azure_pull_request_id": .optional(trigger.azurePullRequestID),
            "github_pull_request_id": .optional(trigger.githubPullRequestID),
            "gitlab_merge_request_id": .optional(trigger.gitlabMergeRequestID),
            "schema_override": .optional(trigger.schemaOverride),
            "dbt_version_override": .optional(trigger.dbtVersionOverride),
            "threads_override": .optional(trigger.threadsOverride),
            "target_name_override": .optional(trigger.targetNameOverride),
            "generate_docs_override": trigger.generateDocsOverride.map { .bool($0) } ?? .null,
            "timeout_seconds_override": .optional(trigger.timeoutSecondsOverride),
            "steps_override": trigger.stepsOverride.map { .array($0.map { .string($0) }) } ?? .null,
            "created_at": .string(SimTime.format(self.createdAt)),
            "cause_humanized": .string(trigger.cause),
            "job": .null,
        ])
    }

    func stepJSON(_ index: Int, at time: Double, accountID: Int, debugLogs: Bool) -> JSONValue {
        let (status, humanized) = self.step(index, at: time)
        let start = self.stepStart(index)
        let started = status != 1
        let finished = status >= 10
        let finishedAt = finished ? min(self.stepEnd(index), self.end) : nil
        let name = self.steps[index]
        var logs = ""
        if started {
            logs = "\(SimTime.format(start))  Began \(name.lowercased())"
            if let finishedAt {
                logs += "\n\(SimTime.format(finishedAt))  \(status == 20 ? (self.statusMessage ?? "Error") : status == 30 ? "Cancelled" : "Completed successfully")"
            }
        }
        var object: JSONObject = [
            "id": .int(self.id * 100 + index + 1),
            "run_id": .int(self.id),
            "account_id": .int(accountID),
            "index": .int(index + 1),
            "status": .int(status),
            "name": .string(name),
            "logs": .string(logs),
            "debug_logs": .string(debugLogs ? logs : ""),
            "log_location": .string("db"),
            "log_path": .null,
            "debug_log_path": .null,
            "log_archive_type": .string("db"),
            "truncated_debug_logs": .string(debugLogs ? logs : ""),
            "created_at": .string(SimTime.format(self.createdAt)),
            "updated_at": .string(SimTime.format(min(time, self.end))),
            "started_at": started ? .string(SimTime.format(start)) : .null,
            "finished_at": finishedAt.map { .string(SimTime.format($0)) } ?? .null,
            "status_color": .string(status == 10 ? "green" : status == 20 ? "red" : status == 3 ? "blue" : "gray"),
            "status_humanized": .string(humanized),
        ]
        let elapsed = started ? (finishedAt ?? min(time, self.end)) - start : 0
        object["duration"] = .string(SimTime.clock(elapsed))
        object["duration_humanized"] = .string(SimTime.humanized(elapsed))
        return .object(object)
    }
}

// MARK: - SimJobJSON

enum SimJobJSON {
    static func json(_ job: DBTCloudSimulator.Job, accountID: Int, createdAt: Double) -> JSONValue {
        .object([
            "id": .int(job.id),
            "account_id": .int(accountID),
            "project_id": .int(job.projectID),
            "environment_id": .int(job.environmentID),
            "name": .string(job.name),
            "description": .string(""),
            "dbt_version": .null,
            "created_at": .string(SimTime.format(createdAt)),
            "updated_at": .string(SimTime.format(createdAt)),
            "execute_steps": .array(job.executeSteps.map { .string($0) }),
            "state": .int(job.state),
            "deactivated": .bool(job.state != 1),
            "run_failure_count": .int(0),
            "deferring_job_definition_id": .null,
            "lifecycle_webhooks": .bool(false),
            "lifecycle_webhooks_url": .null,
            "triggers": .object([
                "github_webhook": .bool(false), "git_provider_webhook": .bool(false), "schedule": .bool(false), "on_merge": .bool(false),
            ]),
            "settings": .object(["threads": .int(4), "target_name": .string("default")]),
            "execution": .object(["timeout_seconds": .int(0)]),
            "generate_docs": .bool(false),
            "run_generate_sources": .bool(false),
            "schedule": .object([
                "cron": .string("0 * * * *"),
                "date": .object(["type": .string("every_day")]),
                "time": .object(["type": .string("every_hour"), "interval": .int(1)]),
            ]),
            "job_type": .string("scheduled"),
            "is_deferrable": .bool(false),
            "project": .object(["id": .int(job.projectID), "account_id": .int(accountID), "name": .string(job.projectName)]),
            "environment": environment(job),
            "cron_humanized": .string("Every hour"),
            "next_run": .null,
            "next_run_humanized": .null,
        ])
    }

    static func environment(_ job: DBTCloudSimulator.Job) -> JSONValue {
        .object([
            "id": .int(job.environmentID), "project_id": .int(job.projectID), "name": .string(job.environmentName),
            "type": .string("deployment"), "deployment_type": .string("production"), "state": .int(1),
        ])
    }
}
