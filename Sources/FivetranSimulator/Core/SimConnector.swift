import SimulatorKit

// MARK: - SimSync

/// One sync of a connector. Its end and outcome are fixed when it starts, so the connector's
/// state at any instant follows from timestamps: no timer per sync.
struct SimSync: Sendable {
    enum Kind: Sendable, Hashable {
        /// An incremental sync.
        case sync
        /// A historical re-sync of the whole connector (`scope` nil) or of some tables.
        case resync(scope: [String: [String]]?)

        var isHistorical: Bool {
            if case .resync = self { return true }
            return false
        }
    }

    let kind: Kind
    let start: Double
    let end: Double
    let outcome: FivetranSimulator.SyncOutcome
    /// The failure's message (a task on the connector), for a failed sync.
    let message: String?
}

// MARK: - SimSetupTest

struct SimSetupTest: Sendable {
    let title: String
    let status: String
    let message: String

    var json: SimJSON {
        .object(["title": .string(self.title), "status": .string(self.status), "message": .string(self.message), "details": .null])
    }
}

// MARK: - SimConnector

/// A connector and its syncs.
///
/// `sync_state` follows: `paused` while paused, `syncing` while a sync runs, `rescheduled` while a
/// requested sync waits for `rescheduled_for`, `scheduled` otherwise. A sync's end moves
/// `succeeded_at` or `failed_at` to that instant (microseconds).
struct SimConnector: Sendable {
    let id: String
    let groupID: String
    let service: String
    let schema: String
    let createdAt: Double
    var paused: Bool
    var scheduleType: String
    var syncFrequency = 360
    var dailySyncTime = "00:00"
    var pauseAfterTrial = false
    var setupState: String
    var succeededAt: Double?
    var failedAt: Double?
    var config: SimObject
    /// The sync running now, or one that has ended and is not settled yet.
    var active: SimSync?
    /// A requested sync deferred until this instant (`sync_state: rescheduled`).
    var rescheduledFor: Double?
    var rescheduledKind: SimSync.Kind?
    /// A sync or re-sync asked for while paused: it starts when the connector is unpaused, as
    /// Fivetran documents for re-syncs of a paused connector.
    var pendingWhilePaused: SimSync.Kind?
    /// The last sync's failure message, shown as a task until a sync succeeds.
    var failureTask: String?
    /// The last ended sync was historical (`is_historical_sync` until the next one).
    var lastWasHistorical = false

    init(seed: FivetranSimulator.SeedConnector, now: Double) {
        self.id = seed.id
        self.groupID = seed.groupID
        self.service = seed.service
        self.schema = seed.schema
        // Established: created a week ago, last synced successfully an hour ago.
        self.createdAt = now - 7 * 86_400
        self.paused = seed.paused
        self.scheduleType = seed.scheduleType
        self.setupState = seed.setupState
        self.succeededAt = now - 3_600 + 0.123456
        self.failedAt = nil
        self.config = [
            "host": .string("\(seed.service).internal.example.com"),
            "port": .int(5432),
            "database": "analytics",
            "user": "fivetran",
            "password": "******",
            "update_method": "XMIN",
        ]
    }

    var syncState: String {
        if self.paused { return "paused" }
        if self.active != nil { return "syncing" }
        if self.rescheduledFor != nil { return "rescheduled" }
        return "scheduled"
    }

    /// The connector as `GET /v1/connectors/{id}` shows it.
    func json(now: Double) -> SimJSON {
        var status: SimObject = [
            "setup_state": .string(self.setupState),
            "schema_status": "ready",
            "sync_state": .string(self.syncState),
            "update_state": .string(Self.isLater(self.failedAt, than: self.succeededAt) ? "delayed" : "on_schedule"),
            "is_historical_sync": .bool(self.active?.kind.isHistorical ?? self.lastWasHistorical),
        ]
        var tasks: [SimJSON] = []
        if let failureTask {
            tasks.append(.object(["code": "sync_failed", "message": .string(failureTask), "details": .object([:])]))
        }
        if self.setupState != "connected" {
            tasks.append(.object([
                "code": "resolve_setup_test_failures",
                "message": .string("Setup tests have not passed (setup_state \(self.setupState)); run them and fix what they report"),
                "details": .object([:]),
            ]))
        }
        status["tasks"] = .array(tasks)
        status["warnings"] = .array([])
        if let rescheduledFor, self.syncState == "rescheduled" {
            status["rescheduled_for"] = .string(SimTimestamp.format(rescheduledFor))
        }
        return .object([
            "id": .string(self.id),
            "group_id": .string(self.groupID),
            "service": .string(self.service),
            "service_version": .int(1),
            "schema": .string(self.schema),
            "connected_by": "concerning_batch",
            "created_at": .string(SimTimestamp.format(self.createdAt)),
            "succeeded_at": self.succeededAt.map { .string(SimTimestamp.format($0)) } ?? .null,
            "failed_at": self.failedAt.map { .string(SimTimestamp.format($0)) } ?? .null,
            "paused": .bool(self.paused),
            "pause_after_trial": .bool(self.pauseAfterTrial),
            "sync_frequency": .int(self.syncFrequency),
            "daily_sync_time": .string(self.dailySyncTime),
            "schedule_type": .string(self.scheduleType),
            "status": .object(status),
            "config": .object(self.config),
        ])
    }

    static func isLater(_ lhs: Double?, than rhs: Double?) -> Bool {
        guard let lhs else { return false }
        guard let rhs else { return true }
        return lhs > rhs
    }
}
