// MARK: - DBTCloudTriggerRequest

/// The body of `POST /jobs/{id}/run/`. Overrides left `nil` are not sent (the job's settings
/// apply); `cause` always is.
public struct DBTCloudTriggerRequest: Sendable, Hashable, Encodable {
    /// dbt Cloud refuses a longer cause (400); Airflow's provider truncates to it too.
    public static let maxCauseLength = 255

    /// Free text shown with the run; at most ``maxCauseLength`` characters.
    public var cause: String
    public var gitBranch: String?
    public var gitSHA: String?
    public var schemaOverride: String?
    /// dbt commands run instead of the job's, each starting with `dbt `.
    public var stepsOverride: [String]?
    public var threadsOverride: Int?
    public var targetNameOverride: String?
    public var generateDocsOverride: Bool?
    public var timeoutSecondsOverride: Int?
    public var dbtVersionOverride: String?

    public init(
        cause: String, gitBranch: String? = nil, gitSHA: String? = nil, schemaOverride: String? = nil, stepsOverride: [String]? = nil,
        threadsOverride: Int? = nil, targetNameOverride: String? = nil, generateDocsOverride: Bool? = nil, timeoutSecondsOverride: Int? = nil,
        dbtVersionOverride: String? = nil
    ) {
        self.cause = cause
        self.gitBranch = gitBranch
        self.gitSHA = gitSHA
        self.schemaOverride = schemaOverride
        self.stepsOverride = stepsOverride
        self.threadsOverride = threadsOverride
        self.targetNameOverride = targetNameOverride
        self.generateDocsOverride = generateDocsOverride
        self.timeoutSecondsOverride = timeoutSecondsOverride
        self.dbtVersionOverride = dbtVersionOverride
    }

    /// Python's `len`: code points, as dbt Cloud counts the 255.
    public var causeLength: Int { self.cause.unicodeScalars.count }

    private enum CodingKeys: String, CodingKey {
        case cause
        case gitBranch = "git_branch"
        case gitSHA = "git_sha"
        case schemaOverride = "schema_override"
        case stepsOverride = "steps_override"
        case threadsOverride = "threads_override"
        case targetNameOverride = "target_name_override"
        case generateDocsOverride = "generate_docs_override"
        case timeoutSecondsOverride = "timeout_seconds_override"
        case dbtVersionOverride = "dbt_version_override"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.cause, forKey: .cause)
        try container.encodeIfPresent(self.gitBranch, forKey: .gitBranch)
        try container.encodeIfPresent(self.gitSHA, forKey: .gitSHA)
        try container.encodeIfPresent(self.schemaOverride, forKey: .schemaOverride)
        try container.encodeIfPresent(self.stepsOverride, forKey: .stepsOverride)
        try container.encodeIfPresent(self.threadsOverride, forKey: .threadsOverride)
        try container.encodeIfPresent(self.targetNameOverride, forKey: .targetNameOverride)
        try container.encodeIfPresent(self.generateDocsOverride, forKey: .generateDocsOverride)
        try container.encodeIfPresent(self.timeoutSecondsOverride, forKey: .timeoutSecondsOverride)
        try container.encodeIfPresent(self.dbtVersionOverride, forKey: .dbtVersionOverride)
    }
}
