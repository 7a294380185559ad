import FactoryModel
import Foundation
import HightouchSimulator
import NATSKit
import NATSTestKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Replica lifecycle: shutdown and election across processes", .serialized, .timeLimit(.minutes(4)))
struct ReplicaLifecycleTests {
    @Test("SIGTERM under load: the replica stops fetching, finishes or hands back its commands, exits 0; nothing lost, nothing triggered twice")
    func sigtermUnderLoad() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, workers: 4, runDuration: .milliseconds(400), ackWait: .seconds(2))
        harness.simulator.updateKnobs { $0.latency = .milliseconds(40) }
        let stopping = try harness.startProcess(named: "stopping")
        let staying = try harness.startProcess(named: "staying")
        do {
            try await harness.waitForQueryable()
            let names = (1...40).map { String(format: "term-%02d", $0) }
            for name in names {
                try await harness.publish(.apply(try OperatorHarness.seedManifest(name: name, modelSlug: "model-\(name)", syncSlug: "sync-\(name)"), workspace: try WorkspaceName("public")))
            }
            while harness.simulator.counters().triggersBySyncSlug.count < 8 { try await Task.sleep(for: .milliseconds(20)) }
            let signalled = ContinuousClock.now
            stopping.terminate()
            let status = await stopping.waitForExit(timeout: .seconds(20))
            #expect(status == 0, "exit status after SIGTERM")
            #expect(ContinuousClock.now - signalled < .seconds(15), "stopped within its shutdown deadline")
            #expect(stopping.log.contains("Shutting down") && stopping.log.contains("Stopped"))
            let succeeded = try await FaultTests.waitForAll(harness, names, timeout: .seconds(60))
            #expect(succeeded.isSuperset(of: names), "missing: \(Set(names).subtracting(succeeded).sorted())")
            let counters = harness.simulator.counters()
            #expect(names.allSatisfy { counters.triggersBySyncSlug["sync-\($0)"] == 1 }, "one trigger per command")
            #expect(try await harness.commandsLeft() == 0)
        } catch {
            print(stopping.log.suffix(3000))
            await harness.stop()
            throw error
        }
        staying.terminate()
        _ = await staying.waitForExit()
        await harness.stop()
    }

    @Test("election across processes: one leader; a leader killed with SIGKILL is replaced within two TTLs; readiness follows ELECTION_CLUSTER_SIZE")
    func electionAcrossProcesses() async throws {
        let harness = try await OperatorHarness.start(replicas: 0)
        let ports = try FreePort.pick(count: 3)
        let replicas = try (0..<3).map { index in
            try harness.startProcess(named: "elect-\(index)", ["ELECTION_CLUSTER_SIZE": "3", "METRIC_PORT": "\(ports[index])"])
        }
        func states() -> [String: LeaderElection.State] {
            var states: [String: LeaderElection.State] = [:]
            for replica in replicas where replica.isRunning {
                if let data = try? Data(contentsOf: replica.stateFile), let state = try? JSONDecoder.iso8601.decode(LeaderElection.State.self, from: data) {
                    states[replica.name] = state
                }
            }
            return states
        }
        do {
            // Exactly one leader, known to all, and everyone ready once all three are present.
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            var leaders: [String] = []
            while ContinuousClock.now < deadline {
                let current = states()
                leaders = current.filter { $0.value.role == .leader }.map(\.key)
                if leaders.count == 1, current.count == 3, current.values.allSatisfy({ $0.leader == leaders[0] && $0.members == 3 }) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(leaders.count == 1, "one leader: \(states())")
            let leaderName = try #require(leaders.first)
            let firstTerm = try #require(states()[leaderName]?.term)
            for port in ports {
                let (code, body) = try await OperationsTests.waitForHTTP("http://127.0.0.1:\(port)/readyz")
                #expect(code == 200, "ready with the full group: \(body)")
            }

            let leader = try #require(replicas.first { $0.name == leaderName })
            leader.kill()
            let killedAt = ContinuousClock.now
            var successor: (String, LeaderElection.State)?
            while successor == nil, ContinuousClock.now - killedAt < .seconds(20) {
                try await Task.sleep(for: .milliseconds(200))
                let current = states().filter { $0.key != leaderName }
                #expect(current.filter { $0.value.role == .leader }.count <= 1, "never two leaders")
                successor = current.first { $0.value.role == .leader && $0.value.term > firstTerm }
            }
            let takeover = ContinuousClock.now - killedAt
            #expect(successor != nil, "a survivor took over: \(states())")
            #expect(takeover <= OperatorTopology.electionTTL * 2, "took over in \(takeover), within two TTLs")
            // Two of three: below ELECTION_CLUSTER_SIZE once the dead member's key expires.
            let survivorPort = try #require(zip(replicas, ports).first { $0.0.name == successor?.0 }?.1)
            var notReady = false
            let readinessDeadline = ContinuousClock.now.advanced(by: .seconds(20))
            while !notReady, ContinuousClock.now < readinessDeadline {
                let (code, body) = try await OperationsTests.http("http://127.0.0.1:\(survivorPort)/readyz")
                notReady = code == 503 && body.contains("election.quorum failing")
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(notReady, "readiness reports the missing replica")
        } catch {
            for replica in replicas { print(replica.name, replica.log.suffix(1500)) }
            await harness.stop()
            throw error
        }
        for replica in replicas { replica.terminate() }
        for replica in replicas { _ = await replica.waitForExit() }
        await harness.stop()
    }
}
