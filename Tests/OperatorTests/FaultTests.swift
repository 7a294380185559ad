import FactoryModel
import Foundation
import HightouchDriver
import HightouchSimulator
import JSONSchema
import NATSKit
@testable import FactoryEngine
import FactoryState
import Synchronization
import Testing

@Suite("Faults: replicas killed", .serialized, .timeLimit(.minutes(5)))
struct FaultTests {
    /// Waits until every name has runtime succeeded (or the deadline), returning those that did.
    static func waitForAll(_ harness: OperatorHarness, _ names: [String], timeout: Duration) async throws -> Set<String> {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var succeeded = Set<String>()
        while ContinuousClock.now < deadline {
            let list = (try? await harness.query(StatusQuery(workspace: "public")))?.resources ?? []
            succeeded = Set(list.filter { $0.runtime == "succeeded" }.map(\.name))
            if succeeded.isSuperset(of: names) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        return succeeded
    }

    @Test("a replica process killed with SIGKILL mid-way: every resource still ends, exactly one trigger per command")
    func sigkillMidway() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, workers: 4, runDuration: .milliseconds(500), ackWait: .seconds(2))
        harness.simulator.updateKnobs { $0.latency = .milliseconds(30) }
        let first = try harness.startProcess(named: "replica-a")
        let second = try harness.startProcess(named: "replica-b")
        do {
            // Both are up when they answer a status query.
            _ = try await harness.waitForQueryable()
            let names = (1...50).map { String(format: "pipeline-%02d", $0) }
            for name in names {
                let manifest = try OperatorHarness.seedManifest(name: name, modelSlug: "model-\(name)", syncSlug: "sync-\(name)")
                try await harness.publish(.apply(manifest, workspace: try WorkspaceName("public")))
            }
            // Kill one replica once work is under way.
            let started = ContinuousClock.now
            while harness.simulator.counters().triggersBySyncSlug.count < 10, ContinuousClock.now - started < .seconds(20) {
                try await Task.sleep(for: .milliseconds(20))
            }
            first.kill()
            #expect(await first.waitForExit() != nil)
            let succeeded = try await Self.waitForAll(harness, names, timeout: .seconds(90))
            #expect(succeeded.isSuperset(of: names), "missing: \(Set(names).subtracting(succeeded).sorted())")
            let counters = harness.simulator.counters()
            let extra = names.filter { (counters.triggersBySyncSlug["sync-\($0)"] ?? 0) != 1 }
            #expect(extra.isEmpty, "not exactly one trigger: \(extra.map { "\($0)=\(counters.triggersBySyncSlug["sync-\($0)"] ?? 0)" })")
            #expect(try await harness.commandsLeft() == 0)
            #expect(second.isRunning)
            // The kill hit work in flight: the survivor finished commands the killed replica held.
            let takenOver = second.log.split(separator: "\n").filter { $0.contains("Command handled") && !$0.contains("command.delivery=1 ") }
            #expect(!takenOver.isEmpty, "the survivor redelivered none of the killed replica's commands")
        } catch {
            print(first.log.suffix(3000))
            print(second.log.suffix(3000))
            throw error
        }
        second.terminate()
        #expect(await second.waitForExit() == 0)
        await harness.stop()
    }
}

/// Triggers for real, then loses the answer the first `count` times (as a timeout or a dropped
/// connection after Hightouch acted would).
func lostTriggerAnswers(_ inner: HightouchDriver, count: Int) -> AnyResourceDriver {
    let remaining = Mutex(count)
    return InterposedDriver(inner, trigger: { inner, spec, objects, context async throws(VendorFailure) in
        let run = try await inner.trigger(spec, objects: objects, context: context)
        let lose = remaining.withLock { remaining -> Bool in
            guard remaining > 0 else { return false }
            remaining -= 1
            return true
        }
        if lose {
            throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "the answer to the trigger (run \(run.reference.runID)) was lost")
        }
        return run
    }).erased
}

@Suite("Faults: lost answers", .serialized, .timeLimit(.minutes(2)))
struct LostAnswerTests {
    @Test("a trigger whose answer is lost is not repeated: the retried command adopts the run it created")
    func lostTriggerAnswerAdoptsRun() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(400))
        try await harness.addReplica(named: "lossy") { lostTriggerAnswers($0, count: 1) }
        do {
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            let view = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1, "the lost answer did not cause a second run")
            #expect(view.lastRun?.id == harness.simulator.triggerLog().first.map { "\($0.runID)" })
            #expect(view.lastError == nil, "the transient error was cleared by the success")
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
