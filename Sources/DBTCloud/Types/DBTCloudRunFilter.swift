import VendorHTTP

// MARK: - DBTCloudRelated

/// What `include_related` asks the API to add to a run.
public struct DBTCloudRelated: RawRepresentable, Sendable, Hashable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let runSteps = DBTCloudRelated(rawValue: "run_steps")
    public static let trigger = DBTCloudRelated(rawValue: "trigger")
    public static let job = DBTCloudRelated(rawValue: "job")
    public static let environment = DBTCloudRelated(rawValue: "environment")
    public static let debugLogs = DBTCloudRelated(rawValue: "debug_logs")

    /// `["run_steps","trigger"]`: the list-like spelling dbt Cloud's Python clients send (and the
    /// API reads, like a comma list).
    static func queryValue(_ related: [DBTCloudRelated]) -> String {
        "[" + related.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]"
    }
}

// MARK: - DBTCloudRunFilter

/// The filters and order of `GET /runs/`.
public struct DBTCloudRunFilter: Sendable, Hashable {
    /// Runs of this job.
    public var jobDefinitionID: Int?
    public var environmentID: Int?
    public var projectID: Int?
    /// Runs in these statuses (`status__in=[1,2,3]`).
    public var statuses: [DBTCloudRunStatus]?
    /// `id`, `-id` (newest first), `created_at`, `-created_at`, `finished_at`, `-finished_at`.
    public var orderBy: String?
    public var includeRelated: [DBTCloudRelated]

    public init(
        jobDefinitionID: Int? = nil, environmentID: Int? = nil, projectID: Int? = nil, statuses: [DBTCloudRunStatus]? = nil,
        orderBy: String? = "-id", includeRelated: [DBTCloudRelated] = []
    ) {
        self.jobDefinitionID = jobDefinitionID
        self.environmentID = environmentID
        self.projectID = projectID
        self.statuses = statuses
        self.orderBy = orderBy
        self.includeRelated = includeRelated
    }

    var queryItems: [VendorRequest.QueryItem] {
        var items: [VendorRequest.QueryItem] = []
        if let jobDefinitionID { items.append(.init("job_definition_id", String(jobDefinitionID))) }
        if let environmentID { items.append(.init("environment_id", String(environmentID))) }
        if let projectID { items.append(.init("project_id", String(projectID))) }
        if let statuses, !statuses.isEmpty {
            items.append(.init("status__in", "[" + statuses.map { String($0.rawValue) }.joined(separator: ",") + "]"))
        }
        if let orderBy { items.append(.init("order_by", orderBy)) }
        if !includeRelated.isEmpty { items.append(.init("include_related", DBTCloudRelated.queryValue(includeRelated))) }
        return items
    }
}

// MARK: - DBTCloudPage

/// One page of a list, with what `extra` says about the whole.
public struct DBTCloudPage<Element: Sendable & Hashable>: Sendable, Hashable {
    public var data: [Element]
    /// `extra.pagination.total_count`: matching objects in all pages, when the API says.
    public var totalCount: Int?
    public var limit: Int
    public var offset: Int

    public init(data: [Element], totalCount: Int?, limit: Int, offset: Int) {
        self.data = data
        self.totalCount = totalCount
        self.limit = limit
        self.offset = offset
    }

    /// Whether another page may follow: `total_count` says so, or (without it) this page is full.
    public var hasMore: Bool {
        if let totalCount { return self.offset + self.data.count < totalCount && !self.data.isEmpty }
        return self.data.count >= self.limit
    }
}
