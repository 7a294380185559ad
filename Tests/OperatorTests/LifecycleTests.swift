import FactoryModel
import Foundation
import HightouchSimulator
import JSONSchema
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Apply, run, delete", .serialized, .timeLimit(.minutes(3)))
struct LifecycleTests {
    @Test("the seed resource: model and sync created, one run triggered, runtime succeeded")
    func seedResourceSucceeds() async throws {
        try await withOperator { harness in
            let manifest = try OperatorHarness.seedManifest()
            let ack = try await harness.publish(.apply(manifest, workspace: try WorkspaceName("public")))
            #expect(ack.duplicate == false)
            let view = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(view.status == "active")
            #expect(view.type == "resource")
            #expect(view.version == "v1beta")
            #expect(view.workspace == "public")
            #expect(view.resourceType == "hightouch")
            #expect(view.vendorValue("modelSlug") == "city-retail-01")
            #expect(view.vendorValue("syncSlug") == "icebase-excel-01")
            #expect(view.vendorValue("modelID") != nil && view.vendorValue("syncID") != nil)
            #expect(view.vendorRows?.map(\.label) == ["Model", "Sync"], "the driver's rows")
            let run = try #require(view.lastRun)
            #expect(run.status == "success" && run.phase == "succeeded")
            #expect(run.progress == 1)
            #expect(run.summary?.hasPrefix("rows ") == true)
            #expect(run.details?["plannedRows"] != nil && run.rows?.contains { $0.label == "Planned rows" } == true)
            #expect(run.finishedAt != nil)
            #expect(view.currentRun == nil)
            #expect(view.generation == 1 && view.observedGeneration == 1)
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)
            let log = harness.simulator.triggerLog()
            #expect(log.count == 1)
            #expect(try await harness.commandsLeft() == 0, "the command was acknowledged and removed")
        }
    }
}

@Suite("Run outcomes, re-apply, run, delete", .serialized, .timeLimit(.minutes(3)))
struct OutcomeTests {
    let workspace = try! WorkspaceName("public")

    @Test("a failing run gives runtime failed with the vendor's error; warning is reported as such")
    func failedAndWarning() async throws {
        try await withOperator { harness in
            harness.simulator.forceOutcome(.failed, forSyncSlug: "sync-fails", error: "destination rejected 12 rows")
            harness.simulator.forceOutcome(.warning, forSyncSlug: "sync-warns")
            try await harness.publish(.apply(try OperatorHarness.seedManifest(name: "fails", modelSlug: "model-fails", syncSlug: "sync-fails"), workspace: workspace))
            try await harness.publish(.apply(try OperatorHarness.seedManifest(name: "warns", modelSlug: "model-warns", syncSlug: "sync-warns"), workspace: workspace))
            let failed = try await harness.waitForStatus("fails") { $0.runtime == "failed" }
            #expect(failed.lastRun?.status == "failed")
            #expect(failed.lastRun?.error == "destination rejected 12 rows")
            #expect(failed.status == "active", "the resource exists; its run failed")
            let warned = try await harness.waitForStatus("warns") { $0.lastRun != nil }
            #expect(warned.lastRun?.status == "warning")
            #expect(warned.runtime == "succeeded")
        }
    }

    @Test("re-applying the same spec triggers nothing; run triggers exactly one more; delete disables the sync and marks it deleted")
    func reapplyRunDelete() async throws {
        try await withOperator { harness in
            let manifest = try OperatorHarness.seedManifest()
            try await harness.publish(.apply(manifest, workspace: workspace))
            let first = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)

            // The same spec again, as a new command (a different message id).
            try await harness.publish(.apply(manifest, workspace: workspace), messageID: "reapply-1")
            try await Task.sleep(for: .seconds(1))
            #expect(try await harness.commandsLeft() == 0)
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1, "an unchanged re-apply triggers nothing")
            #expect(try await harness.status("pipeline-01")?.generation == first.generation)

            // run: exactly one more.
            let reference = ResourceReference(name: try ResourceName("pipeline-01"))
            try await harness.publish(.run(reference, workspace: workspace), messageID: "run-1")
            let rerun = try await harness.waitForStatus("pipeline-01") { $0.lastRun?.id != first.lastRun?.id && $0.runtime == "succeeded" }
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 2)
            #expect(rerun.lastCommand?.id == "run-1")

            // A changed spec triggers again and bumps the generation.
            var changed = manifest
            changed.resource.spec = try JSONValue(parsing: changed.resource.spec.serialized().replacingOccurrences(of: "LIMIT 10000", with: "LIMIT 500"))
            try await harness.publish(.apply(changed, workspace: workspace))
            let reapplied = try await harness.waitForStatus("pipeline-01") { $0.generation == 2 && $0.observedGeneration == 2 && $0.runtime == "succeeded" }
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 3)
            #expect(reapplied.spec?["model"]?["raw"]?["sql"]?.stringValue?.contains("LIMIT 500") == true)

            // delete: the sync is disabled at the vendor, the status says deleted.
            try await harness.publish(.delete(reference, workspace: workspace), messageID: "delete-1")
            let deleted = try await harness.waitForStatus("pipeline-01") { $0.status == "deleted" }
            #expect(deleted.deletedAt != nil)
            let syncs = try await harness.simulatorSyncs()
            #expect(syncs["icebase-excel-01"]?.disabled == true)
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 3, "deleting triggers nothing")
            // A run of a deleted resource is refused.
            try await harness.publish(.run(reference, workspace: workspace), messageID: "run-after-delete")
            let refused = try await harness.waitForStatus("pipeline-01") { $0.lastError?.commandId == "run-after-delete" }
            #expect(refused.lastError?.reason == "notApplied")
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 3)
        }
    }

    @Test("the same command published twice (same message id, and again after the duplicate window) triggers once")
    func duplicatePublishes() async throws {
        try await withOperator { harness in
            let envelope = CommandEnvelope.apply(try OperatorHarness.seedManifest(), workspace: workspace)
            let first = try await harness.publish(envelope, messageID: "cmd-42")
            let second = try await harness.publish(envelope, messageID: "cmd-42")
            #expect(second.duplicate, "JetStream dropped the repeat inside the window")
            #expect(second.sequence == first.sequence)
            try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            // Shrink the window so that the next publish is stored again, as it would be after two minutes.
            var stream = try await harness.jetStream.streamInfo(harness.names.commandStream).configuration
            stream.duplicateWindow = .milliseconds(500)
            try await harness.jetStream.createOrUpdateStream(stream)
            // The server forgets message ids on its own timer, which may still run on the old
            // window's schedule: publish again until the id is forgotten (a repeat it still
            // knows is dropped, so the retries change nothing).
            try await Task.sleep(for: .seconds(1))
            var third = try await harness.publish(envelope, messageID: "cmd-42")
            let forgetDeadline = ContinuousClock.now.advanced(by: .seconds(15))
            while third.duplicate, ContinuousClock.now < forgetDeadline {
                try await Task.sleep(for: .milliseconds(500))
                third = try await harness.publish(envelope, messageID: "cmd-42")
            }
            #expect(third.duplicate == false, "stored again after the window")
            #expect(third.sequence > first.sequence)
            try await Task.sleep(for: .seconds(1))
            #expect(try await harness.commandsLeft() == 0, "the late duplicate was acknowledged")
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)
            #expect(try await harness.status("pipeline-01")?.lastCommand?.sequence == first.sequence, "the duplicate took no effect")
        }
    }
}
