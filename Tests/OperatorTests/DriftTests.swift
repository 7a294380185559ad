@testable import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import HightouchSimulator
import JSONSchema
import NATSKit
import Testing

/// Vendor objects that vanish behind the operator's back (issue 18): found on use and repaired,
/// and a run whose objects vanished is not followed forever.
@Suite("Drift: vanished vendor objects", .serialized, .timeLimit(.minutes(2)))
struct DriftTests {
    @Test("run after the vendor forgot the sync (the local stack's simulator restarted empty): the objects are ensured again, the repair recorded, one run")
    func runRepairsVanishedObjects() async throws {
        try await withOperator(runDuration: .milliseconds(300)) { harness in
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            let before = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(before.lastDrift == nil)
            // The simulator forgets every object (and its counters), as a restarted one would.
            harness.simulator.resetObjects()
            harness.simulator.resetCounters()
            try await harness.publish(.run(ResourceReference(name: try ResourceName("pipeline-01")), workspace: try WorkspaceName("public")), messageID: "run-after-forget")
            let after = try await harness.waitForStatus("pipeline-01") { $0.lastRun?.key == "run-after-forget" && $0.runtime == "succeeded" }
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1, "exactly one run for the command")
            let drift = try #require(after.lastDrift)
            #expect(drift.kind == "onUse" && drift.commandId == "run-after-forget")
            #expect(drift.found.contains("no longer exists at Hightouch"), "\(drift.found)")
            #expect(after.lastError == nil && after.status == "active")
            #expect(try await harness.simulatorSyncs()["icebase-excel-01"] != nil, "the sync exists again")
        }
    }

    @Test("a run whose sync vanishes while it goes on is recorded failed with the reason, not followed forever")
    func runWhoseObjectsVanish() async throws {
        try await withOperator(runDuration: .seconds(30)) { harness in
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            try await harness.waitForStatus("pipeline-01") { $0.currentRun?.status == "processing" || $0.currentRun?.status == "querying" }
            harness.simulator.resetObjects()
            let ended = try await harness.waitForStatus("pipeline-01") { $0.currentRun == nil }
            #expect(ended.runtime == "failed", "\(ended.runtime)")
            #expect(ended.lastRun?.error?.contains("cannot follow the run") == true, "\(String(describing: ended.lastRun?.error))")
            let left = try await harness.jetStream.streamInfo(harness.names.followUpStream).state.messages
            #expect(left == 0, "the follow-up ended")
        }
    }
}
