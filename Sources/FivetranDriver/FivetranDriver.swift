import FactoryEngine
import FactoryModel
import FactoryState
import Fivetran
import Foundation
import JSONSchema
import VendorHTTP

/// The `fivetran` resource type: one Fivetran connector, named by its id, and an action on it.
///
/// The operator does not own the connector: `ensure` checks it exists and prepares it for an
/// orchestrated sync (schedule `manual` unless `keepSchedule`; unpaused only with `unpause`),
/// and `delete` leaves it as it is.
///
/// Fivetran's syncs have no id. A run is the connector's next sync end after the trigger: the
/// baseline is the connector's `succeeded_at`, `failed_at` and `sync_state` just before it, and
/// the run has succeeded when `succeeded_at` moves past the baseline, failed when `failed_at`
/// does. A sync already running when `START` asks counts as the run (Fivetran's sync call without
/// `force` lets it go on). The resume check after a lost trigger answer is the same comparison:
/// a connector syncing, newly rescheduled, or with a time past the baseline was triggered.
/// Fivetran cannot cancel a sync, so a run past its timeout is recorded `timed_out` and left to
/// finish at Fivetran (detached).
public struct FivetranDriver: ResourceDriver {
    public let client: FivetranClient
    public let defaults: Defaults

    /// What a spec does not say: from FIVETRAN_DONT_DISABLE_SYNC and FIVETRAN_TIMEOUT.
    public struct Defaults: Sendable, Hashable {
        public var keepSchedule: Bool
        public var timeout: Duration

        public init(keepSchedule: Bool = false, timeout: Duration = .seconds(300)) {
            self.keepSchedule = keepSchedule
            self.timeout = timeout
        }
    }

    public init(client: FivetranClient, defaults: Defaults = Defaults()) {
        self.client = client
        self.defaults = defaults
    }

    public var descriptor: DriverDescriptor { Self.descriptor }
    public var summary: String {
        "\(client.description), default timeout \(DurationParser.format(defaults.timeout))\(defaults.keepSchedule ? ", schedules kept" : "")"
    }

    // MARK: - Associated values

    /// The connector, as Fivetran names it.
    public struct Objects: DriverValue, Codable, Hashable {
        public var connectorID: String
        public var groupID: String?
        public var service: String?
        /// The schema in the destination.
        public var schema: String?

        public init(connectorID: String, groupID: String? = nil, service: String? = nil, schema: String? = nil) {
            self.connectorID = connectorID
            self.groupID = groupID
            self.service = service
            self.schema = schema
        }

        init(_ connector: FivetranConnector) {
            self.init(connectorID: connector.id, groupID: connector.groupID, service: connector.service, schema: connector.schema)
        }

        private enum CodingKeys: String, CodingKey {
            case connectorID = "connectorId", groupID = "groupId", service, schema
        }
    }

    /// What the connector showed just before a trigger.
    public struct Baseline: DriverValue, Codable, Hashable {
        public var succeededAt: FivetranTimestamp?
        public var failedAt: FivetranTimestamp?
        public var syncState: String?

        public init(succeededAt: FivetranTimestamp? = nil, failedAt: FivetranTimestamp? = nil, syncState: String? = nil) {
            self.succeededAt = succeededAt
            self.failedAt = failedAt
            self.syncState = syncState
        }

        init(_ connector: FivetranConnector) {
            self.init(succeededAt: connector.succeededAt, failedAt: connector.failedAt, syncState: connector.status.syncState.rawValue)
        }
    }

    /// A run: the connector, the action, and the sync end times it must move past.
    public struct RunReference: DriverValue, Codable, Hashable {
        public var connectorID: String
        public var action: Action
        public var succeededAt: FivetranTimestamp?
        public var failedAt: FivetranTimestamp?
        /// `FORCE_RESYNC`'s table.
        public var schema: String?
        public var table: String?

        public init(
            connectorID: String, action: Action, succeededAt: FivetranTimestamp? = nil, failedAt: FivetranTimestamp? = nil,
            schema: String? = nil, table: String? = nil
        ) {
            self.connectorID = connectorID
            self.action = action
            self.succeededAt = succeededAt
            self.failedAt = failedAt
            self.schema = schema
            self.table = table
        }

        private enum CodingKeys: String, CodingKey {
            case connectorID = "connectorId", action, succeededAt, failedAt, schema, table
        }
    }

    public func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        try Self.readSpec(spec, defaults: defaults)
    }

    public func runTimeout(_ spec: Spec) -> Duration? { spec.timeout }

    // MARK: - Ensure

    /// The connector must exist. Before a sync, it is prepared: switched to manual scheduling
    /// (unless `keepSchedule`), so Fivetran starts no sync of its own meanwhile, and unpaused if
    /// paused and `unpause` says so (refused otherwise). STATUS and TEST change nothing.
    public func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        let connector = try await read(spec.connectorID)
        guard spec.action.syncs else { return Objects(connector) }
        return Objects(try await prepare(connector, spec))
    }

    /// One PATCH with what must change (nothing when the connector is ready).
    private func prepare(_ connector: FivetranConnector, _ spec: Spec) async throws(VendorFailure) -> FivetranConnector {
        var update = FivetranConnectorUpdate()
        if connector.paused {
            guard spec.unpause else {
                throw VendorFailure(
                    kind: .rejected, reason: "connectorPaused",
                    message: "Fivetran connector \(connector.id) is paused; unpause it in Fivetran, or set spec.unpause: true to let the operator unpause it before syncing"
                )
            }
            update.paused = false
        }
        if !spec.keepSchedule, connector.scheduleType != .manual {
            update.scheduleType = .manual
        }
        guard !update.isEmpty else { return connector }
        // Fivetran runs the setup tests after a change by default; a schedule change needs none.
        update.runSetupTests = false
        do {
            return try await client.updateConnector(id: connector.id, update)
        } catch {
            throw Self.classify(error, doing: "prepare connector \(connector.id) (\(Self.describe(update)))")
        }
    }

    // MARK: - Baseline

    /// Before a sync: the connector's last success and failure and its sync state. The
    /// connector is prepared again here, because a `run` command triggers without an ensure.
    public func baseline(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> Baseline {
        guard spec.action.syncs else { return Baseline() }
        let connector = try await prepare(try await read(objects.connectorID), spec)
        if spec.action == .forceResync, connector.status.syncState == .syncing {
            // Fivetran declines a re-sync during a sync (409). Waiting here, before the intent is
            // recorded, keeps the sync that is running from being taken for the re-sync.
            throw VendorFailure(
                kind: .transient, reason: "connectorBusy",
                message: "Fivetran connector \(connector.id) is syncing; the re-sync of \(spec.schema ?? "?").\(spec.table ?? "?") waits until that sync ends"
            )
        }
        return Baseline(connector)
    }

    // MARK: - Runs

    public func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        let id = objects.connectorID
        switch spec.action {
        case .status:
            let connector = try await read(id)
            return TriggeredRun(reference: RunReference(connectorID: id, action: .status), observation: FivetranObservations.status(connector))
        case .test:
            do {
                let result = try await client.runSetupTests(connectorID: id)
                return TriggeredRun(reference: RunReference(connectorID: id, action: .test), observation: FivetranObservations.tests(result))
            } catch {
                throw Self.classify(error, doing: "run the setup tests of connector \(id)")
            }
        case .start, .forceResync:
            // The times this run must move past, read as close to the trigger as possible.
            let before = try await read(id)
            let reference = RunReference(
                connectorID: id, action: spec.action, succeededAt: before.succeededAt, failedAt: before.failedAt, schema: spec.schema, table: spec.table
            )
            do {
                if spec.action == .start {
                    try await client.syncConnector(id: id)
                } else {
                    try await client.resyncTable(connectorID: id, schema: spec.schema ?? "", table: spec.table ?? "")
                }
            } catch {
                throw Self.classify(error, doing: spec.action == .start ? "start a sync of connector \(id)" : "re-sync \(spec.schema ?? "?").\(spec.table ?? "?") of connector \(id)")
            }
            return TriggeredRun(reference: reference, observation: FivetranObservations.sync(before, reference, justTriggered: true))
        }
    }

    /// A sync this command may have started before a crash or a lost answer: the connector
    /// syncing, newly rescheduled, or with `succeeded_at`/`failed_at` past the baseline. STATUS
    /// and TEST change nothing that lasts; repeating them is harmless, so there is nothing to find.
    public func runs(since point: ResumePoint<Baseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        guard spec.action.syncs, let baseline = point.baseline else { return [] }
        let connector = try await read(objects.connectorID)
        let moved = FivetranTimestamp.isNewer(connector.succeededAt, than: baseline.succeededAt)
            || FivetranTimestamp.isNewer(connector.failedAt, than: baseline.failedAt)
        let syncing = connector.status.syncState == .syncing
        let newlyRescheduled = connector.status.syncState == .rescheduled && baseline.syncState != FivetranSyncState.rescheduled.rawValue
        guard moved || syncing || newlyRescheduled else { return [] }
        let reference = RunReference(
            connectorID: objects.connectorID, action: spec.action, succeededAt: baseline.succeededAt, failedAt: baseline.failedAt,
            schema: spec.schema, table: spec.table
        )
        return [TriggeredRun(reference: reference, observation: FivetranObservations.sync(connector, reference))]
    }

    /// One look at the connector. A sync that Fivetran rescheduled on a manually scheduled
    /// connector starts only when asked again (Fivetran documents its sync call as the only way
    /// a manual connector syncs, rescheduled syncs included), so once `rescheduled_for` has
    /// passed the look asks again, as Fivetran's own orchestrator clients do.
    public func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        let connector: FivetranConnector
        do {
            connector = try await client.connector(id: run.connectorID)
        } catch let error as VendorError where error.code == .notFound {
            return nil
        } catch {
            throw Self.classify(error, doing: "read connector \(run.connectorID)")
        }
        switch run.action {
        case .status:
            return FivetranObservations.status(connector)
        case .test:
            // Ended when triggered; a late look only has the setup state to go by.
            return FivetranObservations.setupState(connector)
        case .start, .forceResync:
            var observation = FivetranObservations.sync(connector, run)
            if !observation.phase.isFinished, connector.status.syncState == .rescheduled, connector.scheduleType == .manual,
                let due = connector.status.rescheduledFor, due.date <= Date()
            {
                do {
                    try await client.syncConnector(id: run.connectorID)
                    observation.summary = (observation.summary ?? "rescheduled") + "; sync requested again"
                } catch {
                    throw Self.classify(error, doing: "ask again for the rescheduled sync of connector \(run.connectorID)")
                }
            }
            return observation
        }
    }

    /// The operator does not own the connector: a delete leaves it as it is (its schedule too).
    public func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {}

    /// State version 1 knew only Hightouch runs; no Fivetran run can be rebuilt from it.
    public func legacyReference(runID: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference? { nil }

    // MARK: - Reading

    /// The connector; a missing one is refused for good, naming it.
    private func read(_ id: String) async throws(VendorFailure) -> FivetranConnector {
        do {
            return try await client.connector(id: id)
        } catch let error as VendorError where error.code == .notFound {
            throw VendorFailure(
                kind: .rejected, reason: "vendorNotFound",
                message: "Fivetran connector \(id) does not exist, or this API key cannot see it; check spec.connectorId (\(error.message ?? "HTTP 404"))"
            )
        } catch {
            throw Self.classify(error, doing: "read connector \(id)")
        }
    }

    private static func describe(_ update: FivetranConnectorUpdate) -> String {
        var parts: [String] = []
        if let scheduleType = update.scheduleType { parts.append("schedule_type \(scheduleType)") }
        if let paused = update.paused { parts.append("paused \(paused)") }
        return parts.joined(separator: ", ")
    }

    // MARK: - Detail

    public func objectRows(_ objects: Objects) -> [DetailRow] {
        [
            DetailRow("Connector", objects.connectorID),
            DetailRow("Service", objects.service ?? "-"),
            DetailRow("Schema", objects.schema ?? "-"),
            DetailRow("Group", objects.groupID ?? "-"),
        ]
    }

    public func runRows(_ run: RunRecord) -> [DetailRow] {
        FivetranObservations.rows(run)
    }

    // MARK: - Errors

    static func classify(_ error: any Error, doing what: String) -> VendorFailure {
        if let failure = error as? VendorFailure { return failure }
        guard let error = error as? VendorError else {
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "\(what): \(error)")
        }
        let detail = "\(what): \(error)"
        switch error.code {
        case .unauthorized:
            return VendorFailure(kind: .unauthorized, reason: "vendorUnauthorized", message: detail + "; check FIVETRAN_API_KEY and FIVETRAN_API_SECRET")
        case .conflict:
            // The one 409 Fivetran documents: a re-sync during a sync it could not finish first.
            return VendorFailure(kind: .transient, reason: "connectorBusy", message: detail)
        case .notFound:
            return VendorFailure(kind: .rejected, reason: "vendorNotFound", message: detail)
        case .validation, .invalidArgument:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        case .unexpectedStatus where (error.status ?? 500) < 500 && error.status != 429:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        default:
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: detail)
        }
    }
}
