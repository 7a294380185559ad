import Foundation
import Logging
import NATSKit
import Synchronization

/// Leader election among operator replicas on a KV bucket with a TTL (R.I. Pienaar's pattern,
/// nats-server #3375): `create` of the group's key acquires, `update` at the held revision renews,
/// and a failed compare-and-set means someone else leads. A leader that cannot renew for a TTL
/// steps down on its own, so two replicas never both act as leader for longer than the renew
/// period plus clock drift.
///
/// Each replica also renews a membership key, so readiness can tell whether
/// `ELECTION_CLUSTER_SIZE` replicas are present. The role and term (the revision at which the
/// leadership was acquired, which only grows) go to the election state file on every change.
public final class LeaderElection: Sendable {
    public enum Role: String, Sendable, Codable {
        case leader, follower
    }

    public struct State: Sendable, Hashable, Codable {
        public var role: Role
        /// The KV revision at which the current leader acquired leadership; 0 if none known.
        public var term: UInt64
        public var leader: String?
        public var instance: String
        public var group: String
        public var members: Int
        public var changedAt: Date
    }

    private struct LeaderRecord: Codable {
        var leader: String
        var acquiredAt: Date
    }

    private struct Internal {
        var state: State
        var heldRevision: UInt64?
        var lastRenewal: ContinuousClock.Instant?
        var listeners: [Int: AsyncStream<State>.Continuation] = [:]
        var nextListener = 0
        /// Counts changes, so that a change published late never overwrites a newer one.
        var version: UInt64 = 0
    }

    public let group: String
    public let instanceID: String
    public let ttl: Duration
    private let bucket: KeyValueBucket
    private let stateFile: String?
    private let logger: Logger
    private let internalState: Mutex<Internal>
    /// The version last written to the state file and announced. The leadership and membership
    /// loops change the state concurrently; without this, the loser of a race could write its
    /// older state after the newer one (a new leader's file still saying "follower").
    private let published = Mutex<UInt64>(0)

    /// - Parameters:
    ///   - bucket: a bucket whose TTL is `ttl` (see streams/kv/hightouch-operator-election.json).
    ///   - group: ELECTION_CLUSTER_NAME.
    ///   - stateFile: `--electionStateFile`; rewritten (atomically) on every change.
    public init(bucket: KeyValueBucket, group: String, instanceID: String, ttl: Duration, stateFile: String?, logger: Logger) {
        self.bucket = bucket
        self.group = group
        self.instanceID = instanceID
        self.ttl = ttl
        self.stateFile = stateFile
        var logger = logger
        logger[metadataKey: "election.group"] = "\(group)"
        self.logger = logger
        internalState = Mutex(Internal(state: State(role: .follower, term: 0, leader: nil, instance: instanceID, group: group, members: 0, changedAt: Date())))
    }

    public var state: State { internalState.withLock { $0.state } }

    /// True only while this replica holds a leadership it renewed within 80% of the TTL. The
    /// server may expire the key slightly before our own clock says the TTL is up (it counts from
    /// when it stored the renewal), so a leader stops trusting its leadership early: the next
    /// leader can only start after this one has stopped.
    public var isLeader: Bool {
        internalState.withLock { current in
            guard current.state.role == .leader, let last = current.lastRenewal else { return false }
            return ContinuousClock.now - last < ttl * 4 / 5
        }
    }

    /// State changes from now on (the current state first).
    public func changes() -> AsyncStream<State> {
        let (stream, continuation) = AsyncStream.makeStream(of: State.self, bufferingPolicy: .bufferingNewest(16))
        internalState.withLock { current in
            let id = current.nextListener
            current.nextListener += 1
            current.listeners[id] = continuation
            continuation.yield(current.state)
            continuation.onTermination = { [weak self] _ in
                self?.internalState.withLock { _ = $0.listeners.removeValue(forKey: id) }
            }
        }
        return stream
    }

    /// Campaigns and renews until cancelled; on cancellation a leader hands over at once by
    /// deleting its key (at its revision, so it never deletes a successor's). Leadership and
    /// membership run in separate loops, so that counting members (a slower listing) never
    /// delays a renewal.
    public func run() async {
        writeStateFile(state)
        let period = renewPeriod
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    await self.renewOrCampaign()
                    try? await Task.sleep(for: period)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    await self.maintainMembership()
                    try? await Task.sleep(for: period)
                }
            }
            await group.waitForAll()
        }
        await resign()
    }

    /// Renewals happen three times per TTL.
    public var renewPeriod: Duration { ttl / 3 }

    // MARK: - Private

    private var leaderKey: String { "leader.\(group)" }
    private var memberKey: String { "member.\(group).\(instanceID)" }

    /// One leadership step: renew what is held, or try to acquire it.
    func renewOrCampaign() async {
        let held = internalState.withLock { $0.heldRevision }
        if let held {
            await renew(at: held)
        } else {
            await campaign()
        }
    }

    /// One membership step: say this replica is here, and count who else is.
    func maintainMembership() async {
        await renewMembership()
        await countMembers()
    }

    private func campaign() async {
        let record = LeaderRecord(leader: instanceID, acquiredAt: Date())
        do {
            let revision = try await bucket.create(leaderKey, Self.encode(record))
            update { current in
                current.heldRevision = revision
                current.lastRenewal = .now
                current.state.role = .leader
                current.state.term = revision
                current.state.leader = self.instanceID
            }
            logger.notice("Acquired leadership", metadata: ["election.term": "\(revision)"])
        } catch let error where error.code == .keyExists {
            await observeLeader()
        } catch {
            logger.warning("Leader election campaign failed", metadata: ["error": "\(error)"])
            demoteIfStale()
        }
    }

    private func renew(at revision: UInt64) async {
        let record = LeaderRecord(leader: instanceID, acquiredAt: Date())
        do {
            let next = try await bucket.update(leaderKey, Self.encode(record), expectedRevision: revision)
            update { current in
                current.heldRevision = next
                current.lastRenewal = .now
            }
        } catch let error where error.isConflict {
            logger.warning("Lost leadership: the election key changed", metadata: ["error": "\(error)"])
            update { current in
                current.heldRevision = nil
                current.lastRenewal = nil
                current.state.role = .follower
            }
            await observeLeader()
        } catch {
            logger.warning("Could not renew leadership", metadata: ["error": "\(error)"])
            demoteIfStale()
        }
    }

    /// A leader that has not renewed for a TTL may already have a successor: step down.
    private func demoteIfStale() {
        update { current in
            guard current.state.role == .leader, let last = current.lastRenewal, ContinuousClock.now - last >= self.ttl * 4 / 5 else { return }
            current.heldRevision = nil
            current.lastRenewal = nil
            current.state.role = .follower
            current.state.leader = nil
        }
    }

    private func observeLeader() async {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let entry = try? await bucket.get(leaderKey), let record = try? decoder.decode(LeaderRecord.self, from: Data(entry.value)) else {
            return
        }
        // The term is the revision of the leader's first write: its history starts there.
        let term = (try? await bucket.history(leaderKey).first?.revision) ?? entry.revision
        update { current in
            current.state.leader = record.leader
            current.state.term = term
        }
    }

    private func renewMembership() async {
        do {
            try await bucket.put(memberKey, Self.encode(LeaderRecord(leader: instanceID, acquiredAt: Date())))
        } catch {
            logger.debug("Could not renew membership", metadata: ["error": "\(error)"])
        }
    }

    private func countMembers() async {
        guard let keys = try? await bucket.keys(timeout: .seconds(2)) else { return }
        let prefix = "member.\(group)."
        let members = keys.filter { $0.hasPrefix(prefix) }.count
        update { $0.state.members = members }
    }

    private func resign() async {
        let held = internalState.withLock { $0.heldRevision }
        if let held {
            try? await bucket.delete(leaderKey, expectedRevision: held)
            logger.notice("Resigned leadership")
        }
        try? await bucket.delete(memberKey)
        update { current in
            current.heldRevision = nil
            current.lastRenewal = nil
            current.state.role = .follower
            current.state.leader = nil
        }
    }

    /// Applies a change and, if the role, term or leader changed, records and announces it.
    private func update(_ change: (inout Internal) -> Void) {
        let (changed, version, state, listeners) = internalState.withLock { current -> (Bool, UInt64, State, [AsyncStream<State>.Continuation]) in
            let before = current.state
            change(&current)
            let changed = before.role != current.state.role || before.term != current.state.term
                || before.leader != current.state.leader || before.members != current.state.members
            if changed {
                current.state.changedAt = Date()
                current.version += 1
            }
            return (changed, current.version, current.state, Array(current.listeners.values))
        }
        guard changed else { return }
        published.withLock { last in
            // A newer state was published already: it includes this change.
            guard version > last else { return }
            last = version
            OperatorMetrics.leader(state.role == .leader)
            writeStateFile(state)
            for listener in listeners { listener.yield(state) }
        }
    }

    private func writeStateFile(_ state: State) {
        guard let stateFile else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        guard var data = try? encoder.encode(state) else { return }
        data.append(UInt8(ascii: "\n"))
        do {
            let url = URL(fileURLWithPath: stateFile)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            logger.error("Cannot write the election state file", metadata: ["file": "\(stateFile)", "error": "\(error)"])
        }
    }

    private static func encode(_ record: LeaderRecord) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return Array((try? encoder.encode(record)) ?? Data())
    }
}
