import Foundation
import JSONSchema

// MARK: - Counters

extension DBTCloudSimulator {
    /// What the simulator has seen since it started or since the last ``resetCounters()``.
    public struct Counters: Sendable, Hashable {
        /// Runs created per job id (triggers and reruns, answered or not).
        public var runsTriggeredByJob: [Int: Int]
        /// The causes those runs carried, oldest first.
        public var causesByJob: [Int: [String]]
        /// `POST /jobs/{id}/rerun/` calls that created a run.
        public var reruns: Int
        /// Runs cancelled through the API (cancels of ended runs not counted).
        public var cancels: Int
        /// API requests per route (e.g. `GET /accounts/{accountId}/runs/{runId}/`) and status.
        public var requests: [String: [Int: Int]]
        /// Runs created since the reset, by their `status_humanized` now.
        public var runsByStatus: [String: Int]
        /// Requests answered 429.
        public var rateLimited: Int
        /// Requests answered with an injected 5xx.
        public var injectedFaults: Int
        /// Trigger answers lost on purpose (504 after the run was created).
        public var droppedAnswers: Int

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

        /// All runs created.
        public var totalRuns: Int { self.runsTriggeredByJob.values.reduce(0, +) }
    }

    // MARK: - TriggerRecord

    /// One run created through the API, as the simulator received the request.
    public struct TriggerRecord: Sendable, Hashable {
        public var runID: Int
        public var jobID: Int
        /// `run` or `rerun`.
        public var kind: String
        public var cause: String
        public var gitBranch: String?
        public var stepsOverride: [String]?
        public var threadsOverride: Int?
        /// Whether its answer was lost on purpose.
        public var answerDropped: Bool
        /// Simulated time of the trigger.
        public var at: Date
    }
}

extension SimState {
    func publicCounters(now: Double) -> DBTCloudSimulator.Counters {
        DBTCloudSimulator.Counters(
            runsTriggeredByJob: self.counters.runsTriggeredByJob,
            causesByJob: self.counters.causesByJob,
            reruns: self.counters.reruns,
            cancels: self.counters.cancels,
            requests: self.counters.requests,
            runsByStatus: self.runsByStatus(now: now),
            rateLimited: self.counters.rateLimited,
            injectedFaults: self.counters.injectedFaults,
            droppedAnswers: self.counters.droppedAnswers
        )
    }

    var publicTriggerLog: [DBTCloudSimulator.TriggerRecord] {
        self.triggerLog.map { record in
            DBTCloudSimulator.TriggerRecord(
                runID: record.runID, jobID: record.jobID, kind: record.kind, cause: record.trigger.cause, gitBranch: record.trigger.gitBranch,
                stepsOverride: record.trigger.stepsOverride, threadsOverride: record.trigger.threadsOverride, answerDropped: record.answerDropped,
                at: Date(timeIntervalSince1970: record.at)
            )
        }
    }
}

extension DBTCloudSimulator.Counters {
    /// The counters as `/_admin/counters` shows them.
    var json: JSONValue {
        var requests = JSONObject()
        for route in self.requests.keys.sorted() {
            var byStatus = JSONObject()
            for (status, count) in (self.requests[route] ?? [:]).sorted(by: { $0.key < $1.key }) { byStatus[String(status)] = .int(count) }
            requests[route] = .object(byStatus)
        }
        var byJob = JSONObject()
        for (id, count) in self.runsTriggeredByJob.sorted(by: { $0.key < $1.key }) { byJob[String(id)] = .int(count) }
        var causes = JSONObject()
        for (id, list) in self.causesByJob.sorted(by: { $0.key < $1.key }) { causes[String(id)] = .array(list.map { .string($0) }) }
        var runs = JSONObject()
        for (status, count) in self.runsByStatus.sorted(by: { $0.key < $1.key }) { runs[status] = .int(count) }
        return .object([
            "runs": .object(["total": .int(self.totalRuns), "byJob": .object(byJob), "causesByJob": .object(causes), "reruns": .int(self.reruns), "cancels": .int(self.cancels)]),
            "requests": .object(requests),
            "runsByStatus": .object(runs),
            "rateLimited": .int(self.rateLimited),
            "injectedFaults": .int(self.injectedFaults),
            "droppedAnswers": .int(self.droppedAnswers),
        ])
    }
}
