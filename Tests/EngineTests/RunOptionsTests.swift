@testable import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Synchronization
import Testing

/// The engine additions pipelines need, on a toy driver: a type whose applies trigger nothing
/// (`runsOnApply` false), the `run` command's event and input handed to the trigger, the `cancel`
/// command's mode handed to the driver and its run named by id (one the status records, one only
/// the driver knows, one that ended, one nobody knows), and the envelope's new fields.
@Suite("Engine additions: runs on apply, run options, cancel mode and run")
struct RunOptionsTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()

    /// The toy driver, recording what the engine hands it; `runsOnApply` as given, and a run
    /// the vendor knows by id though the status does not record it (`vendorOnly`).
    struct RecordingDriver: ResourceDriver {
        typealias Spec = ScriptedDriver.Spec
        typealias Objects = ScriptedDriver.Objects
        typealias RunReference = ScriptedDriver.RunReference
        typealias Baseline = ScriptedDriver.Baseline

        let toy: ScriptedDriver
        let descriptor: DriverDescriptor
        let log = Log()

        /// What the engine handed the driver (a class: a `Mutex` cannot be copied with the driver).
        final class Log: Sendable {
            let contexts = Mutex<[TriggerContext]>([])
            let cancels = Mutex<[(String, CancelMode)]>([])
            let lookups = Mutex<[(String, String, String)]>([])
            /// The driver finds every run it is asked to cancel ended (as the pipeline driver does
            /// when its run document ended before the status recorded it).
            let endedAtVendor = Mutex<Bool>(false)
        }

        init(vendor: ScriptedVendor, runsOnApply: Bool) {
            toy = ScriptedDriver(vendor: vendor)
            var descriptor = ScriptedDriver.descriptor(type: "toy")
            descriptor.runsOnApply = runsOnApply
            self.descriptor = descriptor
        }

        func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec { try toy.decodeSpec(spec) }
        func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects { try await toy.ensure(spec, known: known) }
        func baseline(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> Baseline { try await toy.baseline(spec, objects: objects) }
        func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
            log.contexts.withLock { $0.append(context) }
            return try await toy.trigger(spec, objects: objects, context: context)
        }
        func runs(since point: ResumePoint<Baseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
            try await toy.runs(since: point, spec: spec, objects: objects)
        }
        func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? { try await toy.observe(run, objects: objects) }
        var canCancel: Bool { true }
        func cancel(_ run: RunReference, objects: Objects) async throws(VendorFailure) { try await cancel(run, objects: objects, mode: .stop) }
        func cancel(_ run: RunReference, objects: Objects, mode: CancelMode) async throws(VendorFailure) {
            log.cancels.withLock { $0.append((run.runID, mode)) }
            if log.endedAtVendor.withLock({ $0 }) {
                throw VendorFailure.runEnded("run \(run.runID) already ended (succeeded); nothing was cancelled")
            }
            try await toy.cancel(run, objects: objects)
        }
        func reference(forRun id: String, workspace: String, name: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference? {
            log.lookups.withLock { $0.append((id, workspace, name)) }
            guard toy.vendor.runs.contains(where: { $0.id == id }) else { return nil }
            // The test kit's reference has no public initializer: made as the engine stores it.
            return try? JSONDecoder().decode(RunReference.self, from: Data(#"{"runID":"\#(id)"}"#.utf8))
        }
        func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) { try await toy.retire(objects, spec: spec) }
        func objectRows(_ objects: Objects) -> [DetailRow] { toy.objectRows(objects) }
    }

    func apply(_ name: String, job: String) throws -> CommandEnvelope {
        .apply(try InMemoryEngine.toyManifest(name: name, job: job), workspace: Self.workspace)
    }

    @Test("runsOnApply false: an apply ensures and records the status (active, the generation observed) and triggers nothing; a run then triggers")
    func applyWithoutRun() async throws {
        let vendor = ScriptedVendor()
        let driver = RecordingDriver(vendor: vendor, runsOnApply: false)
        let engine = InMemoryEngine(driver: AnyResourceDriver(driver))
        let applied = await engine.processor().process(engine.delivery(try apply("p", job: "nightly")))
        #expect(applied.disposition == .ack && applied.outcome == "applied", "\(applied)")
        #expect(vendor.calls(.ensure) == 1 && vendor.calls(.trigger) == 0 && vendor.calls(.baseline) == 0)
        let status = try #require(try await engine.status("p"))
        #expect(status.phase == .active && status.observedGeneration == 1 && status.currentRun == nil && status.lastRun == nil)
        #expect(status.objects?["job"]?.stringValue == "nightly")
        #expect(engine.followUps.published.isEmpty)
        let entity = try #require(try await engine.entity("p"))
        #expect(entity.activeCommand == nil && entity.lastCommand != nil)

        // The same apply again, as a new message (the same id is a duplicate): unchanged.
        // Another spec: a new generation, still no run.
        let again = await engine.processor().process(engine.delivery(try apply("p", job: "nightly"), id: "apply-again"))
        #expect(again.outcome == "unchanged", "\(again)")
        let changed = await engine.processor().process(engine.delivery(try apply("p", job: "hourly")))
        #expect(changed.outcome == "applied" && vendor.calls(.trigger) == 0)
        #expect(try await engine.status("p")?.observedGeneration == 2)

        let run = await engine.processor().process(engine.delivery(.run(ResourceReference(name: try ResourceName("p")), workspace: Self.workspace)))
        #expect(run.outcome == "triggered" && vendor.calls(.trigger) == 1)
    }

    @Test("a run's event and input reach the trigger with the resource's workspace and name, and make the command's content (its dedup id)")
    func runOptions() async throws {
        let vendor = ScriptedVendor()
        let driver = RecordingDriver(vendor: vendor, runsOnApply: false)
        let engine = InMemoryEngine(driver: AnyResourceDriver(driver))
        _ = await engine.processor().process(engine.delivery(try apply("p", job: "nightly")))
        let event: JSONValue = ["subject": "events.orders", "payload": ["id": 7]]
        let envelope = CommandEnvelope.run(ResourceReference(name: try ResourceName("p")), workspace: Self.workspace, input: "orders", event: event)
        let plain = CommandEnvelope.run(ResourceReference(name: try ResourceName("p")), workspace: Self.workspace)
        #expect(envelope.deduplicationID != plain.deduplicationID)
        let result = await engine.processor().process(engine.delivery(envelope, id: "run-1"))
        #expect(result.outcome == "triggered")
        let context = try #require(driver.log.contexts.withLock { $0.last })
        #expect(context.commandID == "run-1" && context.input == "orders" && context.event == event)
        #expect(context.workspace == "public" && context.name == "p")

        // Decoded from the wire as encoded.
        let decoded = try CommandEnvelope(decoding: envelope.encoded())
        #expect(decoded.options == CommandOptions(event: event, input: "orders"))
        #expect(decoded == envelope)
    }

    @Test("malformed run and cancel options are refused naming the field; other operations ignore them")
    func malformedOptions() throws {
        let cases: [(String, String)] = [
            (#"{"op":"run","workspace":"public","resource":{"name":"p"},"event":"text"}"#, "/event"),
            (#"{"op":"run","workspace":"public","resource":{"name":"p"},"input":"Not.A.Name"}"#, "/input"),
            (#"{"op":"run","workspace":"public","resource":{"name":"p"},"input":7}"#, "/input"),
            (#"{"op":"cancel","workspace":"public","resource":{"name":"p"},"mode":"kill"}"#, "/mode"),
            (#"{"op":"cancel","workspace":"public","resource":{"name":"p"},"run":""}"#, "/run"),
            (#"{"op":"cancel","workspace":"public","resource":{"name":"p"},"run":"has space"}"#, "/run"),
        ]
        for (text, field) in cases {
            do {
                _ = try CommandEnvelope(decoding: Array(text.utf8))
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.field?.description == field, "\(text): \(error)")
            }
        }
        let delete = try CommandEnvelope(decoding: Array(#"{"op":"delete","workspace":"public","resource":{"name":"p"},"mode":"kill","event":1}"#.utf8))
        #expect(delete.options.isEmpty)
        let cancel = try CommandEnvelope(decoding: Array(#"{"op":"cancel","workspace":"public","resource":{"name":"p"},"mode":"terminate","run":"20270115-080000-abc123"}"#.utf8))
        #expect(cancel.options == CommandOptions(mode: .terminate, run: "20270115-080000-abc123"))
    }

    @Test("a cancel the driver finds ended (its run ended before the status recorded it) is answered runEnded on lastError; the status's run and phase are left as they were")
    func cancelOfRunEndedAtDriver() async throws {
        let vendor = ScriptedVendor()
        let driver = RecordingDriver(vendor: vendor, runsOnApply: true)
        let engine = InMemoryEngine(driver: AnyResourceDriver(driver))
        let processor = engine.processor()
        let name = try ResourceName("p")
        _ = await processor.process(engine.delivery(try apply("p", job: "nightly")))
        let current = try #require(try await engine.status("p")?.currentRun)
        #expect(!current.isFinished)
        driver.log.endedAtVendor.withLock { $0 = true }

        for run in [current.key, nil] {
            let answer = await processor.process(engine.delivery(.cancel(ResourceReference(name: name), workspace: Self.workspace, mode: .stop, run: run), id: UUID().uuidString))
            #expect(answer.outcome == "runEnded" && answer.disposition == .ack, "\(answer)")
            let status = try #require(try await engine.status("p"))
            #expect(status.lastError?.reason == "runEnded" && status.lastError?.message.contains("already ended") == true, "\(String(describing: status.lastError))")
            #expect(status.phase == .active, "the status's phase stays")
            #expect(status.currentRun == current, "the status's run is left as it was")
        }
        #expect(driver.log.cancels.withLock { $0.count } == 2)
    }

    @Test("cancel: the mode reaches the driver; a run named by id is the status's, else the driver's; one that ended, or that nobody knows, is said on lastError and nothing is cancelled")
    func cancelNamedRuns() async throws {
        let vendor = ScriptedVendor()
        let driver = RecordingDriver(vendor: vendor, runsOnApply: true)
        let engine = InMemoryEngine(driver: AnyResourceDriver(driver))
        let processor = engine.processor()
        let name = try ResourceName("p")
        _ = await processor.process(engine.delivery(try apply("p", job: "nightly")))
        let first = try #require(try await engine.status("p")?.currentRun)

        // The run in progress, terminated: the mode reaches the driver.
        let terminate = await processor.process(engine.delivery(.cancel(ResourceReference(name: name), workspace: Self.workspace, mode: .terminate, run: nil)))
        #expect(terminate.outcome == "cancelled", "\(terminate)")
        #expect(driver.log.cancels.withLock { $0.map(\.1) } == [.terminate])
        #expect(try await engine.status("p")?.lastRun?.phase == .cancelled)

        // A run the status knows by key, once it ended: said, not cancelled again.
        let ended = await processor.process(engine.delivery(.cancel(ResourceReference(name: name), workspace: Self.workspace, mode: .stop, run: first.key)))
        #expect(ended.outcome == "runEnded", "\(ended)")
        let afterEnded = try #require(try await engine.status("p"))
        #expect(afterEnded.lastError?.reason == "runEnded" && afterEnded.lastError?.message.contains("already ended") == true)
        #expect(afterEnded.phase == .active, "the status's phase stays")
        #expect(driver.log.cancels.withLock { $0.count } == 1)

        // A run only the vendor knows (the status keeps the current and last run only).
        let older = vendor.createRunOutOfBand(job: "nightly")
        for _ in 0..<2 { _ = await processor.process(engine.delivery(.run(ResourceReference(name: name), workspace: Self.workspace), id: UUID().uuidString)) }
        let byDriver = await processor.process(engine.delivery(.cancel(ResourceReference(name: name), workspace: Self.workspace, mode: .stop, run: older)))
        #expect(byDriver.outcome == "cancelled", "\(byDriver)")
        #expect(driver.log.lookups.withLock { $0.map(\.0) } == [older])
        #expect(driver.log.lookups.withLock { $0.first.map { [$0.1, $0.2] } } == ["public", "p"])
        #expect(driver.log.cancels.withLock { $0.last.map { [$0.0, $0.1.rawValue] } } == [older, "stop"])

        // Nobody knows it.
        let unknown = await processor.process(engine.delivery(.cancel(ResourceReference(name: name), workspace: Self.workspace, mode: .stop, run: "no-such-run")))
        #expect(unknown.outcome == "unknownRun" && unknown.disposition == .ack)
        #expect(try await engine.status("p")?.lastError?.reason == "unknownRun")
        #expect(driver.log.cancels.withLock { $0.count } == 2)
        #expect(try await engine.entity("p")?.activeCommand == nil, "the resource is free again")
    }
}
