import VendorHTTP

// MARK: - FivetranConnector

/// A connector (`GET /v1/connectors/{id}`'s `data`), as far as orchestrating it needs: identity,
/// schedule, pause, the last success and failure, and the status block. Unknown fields are
/// ignored; `config` is kept opaque.
public struct FivetranConnector: Sendable, Hashable, Decodable {
    /// The connector id, e.g. `shrank_paparazzi`.
    public var id: String
    public var groupID: String?
    /// The connector type, e.g. `google_sheets`, `postgres`.
    public var service: String?
    public var serviceVersion: Int?
    /// The schema name in the destination (`schema` or `schema.table` for some services).
    public var schema: String?
    public var connectedBy: String?
    public var createdAt: FivetranTimestamp?
    /// The end of the last successful sync; `nil` if none succeeded yet.
    public var succeededAt: FivetranTimestamp?
    /// The end of the last failed sync; `nil` if none failed.
    public var failedAt: FivetranTimestamp?
    public var paused: Bool
    public var pauseAfterTrial: Bool?
    /// Minutes between automatic syncs.
    public var syncFrequency: Int?
    /// `HH:MM`, for a daily sync frequency.
    public var dailySyncTime: String?
    public var scheduleType: FivetranScheduleType?
    public var status: Status
    /// The service's own configuration (opaque).
    public var config: VendorJSON?
    /// Present in the answer of `POST /test` only.
    public var setupTests: [FivetranSetupTest]?

    /// `status`.
    public struct Status: Sendable, Hashable, Decodable {
        public var setupState: FivetranSetupState
        public var syncState: FivetranSyncState
        /// `on_schedule` or `delayed`.
        public var updateState: String?
        /// Whether the current or next sync is a historical (re-)sync.
        public var isHistoricalSync: Bool?
        /// When a `rescheduled` sync may start.
        public var rescheduledFor: FivetranTimestamp?
        /// Things that need a person (reconnect, a failed sync's cause).
        public var tasks: [FivetranAlert]
        public var warnings: [FivetranAlert]

        private enum CodingKeys: String, CodingKey {
            case setupState = "setup_state", syncState = "sync_state", updateState = "update_state"
            case isHistoricalSync = "is_historical_sync", rescheduledFor = "rescheduled_for", tasks, warnings
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.setupState = try container.decode(FivetranSetupState.self, forKey: .setupState)
            self.syncState = try container.decode(FivetranSyncState.self, forKey: .syncState)
            self.updateState = try container.decodeIfPresent(String.self, forKey: .updateState)
            self.isHistoricalSync = try container.decodeIfPresent(Bool.self, forKey: .isHistoricalSync)
            self.rescheduledFor = try container.decodeIfPresent(FivetranTimestamp.self, forKey: .rescheduledFor)
            self.tasks = try container.decodeIfPresent([FivetranAlert].self, forKey: .tasks) ?? []
            self.warnings = try container.decodeIfPresent([FivetranAlert].self, forKey: .warnings) ?? []
        }
    }

    private enum CodingKeys: String, CodingKey {
        case id, schema, service, paused, status, config
        case groupID = "group_id", serviceVersion = "service_version", connectedBy = "connected_by"
        case createdAt = "created_at", succeededAt = "succeeded_at", failedAt = "failed_at"
        case pauseAfterTrial = "pause_after_trial", syncFrequency = "sync_frequency", dailySyncTime = "daily_sync_time"
        case scheduleType = "schedule_type", setupTests = "setup_tests"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.groupID = try container.decodeIfPresent(String.self, forKey: .groupID)
        self.service = try container.decodeIfPresent(String.self, forKey: .service)
        // Documented as an integer; some services answer with text.
        if let number = try? container.decodeIfPresent(Int.self, forKey: .serviceVersion) {
            self.serviceVersion = number
        } else {
            self.serviceVersion = (try? container.decodeIfPresent(String.self, forKey: .serviceVersion)).flatMap { $0.flatMap { Int($0) } }
        }
        self.schema = try container.decodeIfPresent(String.self, forKey: .schema)
        self.connectedBy = try container.decodeIfPresent(String.self, forKey: .connectedBy)
        self.createdAt = try container.decodeIfPresent(FivetranTimestamp.self, forKey: .createdAt)
        self.succeededAt = try container.decodeIfPresent(FivetranTimestamp.self, forKey: .succeededAt)
        self.failedAt = try container.decodeIfPresent(FivetranTimestamp.self, forKey: .failedAt)
        self.paused = try container.decode(Bool.self, forKey: .paused)
        self.pauseAfterTrial = try container.decodeIfPresent(Bool.self, forKey: .pauseAfterTrial)
        self.syncFrequency = try container.decodeIfPresent(Int.self, forKey: .syncFrequency)
        self.dailySyncTime = try container.decodeIfPresent(String.self, forKey: .dailySyncTime)
        self.scheduleType = try container.decodeIfPresent(FivetranScheduleType.self, forKey: .scheduleType)
        self.status = try container.decode(Status.self, forKey: .status)
        self.config = try container.decodeIfPresent(VendorJSON.self, forKey: .config)
        self.setupTests = try container.decodeIfPresent([FivetranSetupTest].self, forKey: .setupTests)
    }

    /// The later of the last success and the last failure, and whether it was a success;
    /// `nil` if the connector never finished a sync.
    public var lastCompletion: (at: FivetranTimestamp, succeeded: Bool)? {
        switch (self.succeededAt, self.failedAt) {
        case (nil, nil): return nil
        case (let success?, nil): return (success, true)
        case (nil, let failure?): return (failure, false)
        case (let success?, let failure?): return success >= failure ? (success, true) : (failure, false)
        }
    }
}

// MARK: - FivetranAlert

/// One of `status.tasks` or `status.warnings`.
public struct FivetranAlert: Sendable, Hashable, Decodable {
    public var code: String?
    public var message: String?
    public var details: VendorJSON?

    public init(code: String?, message: String?, details: VendorJSON? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }
}

// MARK: - FivetranSetupTest

/// One setup test's result (`setup_tests[]` of `POST /test`).
public struct FivetranSetupTest: Sendable, Hashable, Decodable {
    public var title: String
    public var status: FivetranSetupTestStatus
    public var message: String?
    public var details: VendorJSON?

    public init(title: String, status: FivetranSetupTestStatus, message: String? = nil, details: VendorJSON? = nil) {
        self.title = title
        self.status = status
        self.message = message
        self.details = details
    }

    private enum CodingKeys: String, CodingKey {
        case title, status, message, details
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.title = try container.decodeIfPresent(String.self, forKey: .title) ?? "(untitled test)"
        self.status = try container.decode(FivetranSetupTestStatus.self, forKey: .status)
        self.message = try container.decodeIfPresent(String.self, forKey: .message)
        switch try container.decodeIfPresent(VendorJSON.self, forKey: .details) {
        case nil, .null?: self.details = nil
        case let details?: self.details = details
        }
    }
}

// MARK: - FivetranConnectorUpdate

/// The fields of `PATCH /v1/connectors/{id}` this client changes; `nil` fields are not sent.
public struct FivetranConnectorUpdate: Sendable, Hashable, Encodable {
    public var scheduleType: FivetranScheduleType?
    public var paused: Bool?
    public var syncFrequency: Int?
    /// Fivetran runs the setup tests after an update unless told not to.
    public var runSetupTests: Bool?

    public init(scheduleType: FivetranScheduleType? = nil, paused: Bool? = nil, syncFrequency: Int? = nil, runSetupTests: Bool? = nil) {
        self.scheduleType = scheduleType
        self.paused = paused
        self.syncFrequency = syncFrequency
        self.runSetupTests = runSetupTests
    }

    /// Whether there is anything to send.
    public var isEmpty: Bool {
        self.scheduleType == nil && self.paused == nil && self.syncFrequency == nil && self.runSetupTests == nil
    }

    private enum CodingKeys: String, CodingKey {
        case scheduleType = "schedule_type", paused, syncFrequency = "sync_frequency", runSetupTests = "run_setup_tests"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.scheduleType, forKey: .scheduleType)
        try container.encodeIfPresent(self.paused, forKey: .paused)
        try container.encodeIfPresent(self.syncFrequency, forKey: .syncFrequency)
        try container.encodeIfPresent(self.runSetupTests, forKey: .runSetupTests)
    }
}

// MARK: - FivetranSetupTestResult

/// The answer of `POST /v1/connectors/{id}/test`: the connector after the tests, and the tests.
public struct FivetranSetupTestResult: Sendable, Hashable {
    public var connector: FivetranConnector
    public var tests: [FivetranSetupTest]

    /// Any test `FAILED`.
    public var hasFailures: Bool { self.tests.contains { $0.status == .failed } }
    /// Any test `WARNING`.
    public var hasWarnings: Bool { self.tests.contains { $0.status == .warning } }
}

// MARK: - FivetranMessage

/// The answer of the calls that return no object: `{"code": "Success", "message": "..."}`.
public struct FivetranMessage: Sendable, Hashable {
    public var code: String
    public var message: String?
}
