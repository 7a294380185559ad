@testable import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HightouchDriver
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
            // The follower records the end, then acknowledges: the follow-up leaves the stream
            // moments after the status shows the end.
            var left = try await harness.jetStream.streamInfo(harness.names.followUpStream).state.messages
            let deadline = ContinuousClock.now.advanced(by: .seconds(5))
            while left > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                left = try await harness.jetStream.streamInfo(harness.names.followUpStream).state.messages
            }
            #expect(left == 0, "the follow-up ended")
        }
    }

    @Test("the leader's scheduled drift check: a sync deleted and another disabled at the vendor are both repaired within one interval, with two replicas")
    func scheduledCheckRepairs() async throws {
        try await withOperator(replicas: 2, runDuration: .milliseconds(300), environment: ["OPERATOR_DRIFT_CHECK_INTERVAL": "1s"]) { harness in
            let workspace = try WorkspaceName("public")
            for name in ["drift-a", "drift-b"] {
                try await harness.publish(.apply(try OperatorHarness.seedManifest(name: name, modelSlug: "model-\(name)", syncSlug: "sync-\(name)"), workspace: workspace))
            }
            for name in ["drift-a", "drift-b"] { try await harness.waitForStatus(name) { $0.runtime == "succeeded" } }
            let syncs = try await harness.simulatorSyncs()
            let deleted = try #require(syncs["sync-drift-a"]?.id)
            let disabled = try #require(syncs["sync-drift-b"]?.id)
            try harness.simulator.deleteSync(id: deleted)
            // Someone disables the other sync in Hightouch's UI.
            var request = URLRequest(url: try #require(URL(string: "\(harness.hightouch.serviceURL)/api/v1/syncs/\(disabled)")))
            request.httpMethod = "PATCH"
            request.setValue("Bearer test-secret-token", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"disabled": true}"#.utf8)
            _ = try await URLSession.shared.data(for: request)
            #expect(try await harness.simulatorSyncs()["sync-drift-b"]?.disabled == true)

            let a = try await harness.waitForStatus("drift-a", timeout: .seconds(10)) { $0.lastDrift?.kind == "scheduled" }
            let b = try await harness.waitForStatus("drift-b", timeout: .seconds(10)) { $0.lastDrift?.kind == "scheduled" }
            #expect(a.lastDrift?.found.contains("no longer exists at Hightouch") == true, "\(String(describing: a.lastDrift))")
            #expect(b.lastDrift?.found.contains("is disabled, the spec says enabled") == true, "\(String(describing: b.lastDrift))")
            let after = try await harness.simulatorSyncs()
            #expect(after["sync-drift-a"] != nil && after["sync-drift-a"]?.id != deleted, "recreated")
            #expect(after["sync-drift-b"]?.disabled == false, "enabled again")
            #expect(a.vendorValue("syncID") == after["sync-drift-a"].map { String($0.id) }, "the status records the new sync")
            #expect(harness.triggers(syncSlug: "sync-drift-a") == 1 && harness.triggers(syncSlug: "sync-drift-b") == 1, "a repair triggers nothing")
        }
    }
}
