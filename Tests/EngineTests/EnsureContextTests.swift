import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Synchronization
import Testing

/// The ensure's context through the engine: an apply's `adopt` reaches the driver through
/// `AnyResourceDriver`, a driver that takes objects over has the adoption recorded, a driver's
/// `foreignObject` refusal fails the command, and a driver that knows nothing of it (the toy
/// driver implements only `ensure(_:known:)`) runs unchanged.
@Suite("The ensure's context (adopt), in memory")
struct EnsureContextTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()

    func apply(_ name: String, job: String, adopt: Bool = false) throws -> CommandEnvelope {
        .apply(try InMemoryEngine.toyManifest(name: name, job: job), workspace: Self.workspace, adopt: adopt)
    }

    @Test("adopt travels from the envelope to the driver's ensure; a driver without the context's ensure gets its own")
    func adoptReachesTheDriver() async throws {
        let vendor = ScriptedVendor()
        let driver = ContextRecordingDriver(inner: ScriptedDriver(vendor: vendor))
        let engine = InMemoryEngine(driver: AnyResourceDriver(driver))
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "a"))).outcome == "triggered")
        #expect(await engine.processor().process(engine.delivery(try apply("q", job: "b", adopt: true))).outcome == "triggered")
        #expect(driver.log.contexts == [EnsureContext(adopt: false), EnsureContext(adopt: true)])

        // The toy driver alone: the protocol's default ensure(_:known:context:) calls its own.
        let plain = InMemoryEngine(vendor: ScriptedVendor())
        let result = await plain.processor().process(plain.delivery(try apply("p", job: "a", adopt: true)))
        let status = try await plain.status("p")
        #expect(result.outcome == "triggered" && status?.lastDrift == nil)
    }

    @Test("a driver that took objects over: the status records them and the adoption (lastDrift adopted) before the run, which is triggered once")
    func adoptionRecorded() async throws {
        let vendor = ScriptedVendor()
        let driver = ContextRecordingDriver(inner: ScriptedDriver(vendor: vendor), adoption: Adoption(object: "job j-7 (nightly)", differences: ["schedule"]))
        let engine = InMemoryEngine(driver: AnyResourceDriver(driver))
        let command = try apply("p", job: "nightly", adopt: true)
        let result = await engine.processor().process(engine.delivery(command))
        #expect(result.outcome == "triggered", "\(result)")
        let status = try #require(try await engine.status("p"))
        let drift = try #require(status.lastDrift)
        #expect(drift.kind == "adopted" && drift.commandID == command.deduplicationID && drift.found == "job j-7 (nightly): schedule differed from the spec")
        #expect(status.objects?["job"]?.stringValue == "nightly" && status.phase == .active && status.currentRun != nil)
        #expect(vendor.calls(.trigger) == 1)
    }

    @Test("a foreignObject refusal fails the command for good: error, the reason on the status, a dead letter, nothing triggered")
    func foreignObjectRefusal() async throws {
        let vendor = ScriptedVendor()
        let refusal = VendorFailure.foreignObject("job nightly is someone else's; apply again with factoryctl apply --adopt to take it over, or use another slug")
        #expect(refusal.kind == .rejected && refusal.reason == "foreignObject" && refusal.isForeignObject)
        vendor.fail(.ensure, with: refusal)
        let engine = InMemoryEngine(vendor: vendor)
        let result = await engine.processor().process(engine.delivery(try apply("p", job: "nightly")))
        #expect(result.outcome == "failed" && result.disposition == .term, "\(result)")
        let status = try #require(try await engine.status("p"))
        #expect(status.phase == .error && status.lastError?.reason == "foreignObject" && status.lastError?.message == refusal.message)
        #expect(engine.deadLetters.letters.map(\.reason) == ["foreignObject"] && vendor.calls(.trigger) == 0)
        #expect(try await engine.entity("p")?.activeCommand == nil)
    }
}

/// The toy driver, recording the context of every ensure; optionally reporting an adoption.
struct ContextRecordingDriver: ResourceDriver {
    typealias Spec = ScriptedDriver.Spec
    typealias Objects = ScriptedDriver.Objects
    typealias RunReference = ScriptedDriver.RunReference
    typealias Baseline = ScriptedDriver.Baseline

    final class Log: Sendable {
        private let state = Mutex<[EnsureContext]>([])
        var contexts: [EnsureContext] { state.withLock { $0 } }
        func record(_ context: EnsureContext) { state.withLock { $0.append(context) } }
    }

    let inner: ScriptedDriver
    var adoption: Adoption?
    let log = Log()

    init(inner: ScriptedDriver, adoption: Adoption? = nil) {
        self.inner = inner
        self.adoption = adoption
    }

    var descriptor: DriverDescriptor { inner.descriptor }
    func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec { try inner.decodeSpec(spec) }

    func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        try await inner.ensure(spec, known: known)
    }

    func ensure(_ spec: Spec, known: Objects?, context: EnsureContext) async throws(VendorFailure) -> Ensured<Objects> {
        log.record(context)
        let objects = try await inner.ensure(spec, known: known)
        return Ensured(objects: objects, adopted: context.adopt ? adoption.map { [$0] } ?? [] : [])
    }

    func baseline(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> Baseline {
        try await inner.baseline(spec, objects: objects)
    }

    func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        try await inner.trigger(spec, objects: objects, context: context)
    }

    func runs(since point: ResumePoint<Baseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        try await inner.runs(since: point, spec: spec, objects: objects)
    }

    func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        try await inner.observe(run, objects: objects)
    }

    func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {
        try await inner.retire(objects, spec: spec)
    }

    func objectRows(_ objects: Objects) -> [DetailRow] { inner.objectRows(objects) }
}
