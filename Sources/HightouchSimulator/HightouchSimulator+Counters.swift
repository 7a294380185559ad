import Foundation
import SimulatorKit

// MARK: - Counters

extension HightouchSimulator {
    /// What the simulator has seen since it started or since the last ``resetCounters()``.
    public struct Counters: Sendable, Hashable {
        /// Accepted triggers per sync id (both trigger routes).
        public var triggersBySyncID: [Int: Int]
        /// Accepted triggers per sync slug.
        public var triggersBySyncSlug: [String: Int]
        /// API requests per route (relative to the base path, e.g. `GET /syncs/{syncId}`) and status.
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
        public var totalRequests: Int {
            self.requests.values.reduce(0) { $0 + $1.values.reduce(0, +) }
        }

        /// All accepted triggers.
        public var totalTriggers: Int { self.triggersBySyncID.values.reduce(0, +) }
    }

    // MARK: - TriggerRecord

    /// One accepted trigger, as the simulator received it.
    public struct TriggerRecord: Sendable, Hashable {
        public var runID: Int
        public var syncID: Int
        public var syncSlug: String
        /// `POST /syncs/{syncId}/trigger`, `POST /syncs/trigger (syncId)` or `POST /syncs/trigger (syncSlug)`.
        public var route: String
        /// The flags as sent; `nil` when the caller left one to the server's default.
        public var fullResync: Bool?
        public var resetCDC: Bool?
        public var clearAndFill: Bool?
        /// Simulated time of the trigger.
        public var at: Date
    }
}

extension SimulatorState {
    func publicCounters(now: Double) -> HightouchSimulator.Counters {
        HightouchSimulator.Counters(
            triggersBySyncID: self.counters.triggersBySyncID,
            triggersBySyncSlug: self.counters.triggersBySyncSlug,
            requests: self.counters.requests,
            runsByStatus: self.runsByStatus(now: now),
            rateLimited: self.counters.rateLimited,
            injectedFaults: self.counters.injectedFaults
        )
    }

    var publicTriggerLog: [HightouchSimulator.TriggerRecord] {
        self.triggerLog.map { record in
            HightouchSimulator.TriggerRecord(
                runID: record.runID,
                syncID: record.syncID,
                syncSlug: record.syncSlug,
                route: record.route,
                fullResync: record.flags.fullResync,
                resetCDC: record.flags.resetCDC,
                clearAndFill: record.flags.clearAndFill,
                at: Date(timeIntervalSince1970: record.at)
            )
        }
    }
}

extension HightouchSimulator.Counters {
    /// The counters as `/_admin/counters` shows them.
    var json: SimJSON {
        var requests = SimObject()
        for route in self.requests.keys.sorted() {
            var byStatus = SimObject()
            for (status, count) in (self.requests[route] ?? [:]).sorted(by: { $0.key < $1.key }) {
                byStatus[String(status)] = .int(count)
            }
            requests[route] = .object(byStatus)
        }
        var bySyncID = SimObject()
        for (id, count) in self.triggersBySyncID.sorted(by: { $0.key < $1.key }) { bySyncID[String(id)] = .int(count) }
        var bySlug = SimObject()
        for (slug, count) in self.triggersBySyncSlug.sorted(by: { $0.key < $1.key }) { bySlug[slug] = .int(count) }
        var runs = SimObject()
        for (status, count) in self.runsByStatus.sorted(by: { $0.key < $1.key }) { runs[status] = .int(count) }
        return .object([
            "triggers": .object(["total": .int(self.totalTriggers), "bySyncId": .object(bySyncID), "bySyncSlug": .object(bySlug)]),
            "requests": .object(requests),
            "runsByStatus": .object(runs),
            "rateLimited": .int(self.rateLimited),
            "injectedFaults": .int(self.injectedFaults),
            "totalRequests": .int(self.totalRequests),
        ])
    }
}
