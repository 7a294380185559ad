import Foundation
import SimulatorKit

// MARK: - Counters

extension FivetranSimulator {
    /// One sync started at the simulator (``FivetranSimulator/syncLog()``).
    public struct SyncRecord: Sendable, Hashable {
        public var connectorID: String
        /// `sync` (incremental) or `resync` (historical, of the connector or of tables).
        public var kind: String
        /// How it ends (decided when it starts).
        public var outcome: SyncOutcome
        public var startedAt: Date
        public var endsAt: Date
        /// Whether it had ended when the log was read.
        public var ended: Bool
    }

    /// What the simulator has seen since it started or since the last ``resetCounters()``.
    public struct Counters: Sendable, Hashable {
        /// Syncs and re-syncs that actually started, per connector (a sync call on a syncing
        /// connector starts none).
        public var syncsStarted: [String: Int]
        /// Accepted sync calls (`/sync` and `/force`), per connector.
        public var syncRequests: [String: Int]
        /// Accepted re-sync calls (connector or tables), per connector.
        public var resyncs: [String: Int]
        /// Re-synced tables per connector, as `schema.table` → times.
        public var tableResyncs: [String: [String: Int]]
        /// Setup test runs per connector (`/test`, and `PATCH` with `run_setup_tests`).
        public var setupTests: [String: Int]
        /// Accepted `PATCH` calls per connector.
        public var updates: [String: Int]
        /// API requests per route (relative to `/v1`, e.g. `GET /connectors/{connectorId}`) and status.
        public var requests: [String: [Int: Int]]
        /// API requests by their `Accept` header (`""`: none sent).
        public var acceptHeaders: [String: Int]
        /// Requests answered 429.
        public var rateLimited: Int
        /// Requests answered with an injected 5xx.
        public var injectedFaults: Int
        /// Sync or re-sync calls that took effect and were answered 500 (``FivetranSimulator/loseAnswers(_:)``).
        public var lostAnswers: Int

        init(_ counters: SimCounters) {
            self.syncsStarted = counters.syncsStarted
            self.syncRequests = counters.syncRequests
            self.resyncs = counters.resyncs
            self.tableResyncs = counters.tableResyncs
            self.setupTests = counters.setupTests
            self.updates = counters.updates
            self.requests = counters.requests
            self.acceptHeaders = counters.acceptHeaders
            self.rateLimited = counters.rateLimited
            self.injectedFaults = counters.injectedFaults
            self.lostAnswers = counters.lostAnswers
        }

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

        /// The counters as `/_admin/counters` shows them.
        var json: SimJSON {
            func counts(_ dictionary: [String: Int]) -> SimJSON {
                var object = SimObject()
                for key in dictionary.keys.sorted() { object[key] = .int(dictionary[key] ?? 0) }
                return .object(object)
            }
            var requests = SimObject()
            for route in self.requests.keys.sorted() {
                var byStatus = SimObject()
                for (status, count) in (self.requests[route] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    byStatus[String(status)] = .int(count)
                }
                requests[route] = .object(byStatus)
            }
            var tables = SimObject()
            for connector in self.tableResyncs.keys.sorted() { tables[connector] = counts(self.tableResyncs[connector] ?? [:]) }
            return .object([
                "syncsStarted": counts(self.syncsStarted),
                "syncRequests": counts(self.syncRequests),
                "resyncs": counts(self.resyncs),
                "tableResyncs": .object(tables),
                "setupTests": counts(self.setupTests),
                "updates": counts(self.updates),
                "requests": .object(requests),
                "acceptHeaders": counts(self.acceptHeaders),
                "rateLimited": .int(self.rateLimited),
                "injectedFaults": .int(self.injectedFaults),
                "lostAnswers": .int(self.lostAnswers),
                "totalRequests": .int(self.totalRequests),
            ])
        }
    }
}
