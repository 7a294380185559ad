import Foundation

// MARK: - DBTCloudJob

/// A job (`GET /jobs/{id}/`): what a run executes. The operator does not create or change jobs;
/// it reads them to check they exist and to describe them.
public struct DBTCloudJob: Sendable, Hashable, Decodable {
    /// A project or an environment as the job names it.
    public struct Related: Sendable, Hashable, Decodable {
        public var id: Int
        public var name: String?

        public init(id: Int, name: String?) {
            self.id = id
            self.name = name
        }

        private enum CodingKeys: String, CodingKey { case id, name }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decodeID(forKey: .id)
            self.name = try container.decodeIfPresent(String.self, forKey: .name)
        }
    }

    public var id: Int
    public var accountID: Int?
    public var projectID: Int?
    public var environmentID: Int?
    public var name: String
    /// The dbt commands a run executes (`dbt build`, ...), unless a trigger overrides them.
    public var executeSteps: [String]
    /// 1 active, 2 deleted.
    public var state: Int?
    public var project: Related?
    public var environment: Related?

    /// `state` 2: the job was deleted (dbt Cloud keeps it readable).
    public var isDeleted: Bool { self.state == 2 }

    public init(id: Int, name: String, projectID: Int? = nil, environmentID: Int? = nil, executeSteps: [String] = [], state: Int? = 1) {
        self.id = id
        self.name = name
        self.projectID = projectID
        self.environmentID = environmentID
        self.executeSteps = executeSteps
        self.state = state
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, state, project, environment
        case accountID = "account_id"
        case projectID = "project_id"
        case environmentID = "environment_id"
        case executeSteps = "execute_steps"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeID(forKey: .id)
        self.accountID = try container.decodeIDIfPresent(forKey: .accountID)
        self.projectID = try container.decodeIDIfPresent(forKey: .projectID)
        self.environmentID = try container.decodeIDIfPresent(forKey: .environmentID)
        self.name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        self.executeSteps = try container.decodeIfPresent([String].self, forKey: .executeSteps) ?? []
        self.state = try container.decodeIDIfPresent(forKey: .state)
        self.project = try? container.decodeIfPresent(Related.self, forKey: .project)
        self.environment = try? container.decodeIfPresent(Related.self, forKey: .environment)
    }
}
