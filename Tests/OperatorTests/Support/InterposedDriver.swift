import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import HightouchDriver
import JSONSchema

/// The Hightouch driver, except for the calls a fault test replaces: each test says only what it
/// changes (a slow trigger, a lost answer, a stale look) instead of re-forwarding the whole
/// protocol.
struct InterposedDriver: ResourceDriver {
    typealias Spec = HightouchDriver.Spec
    typealias Objects = HightouchDriver.Objects
    typealias RunReference = HightouchDriver.RunReference
    typealias Ensure = @Sendable (_ inner: HightouchDriver, _ spec: Spec, _ known: Objects?) async throws(VendorFailure) -> Objects
    typealias Trigger = @Sendable (_ inner: HightouchDriver, _ spec: Spec, _ objects: Objects, _ context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference>
    typealias Observe = @Sendable (_ inner: HightouchDriver, _ run: RunReference, _ objects: Objects) async throws(VendorFailure) -> RunObservation?

    let inner: HightouchDriver
    var ensure: Ensure?
    var trigger: Trigger?
    var observe: Observe?

    init(_ inner: HightouchDriver, ensure: Ensure? = nil, trigger: Trigger? = nil, observe: Observe? = nil) {
        self.inner = inner
        self.ensure = ensure
        self.trigger = trigger
        self.observe = observe
    }

    /// As the engine holds it.
    var erased: AnyResourceDriver { AnyResourceDriver(self) }

    var descriptor: DriverDescriptor { inner.descriptor }

    func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        try inner.decodeSpec(spec)
    }

    func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        if let ensure { return try await ensure(inner, spec, known) }
        return try await inner.ensure(spec, known: known)
    }

    /// The context (`adopt`) reaches the real driver unless the test replaces the ensure.
    func ensure(_ spec: Spec, known: Objects?, context: EnsureContext) async throws(VendorFailure) -> Ensured<Objects> {
        if let ensure { return Ensured(objects: try await ensure(inner, spec, known)) }
        return try await inner.ensure(spec, known: known, context: context)
    }

    func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        if let trigger { return try await trigger(inner, spec, objects, context) }
        return try await inner.trigger(spec, objects: objects, context: context)
    }

    func runs(since point: ResumePoint<NoBaseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        try await inner.runs(since: point, spec: spec, objects: objects)
    }

    func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        if let observe { return try await observe(inner, run, objects) }
        return try await inner.observe(run, objects: objects)
    }

    func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {
        try await inner.retire(objects, spec: spec)
    }

    func legacyReference(runID: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference? {
        try await inner.legacyReference(runID: runID, spec: spec, objects: objects)
    }

    func objectRows(_ objects: Objects) -> [DetailRow] { inner.objectRows(objects) }
    func runRows(_ run: RunRecord) -> [DetailRow] { inner.runRows(run) }
}
