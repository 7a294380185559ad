import FactoryModel
import Foundation
import HightouchDriver
import JSONSchema
import NATSKit
@testable import FactoryEngine
import FactoryState
import Synchronization
import Testing

/// Found by `scripts/chaos replica-freeze`: a follower that stalled (SIGSTOP) between looking at
/// a run and recording the look wrote "processing" after another follower had recorded the end.
/// The run became current again, and no follow-up was left to look at it: RUNTIME inprogress
/// forever. A late look never moves an ended run back.
@Suite("Stale looks at runs", .serialized, .timeLimit(.minutes(2)))
struct StaleRunLookTests {
    static let recorded = Date()

    /// A look at Hightouch run `id` (recorded when its command triggered it; 500002 later).
    static func run(_ id: String, _ status: String) -> RunRecord {
        let phases: [String: RunPhase] = ["queued": .queued, "processing": .running, "reporting": .running, "success": .succeeded]
        let at = recorded.addingTimeInterval(id == "500002" ? 10 : 0)
        return RunRecord(key: "command-\(id)", vendorRunID: id, reference: nil, phase: phases[status] ?? .running, vendorStatus: status, recordedAt: at, checkedAt: Date())
    }

    @Test("a look at a run in progress after its end was recorded changes nothing")
    func lateLookIsIgnored() {
        var status = StatusRecord(workspace: "public", name: "x", type: "hightouch", phase: .active, at: Date())
        status.record(Self.run("500001", "queued"))
        status.record(Self.run("500001", "success"))
        status.record(Self.run("500001", "reporting"))
        #expect(status.currentRun == nil)
        #expect(status.lastRun?.vendorStatus == "success")
        #expect(status.runtime == .succeeded)
        // A newer run still becomes current, and its own looks still count.
        status.record(Self.run("500002", "processing"))
        #expect(status.currentRun?.vendorRunID == "500002")
        #expect(status.lastRun?.vendorRunID == "500001")
    }

    @Test("a follower that stalls between its look and its write does not reopen the run another follower saw end")
    func staleFollowerDoesNotReopen() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(300))
        do {
            // The first look at the run stalls after the vendor answered "processing".
            StaleRunAnswers.phase.withLock { $0 = .staleNext }
            try await harness.addReplica(named: "replica-a") { StaleRunAnswers.driver($0) }
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while StaleRunAnswers.phase.withLock({ $0 != .holding }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(StaleRunAnswers.phase.withLock { $0 } == .holding, "a look is under way and stalled")
            // Meanwhile another follower sees the end and records it.
            try await Task.sleep(for: .milliseconds(500))
            let store = try harness.store
            let key = StateStore.statusKey(workspace: "public", name: "pipeline-01")
            try await store.modify(StatusRecord.self, key: key) { current in
                guard var status = current, var run = status.currentRun else { return nil }
                run.apply(RunObservation(phase: .succeeded, vendorStatus: "success", finishedAt: Date()), at: Date())
                status.record(run)
                return status
            }
            #expect(try await harness.status("pipeline-01")?.runtime == "succeeded")
            // The stalled look now writes what it saw.
            StaleRunAnswers.phase.withLock { $0 = .released }
            let end = ContinuousClock.now.advanced(by: .seconds(10))
            while try await harness.jetStream.streamInfo(harness.names.followUpStream).state.messages > 0, ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(50))
            }
            let after = try #require(try await harness.status("pipeline-01"))
            #expect(after.runtime == "succeeded", "the ended run was reopened: \(after.runtime), current \(String(describing: after.currentRun))")
            #expect(after.currentRun == nil)
            #expect(try await harness.jetStream.streamInfo(harness.names.followUpStream).state.messages == 0, "the follow-up ended with the run")
        } catch {
            StaleRunAnswers.phase.withLock { $0 = .released }
            await harness.stop()
            throw error
        }
        StaleRunAnswers.phase.withLock { $0 = .idle }
        await harness.stop()
    }
}

/// After `phase` is set to `staleNext`: the next look at a run answers "processing" (a look taken
/// before the run ended) but holds its answer until `released` (recorded late).
enum StaleRunAnswers {
    enum Phase { case idle, staleNext, holding, released }
    static let phase = Mutex(Phase.idle)

    static func driver(_ inner: HightouchDriver) -> AnyResourceDriver {
        InterposedDriver(inner, observe: { inner, run, objects async throws(VendorFailure) in
            guard var observation = try await inner.observe(run, objects: objects) else { return nil }
            let current = phase.withLock { phase -> Phase in
                let now = phase
                if phase == .staleNext { phase = .holding }
                return now
            }
            if current == .staleNext {
                observation.phase = .running
                observation.vendorStatus = "processing"
                observation.finishedAt = nil
                let deadline = ContinuousClock.now.advanced(by: .seconds(20))
                while phase.withLock({ $0 == .holding }), ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            return observation
        }).erased
    }
}
