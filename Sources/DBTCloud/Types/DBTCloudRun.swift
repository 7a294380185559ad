import Foundation
import VendorHTTP

// MARK: - DBTCloudRun

/// One run of a job, as `GET /runs/{id}/`, the run list and the trigger answer show it. Unknown
/// fields are ignored; the flags `is_complete` & co. are computed from `status` when missing.
public struct DBTCloudRun: Sendable, Hashable, Decodable {
    public var id: Int
    public var triggerID: Int?
    public var accountID: Int?
    public var projectID: Int?
    public var environmentID: Int?
    /// The job's id.
    public var jobDefinitionID: Int?
    public var status: DBTCloudRunStatus
    public var statusHumanized: String
    /// Why the run failed or was cancelled, in dbt Cloud's words; `nil` while fine.
    public var statusMessage: String?
    public var inProgress: Bool
    public var isComplete: Bool
    public var isSuccess: Bool
    public var isError: Bool
    public var isCancelled: Bool
    /// The run's page in dbt Cloud.
    public var href: String?
    public var gitBranch: String?
    public var gitSHA: String?
    public var dbtVersion: String?
    public var artifactsSaved: Bool?
    public var createdAt: Date?
    public var updatedAt: Date?
    public var dequeuedAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    /// With `include_related` `trigger`: the cause and overrides it was triggered with.
    public var trigger: DBTCloudTrigger?
    /// With `include_related` `run_steps`: its steps in order.
    public var runSteps: [DBTCloudRunStep]?

    public init(
        id: Int, status: DBTCloudRunStatus, jobDefinitionID: Int? = nil, statusMessage: String? = nil, href: String? = nil,
        trigger: DBTCloudTrigger? = nil, runSteps: [DBTCloudRunStep]? = nil
    ) {
        self.id = id
        self.status = status
        self.statusHumanized = status.humanized
        self.jobDefinitionID = jobDefinitionID
        self.statusMessage = statusMessage
        self.inProgress = !status.isTerminal
        self.isComplete = status.isTerminal
        self.isSuccess = status == .success
        self.isError = status == .error
        self.isCancelled = status == .cancelled
        self.href = href
        self.trigger = trigger
        self.runSteps = runSteps
    }

    private enum CodingKeys: String, CodingKey {
        case id, status, href, trigger
        case triggerID = "trigger_id"
        case accountID = "account_id"
        case projectID = "project_id"
        case environmentID = "environment_id"
        case jobDefinitionID = "job_definition_id"
        case jobID = "job_id"
        case statusHumanized = "status_humanized"
        case statusMessage = "status_message"
        case inProgress = "in_progress"
        case isComplete = "is_complete"
        case isSuccess = "is_success"
        case isError = "is_error"
        case isCancelled = "is_cancelled"
        case gitBranch = "git_branch"
        case gitSHA = "git_sha"
        case dbtVersion = "dbt_version"
        case artifactsSaved = "artifacts_saved"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case dequeuedAt = "dequeued_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case runSteps = "run_steps"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeID(forKey: .id)
        self.status = try container.decode(DBTCloudRunStatus.self, forKey: .status)
        self.statusHumanized = try container.decodeIfPresent(String.self, forKey: .statusHumanized) ?? self.status.humanized
        self.triggerID = try container.decodeIDIfPresent(forKey: .triggerID)
        self.accountID = try container.decodeIDIfPresent(forKey: .accountID)
        self.projectID = try container.decodeIDIfPresent(forKey: .projectID)
        self.environmentID = try container.decodeIDIfPresent(forKey: .environmentID)
        self.jobDefinitionID = try container.decodeIDIfPresent(forKey: .jobDefinitionID) ?? container.decodeIDIfPresent(forKey: .jobID)
        self.statusMessage = try container.decodeIfPresent(String.self, forKey: .statusMessage)
        let terminal = self.status.isTerminal
        self.inProgress = try container.decodeIfPresent(Bool.self, forKey: .inProgress) ?? !terminal
        self.isComplete = try container.decodeIfPresent(Bool.self, forKey: .isComplete) ?? terminal
        self.isSuccess = try container.decodeIfPresent(Bool.self, forKey: .isSuccess) ?? (self.status == .success)
        self.isError = try container.decodeIfPresent(Bool.self, forKey: .isError) ?? (self.status == .error)
        self.isCancelled = try container.decodeIfPresent(Bool.self, forKey: .isCancelled) ?? (self.status == .cancelled)
        self.href = try container.decodeIfPresent(String.self, forKey: .href)
        self.gitBranch = try container.decodeIfPresent(String.self, forKey: .gitBranch)
        self.gitSHA = try container.decodeIfPresent(String.self, forKey: .gitSHA)
        self.dbtVersion = try container.decodeIfPresent(String.self, forKey: .dbtVersion)
        self.artifactsSaved = try container.decodeIfPresent(Bool.self, forKey: .artifactsSaved)
        self.createdAt = try container.decodeTimestampIfPresent(forKey: .createdAt)
        self.updatedAt = try container.decodeTimestampIfPresent(forKey: .updatedAt)
        self.dequeuedAt = try container.decodeTimestampIfPresent(forKey: .dequeuedAt)
        self.startedAt = try container.decodeTimestampIfPresent(forKey: .startedAt)
        self.finishedAt = try container.decodeTimestampIfPresent(forKey: .finishedAt)
        self.trigger = try container.decodeIfPresent(DBTCloudTrigger.self, forKey: .trigger)
        self.runSteps = try container.decodeIfPresent([DBTCloudRunStep].self, forKey: .runSteps)
    }
}

// MARK: - DBTCloudRunStep

/// One step of a run (`run_steps[]`): `Clone git repository`, `Invoke dbt with \`dbt run\``, ...
public struct DBTCloudRunStep: Sendable, Hashable, Decodable {
    public var id: Int?
    /// 1-based position in the run.
    public var index: Int
    public var name: String
    public var status: DBTCloudRunStatus
    public var statusHumanized: String
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The step's log (possibly truncated by the API).
    public var logs: String?

    public init(index: Int, name: String, status: DBTCloudRunStatus, statusHumanized: String? = nil) {
        self.index = index
        self.name = name
        self.status = status
        self.statusHumanized = statusHumanized ?? status.humanized
    }

    private enum CodingKeys: String, CodingKey {
        case id, index, name, status, logs
        case statusHumanized = "status_humanized"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeIDIfPresent(forKey: .id)
        self.index = try container.decodeIDIfPresent(forKey: .index) ?? 0
        self.name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        self.status = try container.decode(DBTCloudRunStatus.self, forKey: .status)
        self.statusHumanized = try container.decodeIfPresent(String.self, forKey: .statusHumanized) ?? self.status.humanized
        self.startedAt = try container.decodeTimestampIfPresent(forKey: .startedAt)
        self.finishedAt = try container.decodeTimestampIfPresent(forKey: .finishedAt)
        self.logs = try container.decodeIfPresent(String.self, forKey: .logs)
    }

    /// The dbt command of an `Invoke dbt with \`dbt run\`` step (`dbt run`), else the name.
    public var shortName: String {
        if let open = self.name.firstIndex(of: "`"), let close = self.name.lastIndex(of: "`"), open < close {
            let command = self.name[self.name.index(after: open)..<close]
            if !command.isEmpty { return String(command) }
        }
        return self.name
    }
}

// MARK: - DBTCloudTrigger

/// What a run was triggered with (`include_related` `trigger`).
public struct DBTCloudTrigger: Sendable, Hashable, Decodable {
    public var id: Int?
    /// The free text given when triggering (at most 255 characters).
    public var cause: String?
    public var jobDefinitionID: Int?
    public var gitBranch: String?
    public var gitSHA: String?
    public var stepsOverride: [String]?
    public var threadsOverride: Int?
    public var createdAt: Date?

    public init(cause: String?) {
        self.cause = cause
    }

    private enum CodingKeys: String, CodingKey {
        case id, cause
        case jobDefinitionID = "job_definition_id"
        case gitBranch = "git_branch"
        case gitSHA = "git_sha"
        case stepsOverride = "steps_override"
        case threadsOverride = "threads_override"
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeIDIfPresent(forKey: .id)
        self.cause = try container.decodeIfPresent(String.self, forKey: .cause)
        self.jobDefinitionID = try container.decodeIDIfPresent(forKey: .jobDefinitionID)
        self.gitBranch = try container.decodeIfPresent(String.self, forKey: .gitBranch)
        self.gitSHA = try container.decodeIfPresent(String.self, forKey: .gitSHA)
        self.stepsOverride = try container.decodeIfPresent([String].self, forKey: .stepsOverride)
        self.threadsOverride = try container.decodeIDIfPresent(forKey: .threadsOverride)
        self.createdAt = try container.decodeTimestampIfPresent(forKey: .createdAt)
    }
}
