import JSONSchema
import SimulatorKit

// MARK: - SimState

/// Everything the simulated account holds: jobs, runs, knobs, tokens, the rate-limit window and
/// counters. A plain value mutated under one lock (see ``SimEngine``); every method is short and
/// synchronous, and run progress is computed from timestamps on read.
struct SimState: Sendable {
    var accountID: Int
    var knobs: DBTCloudSimulator.Knobs
    var tokens: Set<String>
    /// Simulated time: the wall clock plus the offset `/_admin/time/advance` adds, or frozen
    /// (`/_admin/time/freeze`) until it resumes.
    var clock = SimClock()
    /// The base of runs' `href`, set once the server listens.
    var accessURL = "https://cloud.getdbt.com"

    var jobs: [Int: DBTCloudSimulator.Job] = [:]
    var jobCreatedAt: [Int: Double] = [:]
    var runs: [SimRun] = []
    var runPosition: [Int: Int] = [:]
    /// When the last run of each job ends: a new run is dequeued no earlier.
    var busyUntil: [Int: Double] = [:]
    var nextRunID = 100_000_001
    var nextTriggerID = 200_000_001

    var forcedQueue: [SimForcedOutcome] = []
    var forcedByJob: [Int: SimForcedOutcome] = [:]
    /// Triggers whose answer is lost after the run was created (a 504 from the gateway instead).
    var answersToDrop = 0

    var rateWindow = SimSlidingWindow(capacity: 1)
    var requestSequence: UInt64 = 0
    var counters = SimCounters()
    var triggerLog: [SimTriggerRecord] = []
    /// Runs whose end a webhook has announced (when webhooks are configured).
    var webhookNotified: Set<Int> = []
    /// Runs with an id above this are counted in `runsByStatus` (moved by a counter reset).
    var runWatermark = 0

    static let maxTriggerLog = 10_000

    init(configuration: DBTCloudSimulator.Configuration, now: Double) {
        self.accountID = configuration.accountID
        self.knobs = configuration.knobs
        self.tokens = Set(configuration.tokens)
        for job in configuration.jobs where self.jobs[job.id] == nil {
            self.jobs[job.id] = job
            self.jobCreatedAt[job.id] = now
        }
    }

    // MARK: - Admission (auth, account, rate limit, injected faults)

    enum Admission {
        case admit(latency: Double)
        case reject(SimFailure, latency: Double)
    }

    /// Decides what happens to one API request before it reaches its handler: 401 without a
    /// known token (`Token <t>` or `Bearer <t>`), 403 for another account, 429 over the rate
    /// limit, an injected 5xx. The rate limit counts in simulated time (`now`), so freezing or
    /// advancing the clock holds or frees a full window as a test needs.
    mutating func admit(authorization: String?, account: String?, now: Double) -> Admission {
        self.requestSequence += 1
        let sequence = self.requestSequence
        let knobs = self.knobs
        let latency = max(0, knobs.latency.seconds)

        guard let authorization, !authorization.trimmingCharacters(in: " \t").isEmpty else {
            return .reject(.noCredentials, latency: latency)
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let scheme = parts.first.map { $0.lowercased() } ?? ""
        let token = parts.count == 2 ? String(parts[1]).trimmingCharacters(in: " \t") : ""
        guard parts.count == 2, scheme == "token" || scheme == "bearer", self.tokens.contains(token) else {
            return .reject(.invalidToken, latency: latency)
        }
        if let account {
            guard let id = Int(account), id > 0 else { return .reject(.notFound, latency: latency) }
            guard id == self.accountID else { return .reject(.notScoped, latency: latency) }
        }

        if let limit = knobs.rateLimit {
            if let wait = self.rateWindow.admit(at: now, capacity: limit.requests, window: limit.window) {
                self.counters.rateLimited += 1
                return .reject(.throttled(retryAfter: max(1, Int(wait.seconds.rounded(.up)))), latency: latency)
            }
        }

        if knobs.serverErrorRate > 0, SimRandom.unit(seed: knobs.seed, .fault, sequence) < knobs.serverErrorRate {
            self.counters.injectedFaults += 1
            return .reject(.server(knobs.serverErrorStatus), latency: latency)
        }
        return .admit(latency: latency)
    }

    // MARK: - Counting

    mutating func count(route: String, status: Int) {
        self.counters.requests[route, default: [:]][status, default: 0] += 1
    }

    func runsByStatus(now: Double) -> [String: Int] {
        var result: [String: Int] = [:]
        for run in self.runs where run.id > self.runWatermark {
            result[SimRun.humanized(run.status(at: now)), default: 0] += 1
        }
        return result
    }

    mutating func resetCounters() {
        self.counters = SimCounters()
        self.triggerLog.removeAll()
        self.runWatermark = self.nextRunID - 1
    }

    /// Back to the configured jobs and no runs; knobs, tokens and the clock stay as they are.
    mutating func resetObjects(configuration: DBTCloudSimulator.Configuration, now: Double) {
        var fresh = SimState(configuration: configuration, now: now)
        fresh.knobs = self.knobs
        fresh.tokens = self.tokens
        fresh.clock = self.clock
        fresh.accessURL = self.accessURL
        self = fresh
    }

    // MARK: - Jobs

    func job(idText: String) throws(SimFailure) -> DBTCloudSimulator.Job {
        guard let id = Int(idText), let job = self.jobs[id] else { throw .notFound }
        return job
    }

    func jobJSON(idText: String) throws(SimFailure) -> JSONValue {
        let job = try self.job(idText: idText)
        return SimEnvelope.wrap(SimJobJSON.json(job, accountID: self.accountID, createdAt: self.jobCreatedAt[job.id] ?? 0))
    }

    func listJobs(projectID: Int?, environmentID: Int?, paging: SimPaging) -> JSONValue {
        let matching = self.jobs.values.sorted { $0.id < $1.id }.filter { job in
            (projectID == nil || job.projectID == projectID) && (environmentID == nil || job.environmentID == environmentID)
        }
        let page = paging.slice(matching)
        return SimEnvelope.wrap(
            .array(page.map { SimJobJSON.json($0, accountID: self.accountID, createdAt: self.jobCreatedAt[$0.id] ?? 0) }),
            extra: paging.extra(count: page.count, total: matching.count, filters: ["account_id": .int(self.accountID)], orderBy: "id")
        )
    }

    mutating func addJob(_ job: DBTCloudSimulator.Job, now: Double) {
        self.jobs[job.id] = job
        self.jobCreatedAt[job.id] = self.jobCreatedAt[job.id] ?? now
    }

    func accountJSON() -> JSONValue {
        SimEnvelope.wrap(.object([
            "id": .int(self.accountID), "name": .string("Simulated account"), "state": .int(1), "plan": .string("enterprise"),
            "run_slots": .int(5), "pending_cancel": .bool(false), "docs_job_id": .null, "freshness_job_id": .null,
        ]))
    }
}

// MARK: - SimPaging

/// `limit` (1...100, default 100) and `offset` of a list.
struct SimPaging: Sendable {
    var limit = 100
    var offset = 0

    func slice<Element>(_ elements: [Element]) -> ArraySlice<Element> {
        let start = min(self.offset, elements.count)
        return elements[start..<min(start + self.limit, elements.count)]
    }

    /// `extra`: the filters as applied, the order, and `pagination.{count,total_count}` (what
    /// Airflow's provider pages by).
    func extra(count: Int, total: Int, filters: JSONObject, orderBy: String?) -> JSONValue {
        var applied = filters
        applied["limit"] = .int(self.limit)
        applied["offset"] = .int(self.offset)
        return .object([
            "filters": .object(applied),
            "order_by": .optional(orderBy),
            "pagination": .object(["count": .int(count), "total_count": .int(total)]),
        ])
    }
}

// MARK: - SimCounters

struct SimCounters: Sendable {
    /// "GET /runs/{runId}/" → status → count.
    var requests: [String: [Int: Int]] = [:]
    /// Runs created per job (triggers and reruns).
    var runsTriggeredByJob: [Int: Int] = [:]
    /// The causes those runs carried, in order.
    var causesByJob: [Int: [String]] = [:]
    var reruns = 0
    var cancels = 0
    var rateLimited = 0
    var injectedFaults = 0
    var droppedAnswers = 0
}


// MARK: - SimForcedOutcome

/// An outcome imposed by a test instead of the weighted draw.
struct SimForcedOutcome: Sendable {
    var outcome: DBTCloudSimulator.RunOutcome
    var message: String?
    var remaining: Int
}

// MARK: - SimTriggerRecord

/// One run created through the API, kept for `/_admin/triggers`.
struct SimTriggerRecord: Sendable {
    let runID: Int
    let jobID: Int
    /// `run` or `rerun`.
    let kind: String
    let trigger: SimTrigger
    let at: Double
    let answerDropped: Bool

    var json: JSONValue {
        .object([
            "runId": .int(self.runID),
            "jobId": .int(self.jobID),
            "kind": .string(self.kind),
            "cause": .string(self.trigger.cause),
            "gitBranch": .optional(self.trigger.gitBranch),
            "stepsOverride": self.trigger.stepsOverride.map { .array($0.map { .string($0) }) } ?? .null,
            "threadsOverride": .optional(self.trigger.threadsOverride),
            "answerDropped": .bool(self.answerDropped),
            "at": .string(SimTime.format(self.at)),
        ])
    }
}

extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        guard let first = self.firstIndex(where: { !set.contains($0) }), let last = self.lastIndex(where: { !set.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}

extension SimState: SimulatedState {}
