import SimulatorKit

// MARK: - SimulatorState

/// Everything the simulated workspace holds: objects, runs, knobs, tokens, rate-limit windows and
/// counters. A plain value mutated under one lock (see ``SimulatorEngine``); every method is short
/// and synchronous, and run progress is computed from timestamps on read.
///
/// The fields a state file keeps (``SimStateFile``) bump ``revision`` whenever they change, by a
/// `didSet` on each: the state file's writer compares revisions instead of contents, and a new
/// mutating method cannot forget to say it changed something. A `didSet` that never reads
/// `oldValue` keeps mutations in place (SE-0268), so the tables are not copied on each change. The
/// indexes derived from them (slugs, run locations, `busyUntil`) always change together with them
/// and are rebuilt on load.
struct SimulatorState: Sendable {
    var workspaceID: Int
    var knobs: HightouchSimulator.Knobs
    var tokens: Set<String>
    /// Added to the wall clock (`/_admin/time/advance`).
    var clockOffset: Double = 0 { didSet { self.revision &+= 1 } }

    /// Changes whenever a persisted field changes (reads never change it).
    private(set) var revision: UInt64 = 0

    var sources: [Int: SimConnection] = [:] { didSet { self.revision &+= 1 } }
    var sourceOrder: [Int] = []
    var destinations: [Int: SimConnection] = [:] { didSet { self.revision &+= 1 } }
    var destinationOrder: [Int] = []
    var models: [Int: SimModel] = [:] { didSet { self.revision &+= 1 } }
    var modelOrder: [Int] = [] { didSet { self.revision &+= 1 } }
    var modelIDBySlug: [String: Int] = [:]
    var syncs: [Int: SimSync] = [:] { didSet { self.revision &+= 1 } }
    var syncOrder: [Int] = [] { didSet { self.revision &+= 1 } }
    var syncIDBySlug: [String: Int] = [:]
    var syncIDsByModel: [Int: [Int]] = [:]
    var syncIDsByDestination: [Int: [Int]] = [:]
    var runsBySync: [Int: [SimRun]] = [:] { didSet { self.revision &+= 1 } }
    var runLocation: [Int: (syncID: Int, position: Int)] = [:]
    /// How the runs of deleted syncs stood when their sync was deleted (no API shows them any
    /// more; the admin side still answers what a deleted run had become, for checkers).
    var retiredRunStatus: [Int: String] = [:]
    /// When the last run of each sync ends: a new run starts no earlier.
    var busyUntil: [Int: Double] = [:]

    // Distinct id ranges per kind, so a model id used as a sync id is a 404, not a coincidence.
    var nextModelID = 10_001 { didSet { self.revision &+= 1 } }
    var nextSyncID = 20_001 { didSet { self.revision &+= 1 } }
    var nextRunID = 500_001 { didSet { self.revision &+= 1 } }

    var forcedQueue: [SimForcedOutcome] = []
    var forcedBySlug: [String: SimForcedOutcome] = [:]

    var rateWindows: [String: SimSlidingWindow] = [:]
    /// Where the continuous clock's seconds count from in the rate-limit windows.
    static let rateClockOrigin = ContinuousClock.now
    var requestSequence: UInt64 = 0
    /// Kept in the state file, but counting a request (a read too) does not bump the revision:
    /// request counts are written with the next change, and on stop.
    var counters = SimCounters()
    var triggerLog: [SimTriggerRecord] = [] { didSet { self.revision &+= 1 } }
    /// Runs with an id above this are counted in `runsByStatus` (moved by a counter reset).
    var runWatermark = 0 { didSet { self.revision &+= 1 } }

    static let maxTriggerLog = 10_000

    init(configuration: HightouchSimulator.Configuration, now: Double) {
        self.workspaceID = configuration.workspaceID
        self.knobs = configuration.knobs
        self.tokens = Set(configuration.tokens)
        for seed in configuration.sources where self.sources[seed.id] == nil {
            self.sources[seed.id] = SimConnection(id: seed.id, name: seed.name, slug: seed.slug, type: seed.type, createdAt: now, updatedAt: now)
            self.sourceOrder.append(seed.id)
        }
        for seed in configuration.destinations where self.destinations[seed.id] == nil {
            self.destinations[seed.id] = SimConnection(id: seed.id, name: seed.name, slug: seed.slug, type: seed.type, createdAt: now, updatedAt: now)
            self.destinationOrder.append(seed.id)
        }
        self.sourceOrder.sort()
        self.destinationOrder.sort()
    }

    // MARK: - Admission (auth, rate limit, injected faults)

    enum Admission {
        case admit(latency: Double)
        case reject(SimFailure, latency: Double)
    }

    /// Decides what happens to one API request before it reaches its handler.
    mutating func admit(authorization: String?, instant: ContinuousClock.Instant) -> Admission {
        self.requestSequence += 1
        let sequence = self.requestSequence
        let knobs = self.knobs
        let jitter = SimRandom.unit(seed: knobs.seed, .latency, sequence) * knobs.latencyJitter.seconds
        let latency = max(0, knobs.latency.seconds + jitter)

        guard let authorization, !authorization.isEmpty else {
            return .reject(.unauthenticated("No authorization header found"), latency: latency)
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let token = parts.count == 2 ? String(parts[1]).trimmingCharacters(in: " \t") : ""
        guard parts.count == 2, parts[0].lowercased() == "bearer", self.tokens.contains(token) else {
            return .reject(.unauthenticated("Token is invalid"), latency: latency)
        }

        if let limit = knobs.rateLimit {
            // On the continuous clock (the rate limit is real time, not simulated time), in seconds
            // since the first request the process saw.
            let admitted = self.rateWindows[token, default: SimSlidingWindow(capacity: limit.requests)]
                .admit(at: (instant - Self.rateClockOrigin).seconds, capacity: limit.requests, window: limit.window) == nil
            if !admitted {
                self.counters.rateLimited += 1
                let seconds = limit.window.seconds
                let windowText = seconds.rounded() == seconds ? String(Int(seconds)) : String(seconds)
                return .reject(
                    .trigger(429, "Too many requests: the limit is \(limit.requests) requests per \(windowText) seconds"),
                    latency: latency
                )
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
        for runs in self.runsBySync.values {
            for run in runs where run.id > self.runWatermark {
                result[run.status(at: now), default: 0] += 1
            }
        }
        return result
    }

    mutating func resetCounters() {
        self.counters = SimCounters()
        self.triggerLog.removeAll()
        self.runWatermark = self.nextRunID - 1
    }

    /// Back to the seeded workspace; knobs and tokens stay as they are.
    mutating func resetObjects(configuration: HightouchSimulator.Configuration, now: Double) {
        var fresh = SimulatorState(configuration: configuration, now: now)
        fresh.knobs = self.knobs
        fresh.tokens = self.tokens
        fresh.clockOffset = self.clockOffset
        // Assigning `self` runs no `didSet`: the revision moves on explicitly, so the state
        // file learns of the reset.
        fresh.revision = self.revision &+ 1
        self = fresh
    }
}

// MARK: - SimCounters

struct SimCounters: Sendable {
    /// "GET /syncs/{syncId}" → status → count.
    var requests: [String: [Int: Int]] = [:]
    var triggersBySyncID: [Int: Int] = [:]
    var triggersBySyncSlug: [String: Int] = [:]
    var rateLimited = 0
    var injectedFaults = 0
}


// MARK: - Helpers

extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        guard let first = self.firstIndex(where: { !set.contains($0) }), let last = self.lastIndex(where: { !set.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}
