import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage

/// What the engine needs from a vendor, for one resource type: the seam where Hightouch,
/// Fivetran, dbt Cloud, Census and HTTP tasks plug in. The engine knows no vendor; a driver knows
/// no NATS, no KV and no command protocol.
///
/// Every call must be idempotent or safely repeatable: a command may be resumed by another
/// replica after a crash, and a run may be looked at by any replica.
///
/// The associated values are the driver's own; the engine stores them as JSON (``DriverValue``)
/// and hands them back, never looking inside:
/// - `Spec`: the resource's `spec`, decoded and checked beyond its JSON schema;
/// - `Objects`: what exists at the vendor for a resource (Hightouch: a model and a sync; dbt
///   Cloud: the job it runs);
/// - `RunReference`: how to find one run again (Hightouch: sync and run ids). A vendor without
///   run ids (Fivetran) references a run by what it can see of it instead;
/// - `Baseline`: what the vendor showed just before a trigger, for the resume check of vendors
///   whose runs have no id (Fivetran: the connector's last success and failure times).
public protocol ResourceDriver: Sendable {
    associatedtype Spec: Sendable
    associatedtype Objects: DriverValue
    associatedtype RunReference: DriverValue
    associatedtype Baseline: DriverValue = NoBaseline

    /// The resource type, its schema, its deployment's default names, its variables and secret.
    var descriptor: DriverDescriptor { get }

    /// How the driver is configured, for the start-up log line: endpoint, limits; never a secret.
    var summary: String { get }

    /// Decodes a spec that passed the type's JSON schema; refuses (`.rejected`) what the schema
    /// cannot say. Called before anything is recorded: a refused spec is a refused command.
    func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec

    /// Creates or updates the vendor objects the spec declares, starting from what is known
    /// (nil for a new resource); for objects the operator does not own, checks they exist.
    func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects

    /// `ensure(_:known:)` with what the command asks beyond the spec. A driver that can find an
    /// object under the spec's names that this resource did not record (Hightouch: a sync under
    /// the slug, made by someone else) implements this one: it refuses such an object that
    /// differs from the spec with ``VendorFailure/foreignObject(_:)`` unless `context.adopt`, and
    /// reports what it took over. The default calls `ensure(_:known:)` and takes nothing over, so
    /// drivers whose objects cannot be someone else's need not change.
    func ensure(_ spec: Spec, known: Objects?, context: EnsureContext) async throws(VendorFailure) -> Ensured<Objects>

    /// What the vendor shows just before a trigger; recorded with the intent, handed back to
    /// `runs(since:)`. Drivers whose runs have ids need none.
    func baseline(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> Baseline

    /// Triggers one run. `context.commandID` identifies the command: a driver whose vendor takes
    /// a marker (dbt Cloud's `cause`, an `Idempotency-Key`) sends it.
    func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference>

    /// The resume check: runs this command may have triggered before a crash (created since the
    /// intent, carrying the command's marker, or seen moving past the baseline). The engine
    /// leaves out the runs the resource already knows and adopts the first one left.
    func runs(since point: ResumePoint<Baseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>]

    /// One look at a run; nil if the vendor does not know it (any more). What a look needs beyond
    /// the objects belongs in the run's reference: followers do not read the spec.
    func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation?

    /// How long a run of this spec may take (the spec's `timeout`, or the driver's default); nil
    /// for no limit. Past it the engine cancels the run where the vendor can, and records it
    /// `timed_out` either way.
    func runTimeout(_ spec: Spec) -> Duration?

    /// Whether `cancel` can do anything at this vendor.
    var canCancel: Bool { get }

    /// Cancels a run; throws `.unsupported` where the vendor cannot.
    func cancel(_ run: RunReference, objects: Objects) async throws(VendorFailure)

    /// Cancels a run in `mode` (a `cancel` command's, `stop` when it names none). By default the
    /// mode makes no difference: `cancel(_:objects:)`. A pipeline stops (runs `finally`) or
    /// terminates.
    func cancel(_ run: RunReference, objects: Objects, mode: CancelMode) async throws(VendorFailure)

    /// A reference to the run a `cancel` names by id when it is neither the resource's current
    /// nor its last run (a pipeline keeps every run; the status only its current and last), of
    /// the resource `workspace`/`name`; nil where the driver knows no such run. Nil by default.
    func reference(forRun id: String, workspace: String, name: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference?

    /// Undoes what the operator created at the vendor, as far as the vendor's API allows
    /// (a `delete` command). Objects it does not own are left alone.
    func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure)

    /// What differs at the vendor from what the spec declares (an object deleted, disabled or
    /// edited out of band): the leader's scheduled drift check asks, and repairs what is found by
    /// ensuring the objects again. Drivers whose objects the operator does not own report a
    /// vanished object, which the ensure then refuses. Empty by default (nothing checked).
    func drift(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> [DriftFinding]

    /// A reference for a run recorded by state version 1, which kept only the vendor's run id;
    /// nil where the driver cannot rebuild one (it did not exist then).
    func legacyReference(runID: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference?

    /// The resource's detail, as labelled rows: the vendor objects, and a run's own fields.
    func objectRows(_ objects: Objects) -> [DetailRow]
    func runRows(_ run: RunRecord) -> [DetailRow]

    /// The `jobType` facet of the type's lineage events: the integration (default: the type in
    /// capitals) and the type's kind of job (default `RUN`; Hightouch: `SYNC`).
    var lineageIntegration: String { get }
    var lineageJobType: String { get }

    /// What a run reads and writes, for its OpenLineage events (docs/lineage.md): inputs,
    /// outputs and column lineage from the spec, the objects and the run; nil for events of the
    /// job only (the default). Never fails: what cannot be read is left out and said in the
    /// result's `warnings`, which the engine logs.
    func lineage(_ spec: Spec, objects: Objects?, run: RunRecord) -> LineageDatasets?
}

extension ResourceDriver where Baseline == NoBaseline {
    public func baseline(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> NoBaseline { NoBaseline() }
}

extension ResourceDriver {
    public var summary: String { descriptor.displayName }

    public func ensure(_ spec: Spec, known: Objects?, context: EnsureContext) async throws(VendorFailure) -> Ensured<Objects> {
        Ensured(objects: try await ensure(spec, known: known))
    }

    public var canCancel: Bool { false }

    public func runTimeout(_ spec: Spec) -> Duration? { nil }

    public func cancel(_ run: RunReference, objects: Objects) async throws(VendorFailure) {
        throw VendorFailure(kind: .unsupported, reason: "cancelUnsupported", message: "\(descriptor.displayName) runs cannot be cancelled through its API")
    }

    public func legacyReference(runID: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference? { nil }

    public func cancel(_ run: RunReference, objects: Objects, mode: CancelMode) async throws(VendorFailure) {
        try await cancel(run, objects: objects)
    }

    public func reference(forRun id: String, workspace: String, name: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference? { nil }

    public func drift(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> [DriftFinding] { [] }

    public func runRows(_ run: RunRecord) -> [DetailRow] { [] }
}

/// A value a driver owns and the engine stores as JSON (vendor objects, run references,
/// baselines). `Codable` types get it for free.
public protocol DriverValue: Sendable {
    init(driverJSON json: JSONValue) throws
    var driverJSON: JSONValue { get }
}

extension DriverValue where Self: Codable {
    public init(driverJSON json: JSONValue) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(json.serializedBytes()))
    }

    public var driverJSON: JSONValue {
        // A Codable value of the driver's own types encodes; failing here is a driver defect.
        guard let data = try? JSONEncoder().encode(self), let value = try? JSONValue(parsing: Array(data)) else { return .null }
        return value
    }
}

/// The baseline of drivers that need none.
public struct NoBaseline: DriverValue, Hashable {
    public init() {}
    public init(driverJSON json: JSONValue) {}
    public var driverJSON: JSONValue { .null }
}

/// What a trigger knows of the command that asks for it.
public struct TriggerContext: Sendable, Hashable {
    /// The command's id (`Nats-Msg-Id`): the idempotency marker where the vendor takes one.
    public var commandID: String
    /// When the intent to trigger was recorded.
    public var intentAt: Date
    /// What asked for the run, as a `run` command carries it: the event (JSON) and the input's
    /// name; nil for a run asked for by hand, or caused by an apply.
    public var event: JSONValue?
    public var input: String?
    /// The resource the run is of (the engine always says; nil only where a test builds a
    /// context by hand).
    public var workspace: String?
    public var name: String?

    public init(commandID: String, intentAt: Date, event: JSONValue? = nil, input: String? = nil, workspace: String? = nil, name: String? = nil) {
        self.commandID = commandID
        self.intentAt = intentAt
        self.event = event
        self.input = input
        self.workspace = workspace
        self.name = name
    }
}

/// What a command asks of an ensure beyond the spec.
public struct EnsureContext: Sendable, Hashable {
    /// Take over objects found at the vendor under the spec's names that this resource did not
    /// record and that differ from the spec: update them to the spec and record them as this
    /// resource's (`factoryctl apply --adopt`, the envelope's `"adopt": true`). Without it, such an
    /// object is refused (``VendorFailure/foreignObject(_:)``) and left as it is.
    public var adopt: Bool

    public init(adopt: Bool = false) {
        self.adopt = adopt
    }

    /// An ensure that takes nothing over: a plain apply, a `run` repairing vanished objects, the
    /// scheduled drift check.
    public static let standard = EnsureContext()
}

/// What an ensure did: the objects as they now are, and the objects it took over.
public struct Ensured<Objects: Sendable>: Sendable {
    public var objects: Objects
    /// Objects that were not this resource's and differed from the spec, taken over because the
    /// command asked (`EnsureContext.adopt`); empty otherwise. An object that already matched
    /// the spec is not listed: it is this resource's own, or indistinguishable from it.
    public var adopted: [Adoption]

    public init(objects: Objects, adopted: [Adoption] = []) {
        self.objects = objects
        self.adopted = adopted
    }
}

/// One object an ensure took over.
public struct Adoption: Sendable, Hashable, CustomStringConvertible {
    /// The object, for people: `sync 20002 (icebase-excel-01)`.
    public var object: String
    /// What differed from the spec before it was updated (`configuration`, `schedule`, …).
    public var differences: [String]

    public init(object: String, differences: [String]) {
        self.object = object
        self.differences = differences
    }

    /// `sync 20002 (icebase-excel-01): configuration, schedule differed from the spec`
    public var description: String {
        differences.isEmpty ? object : "\(object): \(differences.joined(separator: ", ")) differed from the spec"
    }
}

/// Where the resume check starts from.
public struct ResumePoint<Baseline: DriverValue>: Sendable {
    public var commandID: String
    /// When the intent was recorded.
    public var intentAt: Date
    /// The intent, less the clock skew allowed between the operator and the vendor: runs created
    /// at or after it may be this command's.
    public var since: Date
    /// What the vendor showed before the trigger, if the driver recorded it.
    public var baseline: Baseline?
    /// The resource the command is about (nil only where a test builds a point by hand).
    public var workspace: String?
    public var name: String?

    public init(commandID: String, intentAt: Date, since: Date, baseline: Baseline?, workspace: String? = nil, name: String? = nil) {
        self.commandID = commandID
        self.intentAt = intentAt
        self.since = since
        self.baseline = baseline
        self.workspace = workspace
        self.name = name
    }
}

/// A run as a trigger (or the resume check) finds it.
public struct TriggeredRun<Reference: DriverValue>: Sendable {
    public var reference: Reference
    /// What is known of the run so far (at least: queued, with the vendor's id if it has one).
    public var observation: RunObservation

    public init(reference: Reference, observation: RunObservation) {
        self.reference = reference
        self.observation = observation
    }
}

/// One difference between the vendor and the spec, found by a drift check.
public struct DriftFinding: Sendable, Hashable {
    /// A short word for metrics: `vanished`, `disabled`, `configuration`, `query`, `schedule`, …
    public var kind: String
    /// For people: what differs.
    public var message: String

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }
}

/// A vendor call that failed, classified for the command it belongs to.
public struct VendorFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Worth trying again later (rate limits, 5xx, outages, an unknown trigger outcome).
        case transient
        /// The credentials were refused: retried, because fixing the secret should heal it.
        case unauthorized
        /// The vendor refused what the spec asks (validation, a conflict that cannot be solved,
        /// a referenced object that does not exist): retrying cannot help.
        case rejected
        /// The vendor cannot do what was asked at all (cancel a Hightouch run).
        case unsupported
        /// An object the recorded objects name no longer exists at the vendor (deleted out of
        /// band): the engine ensures the objects again from the desired spec, records the repair,
        /// and goes on (a driver whose objects the operator does not own refuses that ensure).
        case gone
    }

    public var kind: Kind
    /// A stable word for status and dead letters: `vendorUnavailable`, `vendorUnauthorized`,
    /// `vendorRejected`, `vendorConflict`, `vendorNotFound`, `schemaViolation`, …
    public var reason: String
    public var message: String

    public init(kind: Kind, reason: String, message: String) {
        self.kind = kind
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason): \(message)" }
}

extension VendorFailure {
    /// The reason of a refusal to take over an object someone else made under the spec's names.
    public static let foreignObjectReason = "foreignObject"

    /// An object found at the vendor under the spec's names that this resource did not record
    /// and that differs from the spec: refused (`.rejected`), nothing changed at the vendor.
    /// `message` names the object, what differs and the remedy (`factoryctl apply --adopt`).
    public static func foreignObject(_ message: String) -> VendorFailure {
        VendorFailure(kind: .rejected, reason: foreignObjectReason, message: message)
    }

    /// Whether this is a ``foreignObject(_:)`` refusal.
    public var isForeignObject: Bool { kind == .rejected && reason == Self.foreignObjectReason }

    /// The reason a driver's `cancel` gives when the run it was asked to cancel has ended (seen
    /// by the driver before the status recorded it): the engine answers the command `runEnded`
    /// on `lastError`, as for a run the status records as ended, and changes nothing else.
    public static let runEndedReason = "runEnded"

    /// A `cancel` of a run that has ended (`.rejected`, reason ``runEndedReason``).
    public static func runEnded(_ message: String) -> VendorFailure {
        VendorFailure(kind: .rejected, reason: runEndedReason, message: message)
    }
}
