import JSONSchema

// The status query and reply on `<type>.pipeline.run.query` (request-reply). JSON, versioned;
// timestamps are RFC 3339 strings in UTC, ids are strings.

/// `{"workspace":"public","name":"pipeline-01"}` for one resource; without `name`, the
/// workspace's list; `{"allWorkspaces":true}` for every workspace. Lists come in pages: `limit`
/// (default 500, at most 1,000) from `offset` (default 0); the reply's `nextOffset` asks for the
/// next page.
public struct StatusQuery: Codable, Sendable, Hashable {
    public static let currentVersion = 1
    public static let defaultLimit = 500
    public static let maximumLimit = 1000

    public var version: Int?
    public var workspace: String?
    public var name: String?
    public var allWorkspaces: Bool?
    public var limit: Int?
    public var offset: Int?

    public init(workspace: String?, name: String? = nil, allWorkspaces: Bool = false, limit: Int? = nil, offset: Int? = nil) {
        self.version = Self.currentVersion
        self.workspace = workspace
        self.name = name
        self.allWorkspaces = allWorkspaces ? true : nil
        self.limit = limit
        self.offset = offset
    }
}

/// The answer to a status query.
public struct StatusReply: Codable, Sendable {
    /// 2: resources of any type; the vendor's fields are the driver's JSON (`vendor`, a run's
    /// `details`), no longer Hightouch's fixed ones.
    public static let currentVersion = 2

    public enum Kind: String, Codable, Sendable {
        case resource, list, error
    }

    public struct Failure: Codable, Sendable, Hashable {
        /// `notFound`, `badQuery` or `unavailable`.
        public var reason: String
        public var message: String

        public init(reason: String, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    public var version: Int
    public var kind: Kind
    public var resource: ResourceStatusView?
    public var resources: [ResourceStatusView]?
    /// For lists: how many resources match in all, and where the next page starts (absent on the
    /// last page).
    public var total: Int?
    public var nextOffset: Int?
    public var error: Failure?

    public static func one(_ resource: ResourceStatusView) -> StatusReply {
        StatusReply(version: currentVersion, kind: .resource, resource: resource)
    }

    public static func list(_ resources: [ResourceStatusView], total: Int? = nil, nextOffset: Int? = nil) -> StatusReply {
        StatusReply(version: currentVersion, kind: .list, resources: resources, total: total ?? resources.count, nextOffset: nextOffset)
    }

    public static func failure(_ reason: String, _ message: String) -> StatusReply {
        StatusReply(version: currentVersion, kind: .error, error: Failure(reason: reason, message: message))
    }
}

/// One labelled value of a resource's detail, as its driver shows it (`Sync: 20001 (icebase-excel-01)`).
public struct DetailRow: Codable, Sendable, Hashable {
    public var label: String
    public var value: String

    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }
}

/// One resource: the table's columns first, then the detail. Every resource type answers in
/// this shape: the engine's fields are typed, a driver's own are `vendor` and a run's `details`
/// (its JSON, as stored), with `vendorRows` and a run's `rows` saying how the driver shows them.
public struct ResourceStatusView: Codable, Sendable {
    public struct Run: Codable, Sendable, Hashable {
        /// The vendor's id of the run, or else the id of the command that caused it.
        public var id: String
        /// The id of the command that caused the run.
        public var key: String?
        /// The vendor's own status word.
        public var status: String
        /// The normalised phase: queued, running, succeeded, warning, failed, cancelled, timed_out.
        public var phase: String?
        /// pending, inprogress, succeeded, failed or cancelled.
        public var runtime: String
        public var createdAt: String?
        public var startedAt: String?
        public var finishedAt: String?
        /// 0…1, where the vendor says how far the run got.
        public var progress: Double?
        /// One short line, e.g. `rows 285/851`.
        public var summary: String?
        public var error: String?
        /// The vendor's own fields (the driver's JSON).
        public var details: JSONValue?
        /// The driver's labelled view of them.
        public var rows: [DetailRow]?
        public var recordedAt: String?
        /// When the run times out, if its spec sets a timeout.
        public var deadline: String?
        public var checkedAt: String?

        public init(id: String, status: String, runtime: String) {
            self.id = id
            self.status = status
            self.runtime = runtime
        }
    }

    public struct LastError: Codable, Sendable, Hashable {
        public var reason: String
        public var message: String
        public var commandId: String?
        public var at: String?

        public init(reason: String, message: String, commandId: String?, at: String?) {
            self.reason = reason
            self.message = message
            self.commandId = commandId
            self.at = at
        }
    }

    /// The last repair of the vendor objects.
    public struct Drift: Codable, Sendable, Hashable {
        public var found: String
        public var repair: String
        public var kind: String
        public var commandId: String?
        public var at: String?

        public init(found: String, repair: String, kind: String, commandId: String?, at: String?) {
            self.found = found
            self.repair = repair
            self.kind = kind
            self.commandId = commandId
            self.at = at
        }
    }

    public struct Command: Codable, Sendable, Hashable {
        public var id: String
        public var sequence: UInt64
        public var operation: String
        public var receivedAt: String?
        /// For the command in progress: how far it got and which replica holds it.
        public var stage: String?
        public var owner: String?

        public init(id: String, sequence: UInt64, operation: String, receivedAt: String?, stage: String? = nil, owner: String? = nil) {
            self.id = id
            self.sequence = sequence
            self.operation = operation
            self.receivedAt = receivedAt
            self.stage = stage
            self.owner = owner
        }
    }

    // The table: NAME | VERSION | TYPE | WORKSPACE | STATUS | RUNTIME | OWNER
    public var name: String
    public var version: String
    public var type: String
    public var workspace: String
    /// pending, active, error or deleted.
    public var status: String
    /// pending, inprogress, succeeded, failed or cancelled.
    public var runtime: String
    public var owner: String?

    // The detail
    public var resourceType: String
    public var generation: Int
    public var observedGeneration: Int
    /// What exists at the vendor for the resource (the driver's JSON; Hightouch: `modelID`,
    /// `modelSlug`, `syncID`, `syncSlug`).
    public var vendor: JSONValue?
    /// The driver's labelled view of `vendor`.
    public var vendorRows: [DetailRow]?
    /// Whether the resource type's vendor lets a run be cancelled (`factoryctl cancel`); absent
    /// from answers made without the driver.
    public var canCancel: Bool?
    public var currentRun: Run?
    public var lastRun: Run?
    public var lastError: LastError?
    public var lastDrift: Drift?
    public var lastCommand: Command?
    public var activeCommand: Command?
    public var createdAt: String?
    public var updatedAt: String?
    public var deletedAt: String?
    /// The applied spec; only in single-resource answers.
    public var spec: JSONValue?

    public init(name: String, version: String, workspace: String, status: String, runtime: String, owner: String?, resourceType: String, generation: Int, observedGeneration: Int) {
        self.name = name
        self.version = version
        self.type = "resource"
        self.workspace = workspace
        self.status = status
        self.runtime = runtime
        self.owner = owner
        self.resourceType = resourceType
        self.generation = generation
        self.observedGeneration = observedGeneration
    }

    /// A string member of `vendor`, e.g. `vendorValue("syncID")`.
    public func vendorValue(_ key: String) -> String? {
        vendor?[key]?.stringValue
    }
}
