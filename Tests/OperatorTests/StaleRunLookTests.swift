import FactoryModel
import Foundation
import JSONSchema
import NATSKit
@testable import OperatorCore
import Synchronization
import Testing

/// Found by `scripts/chaos replica-freeze`: a follower that stalled (SIGSTOP) between looking at
/// a run and recording the look wrote "processing" after another follower had recorded the end.
/// The run became current again, and no follow-up was left to look at it: RUNTIME inprogress
/// forever. A late look never moves an ended run back.
@Suite("Stale looks at runs", .serialized, .timeLimit(.minutes(2)))
struct StaleRunLookTests {
    static func run(_ id: String, _ status: String) -> RunRecord {
        RunRecord(id: id, status: status, checkedAt: Date())
    }

    @Test("a look at a run in progress after its end was recorded changes nothing")
    func lateLookIsIgnored() {
        var status = StatusRecord(workspace: "public", name: "x", type: "hightouch", phase: .active, at: Date())
        status.record(Self.run("500001", "queued"))
        status.record(Self.run("500001", "success"))
        status.record(Self.run("500001", "reporting"))
        #expect(status.currentRun == nil)
        #expect(status.lastRun?.status == "success")
        #expect(status.runtime == .succeeded)
        // A newer run still becomes current, and its own looks still count.
        status.record(Self.run("500002", "processing"))
        #expect(status.currentRun?.id == "500002")
        #expect(status.lastRun?.id == "500001")
    }

    @Test("a follower with a stale answer from the vendor does not reopen an ended run")
    func staleFollowerDoesNotReopen() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(300))
        do {
            try await harness.addReplica(named: "replica-a") { StaleRunAnswers.vendor($0) }
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            let view = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            let runID = try #require(view.lastRun?.id)
            let syncID = try #require(view.vendor?.syncId)
            // Another look at the ended run arrives and the vendor's answer is a stale one; the
            // next look (the redelivery) is held until the status has been checked, as if the
            // follow-up were gone (acknowledged by the follower that saw the end).
            StaleRunAnswers.phase.withLock { $0 = .staleNext }
            let followUp = FollowUp(workspace: "public", name: "pipeline-01", syncID: syncID, runID: runID, commandID: "late")
            try await harness.jetStream.publish(
                Array(try JSONEncoder().encode(followUp)), to: harness.baseConfiguration.followUpSubject,
                options: JetStreamPublishOptions(messageID: "late-look")
            )
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while StaleRunAnswers.phase.withLock({ $0 != .holding }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(StaleRunAnswers.phase.withLock { $0 } == .holding, "the stale answer was given and the next look is waiting")
            let after = try #require(try await harness.status("pipeline-01"))
            StaleRunAnswers.phase.withLock { $0 = .released }
            #expect(after.runtime == "succeeded", "the ended run was reopened: \(after.runtime), current \(String(describing: after.currentRun))")
            #expect(after.currentRun == nil)
        } catch {
            StaleRunAnswers.phase.withLock { $0 = .released }
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}

/// After `phase` is set to `staleNext`: answers one look at a run with "processing" (a look
/// taken before the run ended, recorded late), then holds the next look until `released`.
enum StaleRunAnswers {
    enum Phase { case idle, staleNext, holding, released }
    static let phase = Mutex(Phase.idle)

    static func vendor(_ inner: any PipelineVendor) -> InterposedVendor {
        InterposedVendor(inner, run: { inner, syncID, runID async throws(VendorFailure) in
            guard var run = try await inner.run(syncID: syncID, runID: runID) else { return nil }
            let current = phase.withLock { phase -> Phase in
                let now = phase
                if phase == .staleNext { phase = .holding }
                return now
            }
            switch current {
            case .staleNext:
                run.status = "processing"
                run.finishedAt = nil
            case .holding:
                let deadline = ContinuousClock.now.advanced(by: .seconds(10))
                while phase.withLock({ $0 == .holding }), ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
            case .idle, .released:
                break
            }
            return run
        })
    }
}
