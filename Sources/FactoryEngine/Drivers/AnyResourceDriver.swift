import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage

/// A driver as the engine holds it: every associated value as the JSON it is stored as. The
/// engine's registry keeps drivers of different types side by side through this box; decoding the
/// stored JSON into the driver's types happens here, and a value the driver cannot read becomes
/// a clear failure instead of a crash.
public struct AnyResourceDriver: Sendable, StatusDetailRows {
    private let box: any ErasedDriver
    /// Services the driver runs beside the engine in each replica (a pipeline's advancer and
    /// inputs); nil for a driver that needs none.
    public let companion: DriverCompanion?
    /// How the driver reads its vendor's completion webhooks; nil for a vendor that sends none
    /// (docs/pipelines.md, "Completion webhooks").
    public let webhook: WebhookReceiver?

    public init<Driver: ResourceDriver>(_ driver: Driver, companion: DriverCompanion? = nil, webhook: WebhookReceiver? = nil) {
        box = DriverBox(driver: driver)
        self.companion = companion
        self.webhook = webhook
    }

    public var descriptor: DriverDescriptor { box.descriptor }
    public var type: String { box.descriptor.type }
    public var canCancel: Bool { box.canCancel }
    public var summary: String { box.summary }

    /// A run as found by a trigger or the resume check, with its reference as stored.
    public struct FoundRun: Sendable {
        public var reference: JSONValue
        public var observation: RunObservation
    }

    /// A spec decoded once by the driver, carried through a command's calls.
    public struct PreparedSpec: Sendable {
        public let json: JSONValue
        fileprivate let value: any Sendable
    }

    /// Decodes `spec` with the driver; throws the driver's refusal.
    public func prepare(spec: JSONValue) throws(VendorFailure) -> PreparedSpec {
        PreparedSpec(json: spec, value: try box.decode(spec: spec))
    }

    public func validate(spec: JSONValue) throws(VendorFailure) { _ = try prepare(spec: spec) }

    /// The spec's run timeout; nil for none.
    public func runTimeout(spec: PreparedSpec) -> Duration? { box.runTimeout(spec: spec) }

    /// The objects as stored; `context` says what the command asks beyond the spec (`adopt`).
    public func ensure(spec: PreparedSpec, known: JSONValue?, context: EnsureContext) async throws(VendorFailure) -> Ensured<JSONValue> {
        try await box.ensure(spec: spec, known: known, context: context)
    }

    /// An ensure that takes nothing over.
    public func ensure(spec: PreparedSpec, known: JSONValue?) async throws(VendorFailure) -> JSONValue {
        try await ensure(spec: spec, known: known, context: .standard).objects
    }

    public func baseline(spec: PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> JSONValue? {
        try await box.baseline(spec: spec, objects: objects)
    }

    public func trigger(spec: PreparedSpec, objects: JSONValue, context: TriggerContext) async throws(VendorFailure) -> FoundRun {
        try await box.trigger(spec: spec, objects: objects, context: context)
    }

    /// The resume check: `point.baseline` is the baseline as recorded.
    public func runs(since point: ResumePoint<StoredBaseline>, spec: PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> [FoundRun] {
        try await box.runs(since: point, spec: spec, objects: objects)
    }

    /// The spec of the resource, read only when needed (a run recorded by state version 1).
    public typealias SpecSource = @Sendable () async throws(VendorFailure) -> JSONValue

    public func observe(_ run: RunRecord, objects: JSONValue, spec: SpecSource) async throws(VendorFailure) -> RunObservation? {
        try await box.observe(run, objects: objects, spec: spec)
    }

    public func cancel(_ run: RunRecord, objects: JSONValue, spec: SpecSource, mode: CancelMode = .stop) async throws(VendorFailure) {
        try await box.cancel(run, objects: objects, spec: spec, mode: mode)
    }

    /// The run a `cancel` names by id when the status does not record it, as a record holding
    /// the driver's reference (so `cancel` and `observe` can take it); nil where the driver knows
    /// no such run.
    public func run(named id: String, workspace: String, name: String, objects: JSONValue, spec: SpecSource) async throws(VendorFailure) -> RunRecord? {
        try await box.run(named: id, workspace: workspace, name: name, objects: objects, spec: spec)
    }

    public func drift(spec: PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> [DriftFinding] {
        try await box.drift(spec: spec, objects: objects)
    }

    public func retire(objects: JSONValue, spec: JSONValue) async throws(VendorFailure) {
        try await box.retire(objects: objects, spec: spec)
    }

    public func objectRows(_ objects: JSONValue) -> [DetailRow] { box.objectRows(objects) }
    public func runRows(_ run: RunRecord) -> [DetailRow] { box.runRows(run) }

    public var lineageIntegration: String { box.lineageIntegration }
    public var lineageJobType: String { box.lineageJobType }

    /// The driver's datasets for a run, from the spec and objects as stored; nil (job only)
    /// where the driver gives none or the stored spec is no longer one it reads.
    public func lineage(spec: JSONValue, objects: JSONValue?, run: RunRecord) -> LineageDatasets? {
        box.lineage(spec: spec, objects: objects, run: run)
    }
}

private protocol ErasedDriver: Sendable {
    var descriptor: DriverDescriptor { get }
    var summary: String { get }
    var canCancel: Bool { get }
    func decode(spec: JSONValue) throws(VendorFailure) -> any Sendable
    func runTimeout(spec: AnyResourceDriver.PreparedSpec) -> Duration?
    func ensure(spec: AnyResourceDriver.PreparedSpec, known: JSONValue?, context: EnsureContext) async throws(VendorFailure) -> Ensured<JSONValue>
    func baseline(spec: AnyResourceDriver.PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> JSONValue?
    func trigger(spec: AnyResourceDriver.PreparedSpec, objects: JSONValue, context: TriggerContext) async throws(VendorFailure) -> AnyResourceDriver.FoundRun
    func runs(since point: ResumePoint<StoredBaseline>, spec: AnyResourceDriver.PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> [AnyResourceDriver.FoundRun]
    func observe(_ run: RunRecord, objects: JSONValue, spec: AnyResourceDriver.SpecSource) async throws(VendorFailure) -> RunObservation?
    func cancel(_ run: RunRecord, objects: JSONValue, spec: AnyResourceDriver.SpecSource, mode: CancelMode) async throws(VendorFailure)
    func run(named id: String, workspace: String, name: String, objects: JSONValue, spec: AnyResourceDriver.SpecSource) async throws(VendorFailure) -> RunRecord?
    func retire(objects: JSONValue, spec: JSONValue) async throws(VendorFailure)
    func drift(spec: AnyResourceDriver.PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> [DriftFinding]
    func objectRows(_ objects: JSONValue) -> [DetailRow]
    func runRows(_ run: RunRecord) -> [DetailRow]
    var lineageIntegration: String { get }
    var lineageJobType: String { get }
    func lineage(spec: JSONValue, objects: JSONValue?, run: RunRecord) -> LineageDatasets?
}

private struct DriverBox<Driver: ResourceDriver>: ErasedDriver {
    let driver: Driver

    var descriptor: DriverDescriptor { driver.descriptor }
    var summary: String { driver.summary }
    var canCancel: Bool { driver.canCancel }

    private var type: String { driver.descriptor.type }

    func decode(spec: JSONValue) throws(VendorFailure) -> any Sendable {
        try driver.decodeSpec(spec)
    }

    /// The typed spec: the one decoded already, or decoded now.
    private func typed(_ spec: AnyResourceDriver.PreparedSpec) throws(VendorFailure) -> Driver.Spec {
        if let decoded = spec.value as? Driver.Spec { return decoded }
        return try driver.decodeSpec(spec.json)
    }

    func runTimeout(spec: AnyResourceDriver.PreparedSpec) -> Duration? {
        guard let decoded = try? typed(spec) else { return nil }
        return driver.runTimeout(decoded)
    }

    func ensure(spec: AnyResourceDriver.PreparedSpec, known: JSONValue?, context: EnsureContext) async throws(VendorFailure) -> Ensured<JSONValue> {
        let decoded = try typed(spec)
        let known = try known.map { value throws(VendorFailure) in try self.decode(Driver.Objects.self, value, what: "vendor objects") }
        let ensured = try await driver.ensure(decoded, known: known, context: context)
        return Ensured(objects: ensured.objects.driverJSON, adopted: ensured.adopted)
    }

    func baseline(spec: AnyResourceDriver.PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> JSONValue? {
        let value = try await driver.baseline(try typed(spec), objects: try decode(Driver.Objects.self, objects, what: "vendor objects")).driverJSON
        return value.isNull ? nil : value
    }

    func trigger(spec: AnyResourceDriver.PreparedSpec, objects: JSONValue, context: TriggerContext) async throws(VendorFailure) -> AnyResourceDriver.FoundRun {
        let run = try await driver.trigger(try typed(spec), objects: try decode(Driver.Objects.self, objects, what: "vendor objects"), context: context)
        return AnyResourceDriver.FoundRun(reference: run.reference.driverJSON, observation: run.observation)
    }

    func runs(since point: ResumePoint<StoredBaseline>, spec: AnyResourceDriver.PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> [AnyResourceDriver.FoundRun] {
        let typedBaseline = try point.baseline.map { stored throws(VendorFailure) in try self.decode(Driver.Baseline.self, stored.json, what: "trigger baseline") }
        let typedPoint = ResumePoint<Driver.Baseline>(
            commandID: point.commandID, intentAt: point.intentAt, since: point.since, baseline: typedBaseline, workspace: point.workspace, name: point.name)
        let runs = try await driver.runs(since: typedPoint, spec: try typed(spec), objects: try decode(Driver.Objects.self, objects, what: "vendor objects"))
        return runs.map { AnyResourceDriver.FoundRun(reference: $0.reference.driverJSON, observation: $0.observation) }
    }

    func observe(_ run: RunRecord, objects: JSONValue, spec: AnyResourceDriver.SpecSource) async throws(VendorFailure) -> RunObservation? {
        let objects = try decode(Driver.Objects.self, objects, what: "vendor objects")
        return try await driver.observe(try reference(run, objects: objects, spec: spec), objects: objects)
    }

    func cancel(_ run: RunRecord, objects: JSONValue, spec: AnyResourceDriver.SpecSource, mode: CancelMode) async throws(VendorFailure) {
        let objects = try decode(Driver.Objects.self, objects, what: "vendor objects")
        try await driver.cancel(try reference(run, objects: objects, spec: spec), objects: objects, mode: mode)
    }

    func run(named id: String, workspace: String, name: String, objects: JSONValue, spec: AnyResourceDriver.SpecSource) async throws(VendorFailure) -> RunRecord? {
        let typedObjects = try decode(Driver.Objects.self, objects, what: "vendor objects")
        let typedSpec = try driver.decodeSpec(try await spec())
        guard let found = try await driver.reference(forRun: id, workspace: workspace, name: name, spec: typedSpec, objects: typedObjects) else { return nil }
        guard let observation = try await driver.observe(found, objects: typedObjects) else { return nil }
        return RunRecord(key: id, reference: found.driverJSON, observation: observation, at: Date())
    }

    func retire(objects: JSONValue, spec: JSONValue) async throws(VendorFailure) {
        // A spec the driver no longer accepts must not keep a delete from retiring the objects.
        let decoded = try? driver.decodeSpec(spec)
        try await driver.retire(try decode(Driver.Objects.self, objects, what: "vendor objects"), spec: decoded)
    }

    func drift(spec: AnyResourceDriver.PreparedSpec, objects: JSONValue) async throws(VendorFailure) -> [DriftFinding] {
        try await driver.drift(try typed(spec), objects: try decode(Driver.Objects.self, objects, what: "vendor objects"))
    }

    func objectRows(_ objects: JSONValue) -> [DetailRow] {
        guard let typed = try? Driver.Objects(driverJSON: objects) else { return [] }
        return driver.objectRows(typed)
    }

    func runRows(_ run: RunRecord) -> [DetailRow] { driver.runRows(run) }

    var lineageIntegration: String { driver.lineageIntegration }
    var lineageJobType: String { driver.lineageJobType }

    func lineage(spec: JSONValue, objects: JSONValue?, run: RunRecord) -> LineageDatasets? {
        guard let decoded = try? driver.decodeSpec(spec) else {
            return LineageDatasets(warnings: ["the resource's spec is not one the \(type) driver reads any more; lineage of the job only"])
        }
        let typedObjects = objects.flatMap { try? Driver.Objects(driverJSON: $0) }
        return driver.lineage(decoded, objects: typedObjects, run: run)
    }

    /// The run's stored reference; a run recorded by state version 1 has only the vendor's id.
    private func reference(_ run: RunRecord, objects: Driver.Objects, spec: AnyResourceDriver.SpecSource) async throws(VendorFailure) -> Driver.RunReference {
        if let stored = run.reference {
            return try decode(Driver.RunReference.self, stored, what: "run reference")
        }
        if let id = run.vendorRunID, let rebuilt = try await driver.legacyReference(runID: id, spec: try driver.decodeSpec(try await spec()), objects: objects) {
            return rebuilt
        }
        throw VendorFailure(kind: .rejected, reason: "stateUnreadable", message: "run \(run.displayID) has no reference the \(type) driver can follow")
    }

    private func decode<Value: DriverValue>(_ type: Value.Type, _ json: JSONValue, what: String) throws(VendorFailure) -> Value {
        do {
            return try Value(driverJSON: json)
        } catch {
            throw VendorFailure(
                kind: .rejected, reason: "stateUnreadable",
                message: "the recorded \(what) (\(json.serialized().prefix(200))) cannot be read by the \(self.type) driver: \(error)"
            )
        }
    }
}

/// A baseline as the engine stores it: the driver's JSON.
public struct StoredBaseline: DriverValue, Hashable {
    public var json: JSONValue

    public init(driverJSON json: JSONValue) { self.json = json }
    public var driverJSON: JSONValue { json }
}
