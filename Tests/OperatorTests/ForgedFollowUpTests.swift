import FactoryModel
import Foundation
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

/// Found by the hostile-input corpus (Tests/HostileInput): follow-up messages are trusted input
/// of the run followers. A follow-up naming a key that is not a valid KV key was redelivered
/// forever, and one pointing a resource at another resource's run wrote that run into its status.
@Suite("Forged follow-ups", .serialized, .timeLimit(.minutes(2)))
struct ForgedFollowUpTests {
    func publishFollowUp(_ harness: OperatorHarness, _ json: String, id: String) async throws {
        try await harness.jetStream.publish(
            Array(json.utf8), to: harness.names.followUpSubject, options: JetStreamPublishOptions(messageID: id)
        )
    }

    func followUpsLeft(_ harness: OperatorHarness) async throws -> UInt64 {
        try await harness.jetStream.streamInfo(harness.names.followUpStream).state.messages
    }

    @Test("a follow-up whose names are not KV keys is dropped, not redelivered forever")
    func invalidNamesAreTerminated() async throws {
        try await withOperator { harness in
            for (index, json) in [
                #"{"version":1,"workspace":"public","name":"a b","syncID":"1","runID":"1"}"#,
                #"{"version":1,"workspace":"public","name":"","syncID":"1","runID":"1"}"#,
                #"{"version":1,"workspace":"public.x","name":"y","syncID":"1","runID":"1"}"#,
            ].enumerated() {
                try await publishFollowUp(harness, json, id: "forged-\(index)")
            }
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while try await followUpsLeft(harness) > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await followUpsLeft(harness) == 0, "a forged follow-up is still being redelivered")
        }
    }

    @Test("a follow-up pointing a resource at a run its status does not know changes nothing")
    func unknownRunIsIgnored() async throws {
        try await withOperator(runDuration: .milliseconds(300)) { harness in
            let workspace = try WorkspaceName("public")
            for name in ["victim", "donor"] {
                let manifest = try OperatorHarness.seedManifest(name: name, modelSlug: "model-\(name)", syncSlug: "sync-\(name)")
                try await harness.publish(.apply(manifest, workspace: workspace))
            }
            let victim = try await harness.waitForStatus("victim") { $0.runtime == "succeeded" }
            let donor = try await harness.waitForStatus("donor") { $0.runtime == "succeeded" }
            let key = StateStore.statusKey(workspace: "public", name: "victim")
            // The last write of an ended run marks its lineage events published, just after the
            // status write that made it succeed: the status is settled once that is in.
            var before = try #require(try await harness.store.read(StatusRecord.self, key: key))
            let settled = ContinuousClock.now.advanced(by: .seconds(10))
            while before.document.lastRun?.lineagePublished != ["START", "COMPLETE"], ContinuousClock.now < settled {
                try await Task.sleep(for: .milliseconds(50))
                before = try #require(try await harness.store.read(StatusRecord.self, key: key))
            }
            #expect(before.document.lastRun?.lineagePublished == ["START", "COMPLETE"])

            let syncID = try #require(donor.vendorValue("syncID"))
            let runID = try #require(donor.lastRun?.id)
            try await publishFollowUp(
                harness, #"{"version":1,"workspace":"public","name":"victim","syncID":"\#(syncID)","runID":"\#(runID)","commandID":"forged"}"#, id: "forged-run"
            )
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while try await followUpsLeft(harness) > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(300))
            let after = try #require(try await harness.store.read(StatusRecord.self, key: key))
            #expect(after.revision == before.revision, "the victim's status was rewritten")
            #expect(after.document.lastRun?.vendorRunID == victim.lastRun?.id, "the victim's last run is now \(String(describing: after.document.lastRun?.vendorRunID))")
        }
    }
}
