import Foundation
import Logging
import NATSKit
import NATSTestKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Leader election", .timeLimit(.minutes(2)))
struct LeaderElectionTests {
    @Test("one leader among three; a crashed leader is replaced within two TTLs; the state file follows")
    func oneLeaderAndFailover() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: [server.url]))
            let bucket = try await connection.jetStream().createOrUpdateKeyValue(
                KeyValueConfiguration(bucket: "election-test", history: 1, ttl: .seconds(2))
            )
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("election-\(UUID().uuidString)")
            let replicas = (0..<3).map { index in
                LeaderElection(
                    bucket: bucket, group: "hightouch-operators", instanceID: "replica-\(index)", ttl: .seconds(2),
                    stateFile: directory.appendingPathComponent("replica-\(index).json").path, logger: Logger(label: "test")
                )
            }
            // Everyone campaigns; exactly one wins.
            for replica in replicas { await replica.maintainMembership() }
            for replica in replicas { await replica.renewOrCampaign() }
            let leaders = replicas.filter(\.isLeader)
            #expect(leaders.count == 1)
            let first = try #require(leaders.first)
            let firstTerm = first.state.term
            #expect(firstTerm > 0)
            for replica in replicas { await replica.renewOrCampaign() }
            #expect(replicas.filter(\.isLeader).map(\.instanceID) == [first.instanceID], "renewals keep the same leader")
            for replica in replicas { await replica.maintainMembership() }
            #expect(replicas.allSatisfy { $0.state.leader == first.instanceID }, "followers know the leader")
            #expect(replicas.allSatisfy { $0.state.members == 3 })

            // The leader crashes: it stops renewing. The others keep ticking at the renew period.
            let survivors = replicas.filter { $0.instanceID != first.instanceID }
            let crashedAt = ContinuousClock.now
            var newLeader: LeaderElection?
            while newLeader == nil, ContinuousClock.now - crashedAt < .seconds(8) {
                try await Task.sleep(for: first.renewPeriod)
                for replica in survivors { await replica.renewOrCampaign() }
                let current = survivors.filter(\.isLeader)
                #expect(current.count <= 1, "never two leaders")
                newLeader = current.first
            }
            let takeover = ContinuousClock.now - crashedAt
            let successor = try #require(newLeader, "a survivor took over")
            #expect(takeover <= .seconds(4), "took over in \(takeover), within two TTLs")
            #expect(successor.state.term > firstTerm, "a new term")
            // The crashed leader's own view expires too: it no longer claims leadership.
            #expect(!first.isLeader)

            let file = try Data(contentsOf: directory.appendingPathComponent("\(successor.instanceID).json"))
            let recorded = try JSONDecoder.iso8601.decode(LeaderElection.State.self, from: file)
            #expect(recorded.role == .leader)
            #expect(recorded.term == successor.state.term)
            #expect(recorded.group == "hightouch-operators")

            // A graceful stop hands over at once: the key is deleted at the leader's revision.
            let stopping = Task { await successor.run() }
            try await Task.sleep(for: .milliseconds(100))
            stopping.cancel()
            await stopping.value
            let remaining = survivors.first { $0.instanceID != successor.instanceID }!
            await remaining.renewOrCampaign()
            #expect(remaining.isLeader, "the last replica leads right after a graceful hand-over")
            await connection.close()
        }
    }
}

/// Found by a replica-lifecycle test run: the leadership and membership loops change the state
/// at the same moment (a dead leader's key and its member key expire together), and the write
/// of the older state could land after the newer one: a new leader whose state file said
/// "follower" for good.
@Suite("Leader election: the state file under concurrent changes", .timeLimit(.minutes(2)))
struct LeaderElectionStateFileTests {
    @Test("after concurrent leadership and membership changes, the state file holds the latest state")
    func stateFileFollowsConcurrentChanges() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: [server.url]))
            let bucket = try await connection.jetStream().createOrUpdateKeyValue(KeyValueConfiguration(bucket: "election-race", history: 1))
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("election-race-\(UUID().uuidString).json")
            let election = LeaderElection(
                bucket: bucket, group: "g", instanceID: "me", ttl: .seconds(30), stateFile: file.path, logger: Logger(label: "test")
            )
            let rival = Array(#"{"leader":"rival","acquiredAt":"2026-01-01T00:00:00Z"}"#.utf8)
            var mismatches: [String] = []
            for round in 0..<150 {
                // Prepare one change for each loop: the leader key free (or taken by a rival),
                // and one member more (or fewer).
                if election.isLeader {
                    _ = try await bucket.put("leader.g", rival)
                } else {
                    try await bucket.purge("leader.g")
                }
                if round.isMultiple(of: 2) {
                    _ = try await bucket.put("member.g.other", Array("{}".utf8))
                } else {
                    try await bucket.purge("member.g.other")
                }
                async let leadership: Void = election.renewOrCampaign()
                async let membership: Void = election.maintainMembership()
                _ = await (leadership, membership)
                let written = try JSONDecoder.iso8601.decode(LeaderElection.State.self, from: Data(contentsOf: file))
                let current = election.state
                if written.role != current.role || written.members != current.members || written.term != current.term {
                    mismatches.append("round \(round): file \(written.role) members \(written.members), memory \(current.role) members \(current.members)")
                }
            }
            #expect(mismatches.isEmpty, "the state file fell behind: \(mismatches.prefix(5))")
            await connection.close()
        }
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
