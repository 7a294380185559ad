import Foundation
import SimulatorKit

// MARK: - Counters

extension CensusSimulator {
    /// What the simulator has seen since it started or since the last ``resetCounters()``.
    public struct Counters: Sendable, Hashable {
        /// Accepted triggers per sync id.
        public var triggersBySyncID: [Int: Int]
        /// API requests per route (relative to the base path, e.g. `GET /sync_runs/{sync_run_id}`) and status.
        public var requests: [String: [Int: Int]]
        /// Runs created since the reset, by their status now.
        public var runsByStatus: [String: Int]
        /// Requests answered 429.
        public var rateLimited: Int
        /// Requests answered with an injected 5xx.
        public var injectedFaults: Int

        /// Requests to `route`, with `status` if given.
        public func requests(_ route: String, status: Int? = nil) -> Int {
            guard let byStatus = self.requests[route] else { return 0 }
            if let status { return byStatus[status] ?? 0 }
            return byStatus.values.reduce(0, +)
        }

        /// Requests answered with `status`, all routes.
        public func responses(status: Int) -> Int {
            self.requests.values.reduce(0) { $0 + ($1[status] ?? 0) }
        }

        /// All API requests.
        public var totalRequests: Int { self.requests.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

        /// All accepted triggers.
        public var totalTriggers: Int { self.triggersBySyncID.values.reduce(0, +) }
    }

    /// One accepted trigger, as the simulator received it.
    public struct TriggerRecord: Sendable, Hashable {
        public var runID: Int
        public var syncID: Int
        /// `force_full_sync` as sent; `nil` when the trigger left it to the default (false).
        public var forceFullSync: Bool?
        /// Where `force_full_sync` came from: `query`, `body` or `none`.
        public var via: String
        /// Whether the run is skipped (its sync was busy when it was due).
        public var skipped: Bool
        /// Simulated time of the trigger.
        public var at: Date
    }
}

extension SimState {
    func publicCounters(now: Double) -> CensusSimulator.Counters {
        CensusSimulator.Counters(
            triggersBySyncID: self.counters.triggersBySyncID,
            requests: self.counters.requests,
            runsByStatus: self.runsByStatus(now: now),
            rateLimited: self.counters.rateLimited,
            injectedFaults: self.counters.injectedFaults
        )
    }

    var publicTriggerLog: [CensusSimulator.TriggerRecord] {
        self.triggerLog.map { record in
            CensusSimulator.TriggerRecord(
                runID: record.runID, syncID: record.syncID, forceFullSync: record.forceFullSync, via: record.via,
                skipped: record.skipped, at: Date(timeIntervalSince1970: record.at)
            )
        }
    }
}

extension SimTriggerRecord {
    var json: SimJSON {
        .object([
            "syncRunId": .int(self.runID),
            "syncId": .int(self.syncID),
            "forceFullSync": self.forceFullSync.map { .bool($0) } ?? .null,
            "via": .string(self.via),
            "skipped": .bool(self.skipped),
            "at": .string(SimTimestamp.format(self.at)),
        ])
    }
}

extension CensusSimulator.Counters {
    /// The counters as `/_admin/counters` shows them.
    var json: SimJSON {
        var requests = SimObject()
        for route in self.requests.keys.sorted() {
            var byStatus = SimObject()
            for (status, count) in (self.requests[route] ?? [:]).sorted(by: { $0.key < $1.key }) { byStatus[String(status)] = .int(count) }
            requests[route] = .object(byStatus)
        }
        var bySyncID = SimObject()
        for (id, count) in self.triggersBySyncID.sorted(by: { $0.key < $1.key }) { bySyncID[String(id)] = .int(count) }
        var runs = SimObject()
        for (status, count) in self.runsByStatus.sorted(by: { $0.key < $1.key }) { runs[status] = .int(count) }
        return .object([
            "triggers": .object(["total": .int(self.totalTriggers), "bySyncId": .object(bySyncID)]),
            "requests": .object(requests),
            "runsByStatus": .object(runs),
            "rateLimited": .int(self.rateLimited),
            "injectedFaults": .int(self.injectedFaults),
            "totalRequests": .int(self.totalRequests),
        ])
    }
}
