import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import Hightouch
import HightouchDriver
import HightouchSimulator
import JSONSchema
import Synchronization
import Testing

/// Objects under the resource's slugs that it did not record (issue 18, "Bad input"): the driver
/// through the engine in memory (`InMemoryEngine`) against the simulator over HTTP. Someone
/// else's object is refused and left alone; `apply --adopt` takes it over; the operator's own
/// object whose create answer was lost, or that a delete left behind, is still taken silently.
@Suite("Hightouch: foreign objects under the slug, in memory", .timeLimit(.minutes(2)))
struct HightouchForeignObjectTests {
    static func workspace() throws -> WorkspaceName { try WorkspaceName("public") }

    /// Runs `body` with a simulator, its client and an engine hosting the real driver on it.
    func withEngine(_ body: (HightouchSimulator, HightouchClient, InMemoryEngine) async throws -> Void) async throws {
        try await withHightouch(knobs: { $0.runDuration = .milliseconds(200) }) { simulator, client in
            try await body(simulator, client, InMemoryEngine(driver: AnyResourceDriver(HightouchDriver(client: client))))
        }
    }

    /// The seed resource (examples/resource.yaml) under `name`.
    static func manifest(_ name: String = "pipeline-01") throws -> ResourceManifest {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/resource.yaml")
        let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "name: pipeline-01", with: "name: \(name)")
        return try ResourceManifest.load(from: text)
    }

    static func apply(_ name: String = "pipeline-01", adopt: Bool = false) throws -> CommandEnvelope {
        .apply(try manifest(name), workspace: try workspace(), adopt: adopt)
    }

    static func run(_ name: String = "pipeline-01") throws -> CommandEnvelope {
        .run(ResourceReference(name: try ResourceName(name)), workspace: try workspace())
    }

    /// The seed's model as the spec declares it (what the operator would create).
    static func specModel() -> HightouchModelCreate {
        .rawSQL(name: "city-retail-01", slug: "city-retail-01", sourceID: 23474, primaryKey: "__metadata", sql: "SELECT * FROM icebase.retail.city LIMIT 10000")
    }

    /// A sync made by hand under the seed's slug, on `modelID`, configured otherwise than the spec.
    static func handMadeSync(modelID: HightouchID) -> HightouchSyncCreate {
        HightouchSyncCreate(
            slug: "icebase-excel-01", configuration: ["mode": "upsert", "workbookId": "someone-elses-workbook"],
            destinationID: 80565, modelID: modelID, schedule: nil, disabled: false
        )
    }

    static func patches(_ simulator: HightouchSimulator) -> Int {
        let counters = simulator.counters()
        return counters.requests("PATCH /syncs/{syncId}", status: 200) + counters.requests("PATCH /models/{modelId}", status: 200)
    }

    @Test("a new resource whose sync slug another sync holds: refused (foreignObject, error, dead letter), nothing changed, no trigger; apply --adopt takes it over with one trigger")
    func foreignSyncRefusedThenAdopted() async throws {
        try await withEngine { simulator, client, engine in
            // Someone else's pipeline: the same model (indistinguishable from the spec's), a sync
            // under the spec's slug with their own configuration.
            let model = try await client.createModel(Self.specModel())
            let theirs = try await client.createSync(Self.handMadeSync(modelID: model.id))
            simulator.resetCounters()

            let refused = await engine.processor().process(engine.delivery(try Self.apply()))
            #expect(refused.outcome == "failed" && refused.disposition == .term, "\(refused)")
            let status = try #require(try await engine.status("pipeline-01"))
            #expect(status.phase == .error && status.objects == nil)
            let error = try #require(status.lastError)
            #expect(error.reason == "foreignObject")
            #expect(error.message.contains("sync icebase-excel-01 at Hightouch is sync \(theirs.id)"), "\(error.message)")
            #expect(error.message.contains("differs from the spec in configuration, schedule"), "\(error.message)")
            #expect(error.message.hasSuffix("Apply again with factoryctl apply --adopt to take it over, or use another slug"), "\(error.message)")
            #expect(engine.deadLetters.letters.map(\.reason) == ["foreignObject"])
            #expect(Self.patches(simulator) == 0 && simulator.counters().totalTriggers == 0, "nothing changed at Hightouch, nothing triggered")
            #expect(try await client.sync(id: theirs.id).configuration == theirs.configuration)
            #expect(try await engine.entity("pipeline-01")?.activeCommand == nil, "the resource is free for the next command")

            // The same apply again (re-driven) is refused the same way.
            let again = await engine.processor().process(engine.delivery(try Self.apply(), id: "redrive-1"))
            #expect(again.outcome == "failed" && Self.patches(simulator) == 0)

            let adopt = try Self.apply(adopt: true)
            let plainID = try Self.apply().deduplicationID
            #expect(adopt.deduplicationID != plainID, "adopt is part of the content, so of the message id")
            let adopted = await engine.processor().process(engine.delivery(adopt))
            #expect(adopted.outcome == "triggered" && adopted.disposition == .ack, "\(adopted)")
            let after = try #require(try await engine.status("pipeline-01"))
            #expect(after.phase == .active && after.lastError == nil)
            #expect(after.objects?["syncID"]?.stringValue == theirs.id.rawValue && after.objects?["modelID"]?.stringValue == model.id.rawValue)
            let drift = try #require(after.lastDrift)
            #expect(drift.kind == "adopted" && drift.commandID == adopt.deduplicationID)
            #expect(drift.found == "sync \(theirs.id) (icebase-excel-01): configuration, schedule differed from the spec", "\(drift.found)")
            let synced = try await client.sync(id: theirs.id)
            #expect(synced.configuration["mode"] == "mirror" && synced.schedule == .cron("*/5 * * * *"), "updated to the spec")
            #expect(simulator.counters().totalTriggers == 1 && simulator.counters().triggersBySyncID[Int(theirs.id.rawValue) ?? 0] == 1)
            await engine.follow(with: engine.follower(reconcileInterval: .milliseconds(50)), rounds: 200, between: .milliseconds(10))
            #expect(try await engine.status("pipeline-01")?.lastRun?.phase == .succeeded)
            #expect(simulator.counters().totalTriggers == 1, "exactly one run")
        }
    }

    @Test("a create whose answer was lost, retried by another replica: the sync it made matches the spec and is taken silently; one sync, one run")
    func lostCreateAnswerAdoptsSilently() async throws {
        try await withHightouch(knobs: { $0.runDuration = .milliseconds(200) }) { simulator, client in
            let engine = InMemoryEngine(driver: AnyResourceDriver(LostEnsureAnswer(inner: HightouchDriver(client: client), losses: 1)))
            let command = try Self.apply()
            let first = await engine.processor().process(engine.delivery(command, sequence: 1))
            #expect(first.outcome == "retrying" && first.disposition != .ack, "\(first)")
            #expect(simulator.counters().requests("POST /syncs", status: 200) == 1, "the sync was created; only its answer was lost")

            let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: 1, deliveryCount: 2))
            #expect(second.outcome == "triggered", "\(second)")
            let counters = simulator.counters()
            #expect(counters.requests("POST /syncs", status: 409) == 1 && counters.requests("POST /syncs", status: 200) == 1, "found by its slug, not made twice")
            #expect(counters.totalTriggers == 1)
            let status = try #require(try await engine.status("pipeline-01"))
            #expect(status.phase == .active && status.lastError == nil && status.lastDrift == nil, "silently: \(String(describing: status.lastDrift))")
            #expect(engine.deadLetters.letters.isEmpty)
        }
    }

    @Test("drift on use: the recorded sync deleted and another made by hand under its slug; run is refused and changes nothing, then apply --adopt takes it over")
    func driftOnUseRefusedThenAdopted() async throws {
        try await withEngine { simulator, client, engine in
            let applied = await engine.processor().process(engine.delivery(try Self.apply()))
            #expect(applied.outcome == "triggered")
            await engine.follow(with: engine.follower(reconcileInterval: .milliseconds(50)), rounds: 200, between: .milliseconds(10))
            let before = try #require(try await engine.status("pipeline-01"))
            let ours = try #require(before.objects?["syncID"]?.stringValue)
            let modelID = try #require(before.objects?["modelID"]?.stringValue)

            // In Hightouch's UI: our sync deleted, another made under its slug on the same model.
            try simulator.deleteSync(id: try #require(Int(ours)))
            let theirs = try await client.createSync(Self.handMadeSync(modelID: HightouchID(modelID)))
            simulator.resetCounters()

            let refused = await engine.processor().process(engine.delivery(try Self.run(), id: "run-after-replacement"))
            #expect(refused.outcome == "failed" && refused.disposition == .term, "\(refused)")
            let status = try #require(try await engine.status("pipeline-01"))
            #expect(status.phase == .error && status.lastError?.reason == "foreignObject")
            #expect(status.lastError?.message.contains("the sync it recorded, \(ours), is gone") == true, "\(String(describing: status.lastError))")
            #expect(status.lastDrift == nil, "nothing was repaired")
            // The recorded model is this resource's and is ensured in place; the sync is left alone.
            #expect(simulator.counters().requests("PATCH /syncs/{syncId}", status: 200) == 0 && simulator.counters().totalTriggers == 0, "the recorded sync is gone (404); the one under its slug is not written")
            #expect(try await client.sync(id: theirs.id).configuration == theirs.configuration)

            let adopted = await engine.processor().process(engine.delivery(try Self.apply(adopt: true)))
            #expect(adopted.outcome == "triggered", "\(adopted)")
            let after = try #require(try await engine.status("pipeline-01"))
            #expect(after.phase == .active && after.objects?["syncID"]?.stringValue == theirs.id.rawValue)
            #expect(after.lastDrift?.kind == "adopted" && after.lastDrift?.found.hasPrefix("sync \(theirs.id) (icebase-excel-01)") == true)
            #expect(simulator.counters().totalTriggers == 1)

            // From now on it is this resource's: a plain run uses it.
            let run = await engine.processor().process(engine.delivery(try Self.run(), id: "run-after-adopt"))
            #expect(run.outcome == "triggered" && simulator.counters().totalTriggers == 2)
        }
    }

    @Test("re-applied after its deleted state was purged: the sync the delete disabled is taken back silently, enabled again")
    func retiredSyncTakenBack() async throws {
        try await withEngine { simulator, client, engine in
            #expect(await engine.processor().process(engine.delivery(try Self.apply())).outcome == "triggered")
            let syncID = try #require(try await engine.status("pipeline-01")?.objects?["syncID"]?.stringValue)
            let deleted = await engine.processor().process(engine.delivery(.delete(ResourceReference(name: try ResourceName("pipeline-01")), workspace: try Self.workspace())))
            #expect(deleted.outcome == "deleted", "\(deleted)")
            let retired = try await client.sync(id: HightouchID(syncID))
            #expect(retired.disabled && retired.schedule == nil)

            // The purge forgot the resource: a fresh state, the same Hightouch.
            let fresh = InMemoryEngine(driver: engine.driver)
            let again = await fresh.processor().process(fresh.delivery(try Self.apply()))
            #expect(again.outcome == "triggered", "\(again)")
            let status = try #require(try await fresh.status("pipeline-01"))
            #expect(status.objects?["syncID"]?.stringValue == syncID && status.lastDrift == nil && status.lastError == nil)
            let enabled = try await client.sync(id: HightouchID(syncID))
            #expect(!enabled.disabled && enabled.schedule == .cron("*/5 * * * *"))
        }
    }

    @Test("the driver: a model under the slug that differs is refused naming what differs, unchanged; with adopt it is updated and reported; one that matches is taken as it is")
    func driverModelRule() async throws {
        try await withHightouch { simulator, client in
            let driver = HightouchDriver(client: client)
            let spec = try driver.decodeSpec(try Self.manifest().resource.spec)
            var theirs = Self.specModel()
            theirs.primaryKey = "id"
            theirs.raw = .init(sql: "SELECT 1")
            let model = try await client.createModel(theirs)

            var refusal: VendorFailure?
            do throws(VendorFailure) {
                _ = try await driver.ensure(spec, known: nil, context: .standard)
            } catch {
                refusal = error
            }
            let failure = try #require(refusal)
            #expect(failure.isForeignObject && failure.kind == .rejected)
            #expect(failure.message.hasPrefix("model city-retail-01 at Hightouch is model \(model.id), which this resource did not create or record, and it differs from the spec in primary key, query; nothing was changed."), "\(failure.message)")
            #expect(simulator.counters().requests("PATCH /models/{modelId}") == 0 && simulator.counters().requests("POST /syncs") == 0)

            let ensured = try await driver.ensure(spec, known: nil, context: EnsureContext(adopt: true))
            #expect(ensured.objects.modelID == model.id.rawValue)
            #expect(ensured.adopted == [Adoption(object: "model \(model.id) (city-retail-01)", differences: ["primary key", "query"])])
            let updated = try await client.model(id: model.id)
            #expect(updated.primaryKey == "__metadata" && updated.raw?.sql == "SELECT * FROM icebase.retail.city LIMIT 10000")

            // Now both match the spec: a plain ensure without ids takes them, sending nothing.
            simulator.resetCounters()
            let again = try await driver.ensure(spec, known: nil, context: .standard)
            #expect(again.objects == ensured.objects && again.adopted.isEmpty)
            #expect(Self.patches(simulator) == 0)
        }
    }
}

/// The Hightouch driver whose first `losses` ensures lose their answer: the objects are made at
/// Hightouch, then the call fails as a timeout after the vendor acted would.
struct LostEnsureAnswer: ResourceDriver {
    typealias Spec = HightouchDriver.Spec
    typealias Objects = HightouchDriver.Objects
    typealias RunReference = HightouchDriver.RunReference

    let inner: HightouchDriver
    let remaining: LossCounter

    init(inner: HightouchDriver, losses: Int) {
        self.inner = inner
        self.remaining = LossCounter(losses)
    }

    var descriptor: DriverDescriptor { inner.descriptor }
    func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec { try inner.decodeSpec(spec) }

    func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        try await ensure(spec, known: known, context: .standard).objects
    }

    func ensure(_ spec: Spec, known: Objects?, context: EnsureContext) async throws(VendorFailure) -> Ensured<Objects> {
        let ensured = try await inner.ensure(spec, known: known, context: context)
        if remaining.take() {
            throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "ensure sync \(spec.sync.slug): timed out (the answer was lost)")
        }
        return ensured
    }

    func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        try await inner.trigger(spec, objects: objects, context: context)
    }

    func runs(since point: ResumePoint<NoBaseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
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

/// How many more answers to lose, shared by the driver's copies.
final class LossCounter: Sendable {
    private let count: Mutex<Int>
    init(_ count: Int) { self.count = Mutex(count) }

    /// Whether this answer is lost.
    func take() -> Bool {
        count.withLock { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
    }
}
