@testable import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import Hightouch
import HightouchDriver
import HightouchSimulator
import JSONSchema
import Logging
import NATSKit
import NATSTestKit
import Synchronization
import Testing

/// Someone else's object under the resource's slug (issue 18, "Bad input") with a real
/// nats-server, the simulator and replicas: never taken over silently, by an apply, a run or the
/// scheduled drift check; `apply --adopt` takes it over with one run; the operator's own sync whose
/// create answer was lost is still taken as its own.
@Suite("Foreign objects under the slug", .serialized, .timeLimit(.minutes(3)))
struct ForeignObjectTests {
    static func workspace() throws -> WorkspaceName { try WorkspaceName("public") }

    /// A client of the harness's simulator, as a person in Hightouch's UI.
    static func client(_ harness: OperatorHarness) throws -> HightouchClient {
        try HightouchDriver(configuration: harness.hightouch, logger: Logger(label: "test-hand")).client
    }

    /// A sync made by hand under the seed's slug on `modelID`, configured otherwise than the spec.
    static func handMadeSync(_ client: HightouchClient, modelID: HightouchID) async throws -> HightouchSync {
        try await client.createSync(
            HightouchSyncCreate(
                slug: "icebase-excel-01", configuration: ["mode": "upsert", "workbookId": "someone-elses-workbook"],
                destinationID: 80565, modelID: modelID, schedule: nil, disabled: false
            )
        )
    }

    static func syncPatches(_ harness: OperatorHarness) -> Int {
        harness.simulator.counters().requests("PATCH /syncs/{syncId}", status: 200)
    }

    @Test("apply of a new resource whose sync slug another sync holds: refused and dead-lettered, nothing changed, no run; apply --adopt takes it over with exactly one run")
    func applyRefusedThenAdopted() async throws {
        try await withOperator(replicas: 2, runDuration: .milliseconds(300)) { harness in
            let client = try Self.client(harness)
            let model = try await client.createModel(
                .rawSQL(name: "city-retail-01", slug: "city-retail-01", sourceID: 23474, primaryKey: "__metadata", sql: "SELECT * FROM icebase.retail.city LIMIT 10000")
            )
            let theirs = try await Self.handMadeSync(client, modelID: model.id)
            harness.simulator.resetCounters()

            let plain = CommandEnvelope.apply(try OperatorHarness.seedManifest(), workspace: try Self.workspace())
            try await harness.publish(plain)
            let refused = try await harness.waitForStatus("pipeline-01") { $0.status == "error" }
            #expect(refused.lastError?.reason == "foreignObject", "\(String(describing: refused.lastError))")
            #expect(refused.lastError?.message.contains("sync icebase-excel-01 at Hightouch is sync \(theirs.id)") == true)
            #expect(refused.lastError?.message.contains("apply --adopt") == true)
            let letters = try await harness.deadLetters()
            #expect(letters.count == 1 && letters.first?.headers[DeadLetters.reasonHeader] == "foreignObject")
            #expect(Self.syncPatches(harness) == 0 && harness.triggers(syncSlug: "icebase-excel-01") == 0, "nothing changed at Hightouch, no run")
            #expect(try await client.sync(id: theirs.id).configuration == theirs.configuration)

            // factoryctl apply --adopt: the re-drive of the resource in error, with adopt.
            let adopt = CommandEnvelope.apply(try OperatorHarness.seedManifest(), workspace: try Self.workspace(), adopt: true)
            let ack = try await harness.publish(adopt)
            #expect(!ack.duplicate, "adopt is part of the message id")
            let adopted = try await harness.waitForStatus("pipeline-01") { $0.lastCommand?.id == adopt.deduplicationID && $0.runtime == "succeeded" }
            #expect(adopted.status == "active" && adopted.lastError == nil)
            #expect(adopted.lastDrift?.kind == "adopted" && adopted.lastDrift?.commandId == adopt.deduplicationID)
            #expect(adopted.lastDrift?.found == "sync \(theirs.id) (icebase-excel-01): configuration, schedule differed from the spec", "\(String(describing: adopted.lastDrift))")
            #expect(adopted.vendorValue("syncID") == theirs.id.rawValue)
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1, "exactly one run")
            #expect(try await client.sync(id: theirs.id).configuration["mode"] == "mirror", "updated to the spec")
        }
    }

    @Test("drift on use: a run finds its sync deleted and another made by hand under the slug; refused, nothing changed; apply --adopt takes it over")
    func runRefusedThenAdopted() async throws {
        try await withOperator(runDuration: .milliseconds(300)) { harness in
            let client = try Self.client(harness)
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try Self.workspace()))
            let before = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            let ours = try #require(before.vendorValue("syncID"))
            let modelID = try #require(before.vendorValue("modelID"))
            try harness.simulator.deleteSync(id: try #require(Int(ours)))
            let theirs = try await Self.handMadeSync(client, modelID: HightouchID(modelID))
            harness.simulator.resetCounters()

            try await harness.publish(.run(ResourceReference(name: try ResourceName("pipeline-01")), workspace: try Self.workspace()), messageID: "run-after-replacement")
            let refused = try await harness.waitForStatus("pipeline-01") { $0.status == "error" }
            #expect(refused.lastError?.reason == "foreignObject" && refused.lastError?.commandId == "run-after-replacement")
            #expect(refused.lastError?.message.contains("the sync it recorded, \(ours), is gone") == true, "\(String(describing: refused.lastError))")
            #expect(refused.lastDrift == nil && refused.vendorValue("syncID") == ours, "nothing repaired, nothing recorded")
            #expect(Self.syncPatches(harness) == 0 && harness.triggers(syncSlug: "icebase-excel-01") == 0)

            let adopt = CommandEnvelope.apply(try OperatorHarness.seedManifest(), workspace: try Self.workspace(), adopt: true)
            try await harness.publish(adopt)
            let adopted = try await harness.waitForStatus("pipeline-01") { $0.lastCommand?.id == adopt.deduplicationID && $0.runtime == "succeeded" }
            #expect(adopted.lastDrift?.kind == "adopted" && adopted.vendorValue("syncID") == theirs.id.rawValue)
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)
        }
    }

    @Test("the scheduled drift check leaves a hand-made replacement alone: error foreignObject, counted as foreign and logged, no write, no run; then apply --adopt")
    func scheduledCheckRefuses() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(300))
        let metricPort = try FreePort.pick()
        let replica = try harness.startProcess(named: "checker", ["OPERATOR_DRIFT_CHECK_INTERVAL": "1s", "METRIC_PORT": "\(metricPort)"])
        do {
            let client = try Self.client(harness)
            try await harness.waitForQueryable()
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try Self.workspace()))
            let before = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            let ours = try #require(before.vendorValue("syncID"))
            try harness.simulator.deleteSync(id: try #require(Int(ours)))
            let theirs = try await Self.handMadeSync(client, modelID: HightouchID(try #require(before.vendorValue("modelID"))))
            harness.simulator.resetCounters()

            let refused = try await harness.waitForStatus("pipeline-01", timeout: .seconds(15)) { $0.status == "error" }
            #expect(refused.lastError?.reason == "foreignObject" && refused.lastError?.commandId == nil)
            #expect(refused.lastError?.message.hasPrefix("the scheduled drift check found: sync \(ours) (icebase-excel-01) no longer exists at Hightouch; not repaired: sync icebase-excel-01 at Hightouch is sync \(theirs.id)") == true, "\(String(describing: refused.lastError))")
            #expect(refused.lastDrift == nil)
            // It waits: more intervals pass without a write or a run.
            try await Task.sleep(for: .seconds(3))
            #expect(Self.syncPatches(harness) == 0 && harness.triggers(syncSlug: "icebase-excel-01") == 0)
            #expect(try await client.sync(id: theirs.id).configuration == theirs.configuration)
            let (_, metrics) = try await OperationsTests.http("http://127.0.0.1:\(metricPort)/metrics")
            #expect(metrics.contains(#"factory_drift_repairs_total{type="hightouch",kind="foreign"} 1"#), "\(metrics.split(separator: "\n").filter { $0.contains("drift") })")
            #expect(replica.log.contains("Refused to take over a vendor object that is not this resource's"), "\(replica.log.suffix(2_000))")

            let adopt = CommandEnvelope.apply(try OperatorHarness.seedManifest(), workspace: try Self.workspace(), adopt: true)
            try await harness.publish(adopt)
            let adopted = try await harness.waitForStatus("pipeline-01") { $0.lastCommand?.id == adopt.deduplicationID && $0.runtime == "succeeded" }
            #expect(adopted.lastDrift?.kind == "adopted" && adopted.vendorValue("syncID") == theirs.id.rawValue && adopted.status == "active")
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)
        } catch {
            replica.terminate()
            _ = await replica.waitForExit()
            await harness.stop()
            throw error
        }
        replica.terminate()
        _ = await replica.waitForExit()
        await harness.stop()
    }

    @Test("a create whose answer one replica lost: the retry, on another replica, takes the sync it made as its own, silently; one sync, one run")
    func lostCreateAnswer() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(300))
        do {
            // This replica's ensures make the objects, then lose their answer, every time.
            try await harness.addReplica(named: "lossy") { real in
                InterposedDriver(real, ensure: { inner, spec, known throws(VendorFailure) in
                    _ = try await inner.ensure(spec, known: known, context: .standard)
                    throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "ensure sync \(spec.sync.slug): timed out (the answer was lost)")
                }).erased
            }
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try Self.workspace()))
            try await harness.waitForStatus("pipeline-01") { $0.lastError?.message.contains("the answer was lost") == true }
            #expect(harness.simulator.counters().requests("POST /syncs", status: 200) == 1)
            // The lossy replica goes; the command is retried by another.
            harness.replicas[0].shutdown()
            try await harness.addReplica(named: "healthy")
            let view = try await harness.waitForStatus("pipeline-01", timeout: .seconds(40)) { $0.runtime == "succeeded" }
            let counters = harness.simulator.counters()
            #expect(counters.requests("POST /syncs", status: 200) == 1, "one sync: found by its slug, not made again")
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)
            #expect(view.lastDrift == nil && view.lastError == nil && view.status == "active")
            #expect(try await harness.deadLetters().isEmpty)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
