import Census
import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import VendorHTTP

/// The `census` resource type: run an existing Census sync, exactly once per command, and follow
/// the run to its end.
///
/// The operator does not own Census syncs: `ensure` only checks that the spec's sync exists (a
/// missing one is refused, never retried) and records it with its connections; `retire` leaves
/// it alone. Runs have ids, so the resume check is "runs of the sync created since the intent".
/// Census has no API to cancel a run, so a run past its timeout is recorded `timed_out` and left
/// running there.
public struct CensusDriver: ResourceDriver {
    public let client: CensusClient
    /// The limit of a run whose spec gives no `timeout`.
    public let defaultRunTimeout: Duration?

    /// A day, as orchestrators of Census commonly allow a sync (1,440 minutes).
    public static let standardRunTimeout: Duration = .seconds(24 * 3600)

    public init(client: CensusClient, defaultRunTimeout: Duration? = CensusDriver.standardRunTimeout) {
        self.client = client
        self.defaultRunTimeout = defaultRunTimeout
    }

    public var descriptor: DriverDescriptor { Self.descriptor }
    public var summary: String { client.description }

    // MARK: - Associated values

    /// The sync a resource runs, as Census showed it when the resource was applied.
    public struct Objects: DriverValue, Codable, Hashable {
        public var syncID: String
        public var label: String?
        public var operation: String?
        public var sourceConnectionID: String?
        public var destinationConnectionID: String?
        /// What the sync reads, writes and maps, as Census gave them: for its lineage events
        /// (docs/lineage.md). Absent from objects recorded before lineage (the events then name
        /// the sync instead, until the next apply records them).
        public var sourceObject: VendorJSON?
        public var destinationObject: VendorJSON?
        public var mappings: VendorJSON?

        public init(
            syncID: String, label: String? = nil, operation: String? = nil, sourceConnectionID: String? = nil, destinationConnectionID: String? = nil,
            sourceObject: VendorJSON? = nil, destinationObject: VendorJSON? = nil, mappings: VendorJSON? = nil
        ) {
            self.syncID = syncID
            self.label = label
            self.operation = operation
            self.sourceConnectionID = sourceConnectionID
            self.destinationConnectionID = destinationConnectionID
            self.sourceObject = sourceObject
            self.destinationObject = destinationObject
            self.mappings = mappings
        }
    }

    /// A run: its sync and its id (`sync_run_id`).
    public struct RunReference: DriverValue, Codable, Hashable {
        public var syncID: String
        public var runID: String

        public init(syncID: String, runID: String) {
            self.syncID = syncID
            self.runID = runID
        }
    }

    /// The spec: the sync, the trigger's flag, the run's time limit.
    public struct Spec: Sendable, Hashable {
        public var syncID: CensusID
        /// Sent with every trigger, explicitly (`force_full_sync=false` too).
        public var forceFullSync: Bool
        /// nil: the driver's default.
        public var timeout: Duration?

        public init(syncID: CensusID, forceFullSync: Bool = false, timeout: Duration? = nil) {
            self.syncID = syncID
            self.forceFullSync = forceFullSync
            self.timeout = timeout
        }
    }

    public func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        try CensusSpec.decode(spec)
    }

    public func runTimeout(_ spec: Spec) -> Duration? {
        spec.timeout ?? defaultRunTimeout
    }

    // MARK: - Ensure

    /// Checks the sync exists and records it with its connections. A sync Census does not know is
    /// refused for good: the operator cannot create it, and asking again will not make it exist.
    public func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        do {
            let sync = try await client.sync(id: spec.syncID)
            return Objects(
                syncID: sync.id.rawValue, label: sync.label, operation: sync.operation,
                sourceConnectionID: sync.sourceConnectionID?.rawValue, destinationConnectionID: sync.destinationConnectionID?.rawValue,
                sourceObject: sync.sourceAttributes?.object, destinationObject: sync.destinationAttributes?.object, mappings: sync.mappings
            )
        } catch {
            throw Self.classify(error, doing: "look up sync \(spec.syncID)", syncID: spec.syncID.rawValue)
        }
    }

    // MARK: - Runs

    public func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        do {
            let runID = try await client.triggerSync(id: CensusID(objects.syncID), forceFullSync: spec.forceFullSync)
            return TriggeredRun(
                reference: RunReference(syncID: objects.syncID, runID: runID.rawValue),
                observation: RunObservation(phase: .queued, vendorStatus: CensusSyncRunStatus.queued.rawValue, vendorRunID: runID.rawValue)
            )
        } catch {
            throw Self.classify(error, doing: "trigger sync \(objects.syncID)", syncID: objects.syncID)
        }
    }

    /// The runs of the sync created at or after `point.since` (the intent less the clock-skew
    /// margin). The engine adopts the first it does not know already, so the order matters:
    /// runs created at or after the intent come first, oldest first (a trigger happens after its
    /// intent is recorded), then those inside the margin, newest first (this command's only if
    /// Census's clock runs behind ours; more likely a scheduled run that started just before).
    /// Census takes no marker on a trigger, so a run somebody else starts on the same sync
    /// between the intent and the trigger is indistinguishable from this command's.
    public func runs(since point: ResumePoint<NoBaseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        do {
            let found = try await client.runs(syncID: CensusID(objects.syncID), createdAtOrAfter: point.since)
            let afterIntent = found.filter { ($0.createdAt ?? .distantFuture) >= point.intentAt }
            let withinMargin = found.filter { ($0.createdAt ?? .distantFuture) < point.intentAt }.reversed()
            return (afterIntent + withinMargin).map { run in
                TriggeredRun(reference: RunReference(syncID: objects.syncID, runID: run.id.rawValue), observation: Self.observation(run))
            }
        } catch {
            throw Self.classify(error, doing: "list the runs of sync \(objects.syncID)", syncID: objects.syncID)
        }
    }

    public func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        do {
            return Self.observation(try await client.syncRun(id: CensusID(run.runID)))
        } catch let error as VendorError where error.code == .notFound {
            return nil
        } catch {
            throw Self.classify(error, doing: "look at sync run \(run.runID)", syncID: run.syncID)
        }
    }

    /// The operator created nothing at Census: a deleted resource leaves its sync as it is.
    public func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {}

    // MARK: - Observations

    /// Census's run statuses as phases. `preparing` is the word Census used before `queued`
    /// (until September 2023). Any other word keeps the run followed (it has not said it ended),
    /// bounded by the run's timeout.
    static func phase(_ run: CensusSyncRun) -> RunPhase {
        switch run.status {
        case .queued: return .queued
        case .working: return .running
        case .completed: return (run.recordsFailed ?? 0) > 0 || (run.recordsInvalid ?? 0) > 0 ? .warning : .succeeded
        case .failed: return .failed
        case .skipped: return .cancelled
        case .unknown(let word): return word == "preparing" ? .queued : .running
        }
    }

    static func observation(_ run: CensusSyncRun) -> RunObservation {
        let phase = Self.phase(run)
        return RunObservation(
            phase: phase, vendorStatus: run.status.rawValue, vendorRunID: run.id.rawValue,
            createdAt: run.createdAt, startedAt: nil, finishedAt: run.finishedAt,
            progress: CensusRunDetails.progress(run, phase: phase),
            summary: CensusRunDetails.summary(run),
            error: Self.error(run, phase: phase),
            details: CensusRunDetails.json(run)
        )
    }

    /// A failure's message (with Census's code), or a skip's reason.
    private static func error(_ run: CensusSyncRun, phase: RunPhase) -> String? {
        switch phase {
        case .failed:
            let message = run.errorMessage ?? run.errorDetail ?? "the run failed without an error message"
            return run.errorCode.map { "\(message) (\($0))" } ?? message
        case .cancelled:
            return "skipped: " + (run.errorMessage ?? "an earlier run of sync \(run.syncID?.rawValue ?? "?") was still running")
        default:
            // A warning is a completed run: its summary says how many records failed.
            return nil
        }
    }

    // MARK: - Detail

    public func objectRows(_ objects: Objects) -> [DetailRow] {
        [
            DetailRow("Sync", objects.label.map { "\(objects.syncID) (\($0))" } ?? objects.syncID),
            DetailRow("Operation", objects.operation ?? "-"),
            DetailRow("Source connection", objects.sourceConnectionID ?? "-"),
            DetailRow("Destination connection", objects.destinationConnectionID ?? "-"),
        ]
    }

    public func runRows(_ run: RunRecord) -> [DetailRow] {
        CensusRunDetails.rows(run.details)
    }

    // MARK: - Errors

    static func classify(_ error: any Error, doing what: String, syncID: String) -> VendorFailure {
        if let failure = error as? VendorFailure { return failure }
        if error is CancellationError {
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "\(what): cancelled")
        }
        guard let error = error as? VendorError else {
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "\(what): \(error)")
        }
        let detail = "\(what): \(error)"
        switch error.code {
        case .unauthorized:
            return VendorFailure(kind: .unauthorized, reason: "vendorUnauthorized", message: detail + " Check CENSUS_API_TOKEN.")
        case .notFound:
            return VendorFailure(
                kind: .rejected, reason: "vendorNotFound",
                message: "Census sync \(syncID) does not exist (\(what) answered 404). The operator runs existing Census syncs and creates none: "
                    + "create the sync in Census, or correct spec.syncId."
            )
        case .validation, .invalidArgument, .conflict:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        case .unexpectedStatus where (error.status ?? 500) < 500 && error.status != 429:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        default:
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: detail)
        }
    }
}
