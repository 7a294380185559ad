import Foundation
import SimulatorKit

// MARK: - SimState

/// Everything the simulated workspace holds: syncs, connections, runs, knobs, tokens, rate-limit
/// windows and counters. A plain value mutated under one lock (see ``SimEngine``); every method
/// is short and synchronous, and run progress is computed from timestamps on read.
struct SimState: Sendable {
    var knobs: CensusSimulator.Knobs
    /// Accepted credentials, each with its `secret-token:` prefix.
    var tokens: Set<String>
    /// Simulated time: the wall clock plus the offset `/_admin/time/advance` adds, or frozen
    /// (`/_admin/time/freeze`) until it resumes.
    var clock = SimClock()

    var syncs: [Int: SimSync] = [:]
    var sources: [Int: SimConnection] = [:]
    var destinations: [Int: SimConnection] = [:]
    var runsBySync: [Int: [SimRun]] = [:]
    var runLocation: [Int: (syncID: Int, position: Int)] = [:]
    /// Run ids start far from sync and connection ids, so an id of the wrong kind is a 404.
    var nextRunID = 1_000_001

    /// The next this many triggers create their run, then answer 502 as if the proxy in front of
    /// the API lost the answer.
    var lostTriggerAnswers = 0

    var forcedQueue: [SimForcedOutcome] = []
    var forcedBySync: [Int: SimForcedOutcome] = [:]

    var rateWindows: [String: SimSlidingWindow] = [:]
    var requestSequence: UInt64 = 0
    var counters = SimCounters()
    var triggerLog: [SimTriggerRecord] = []
    /// Runs with an id above this are counted in `runsByStatus` (moved by a counter reset).
    var runWatermark = 0

    static let maxTriggerLog = 10_000

    init(configuration: CensusSimulator.Configuration, now: Double) {
        self.knobs = configuration.knobs
        self.tokens = Set(configuration.tokens.map(SimState.credential))
        for seed in configuration.sources {
            self.sources[seed.id] = SimConnection(id: seed.id, name: seed.name, type: seed.type, createdAt: now)
        }
        for seed in configuration.destinations {
            self.destinations[seed.id] = SimConnection(id: seed.id, name: seed.name, type: seed.type, createdAt: now)
        }
        for seed in configuration.syncs {
            self.syncs[seed.id] = SimSync(seed: seed, createdAt: now)
        }
    }

    /// A token as Census issues it: with its `secret-token:` prefix.
    static func credential(_ token: String) -> String {
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.hasPrefix("secret-token:") ? trimmed : "secret-token:" + trimmed
    }

    // MARK: - Admission (auth, rate limit, injected faults)

    enum Admission {
        case admit(latency: Double)
        case reject(SimFailure, latency: Double)
    }

    /// Decides what happens to one API request before it reaches its handler. The rate limit
    /// counts in simulated time (`now`), so freezing or advancing the clock holds or frees a full
    /// window as a test needs.
    mutating func admit(authorization: String?, now: Double) -> Admission {
        self.requestSequence += 1
        let sequence = self.requestSequence
        let knobs = self.knobs
        let jitter = SimRandom.unit(seed: knobs.seed, .latency, sequence) * knobs.latencyJitter.seconds
        let latency = max(0, knobs.latency.seconds + jitter)

        let credential: String
        switch SimAuthorization.credential(from: authorization) {
        case .success(let presented): credential = presented
        case .failure(let failure): return .reject(failure, latency: latency)
        }
        guard self.tokens.contains(credential) else {
            return .reject(.unauthorized("Unauthorized: the API token is not valid for this workspace"), latency: latency)
        }

        if let limit = knobs.rateLimit {
            var window = self.rateWindows[credential, default: SimSlidingWindow(capacity: limit.requests)]
            let wait = window.admit(at: now, capacity: limit.requests, window: limit.window)
            self.rateWindows[credential] = window
            if let wait {
                self.counters.rateLimited += 1
                let seconds = limit.window.seconds
                let windowText = seconds.rounded() == seconds ? String(Int(seconds)) : String(seconds)
                var failure = SimFailure.error(429, "Too many requests: the limit is \(limit.requests) requests per \(windowText) seconds")
                failure.retryAfter = max(1, Int(wait.seconds.rounded(.up)))
                return .reject(failure, latency: latency)
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

    /// Back to the seeded workspace; knobs, tokens and simulated time stay as they are.
    mutating func resetObjects(configuration: CensusSimulator.Configuration, now: Double) {
        var fresh = SimState(configuration: configuration, now: now)
        fresh.knobs = self.knobs
        fresh.tokens = self.tokens
        fresh.clock = self.clock
        self = fresh
    }
}

// MARK: - Records

/// A source or destination connection.
struct SimConnection: Sendable {
    let id: Int
    var name: String
    var type: String
    let createdAt: Double
}

/// A sync: what it reads, where it writes. Read-only through the API.
struct SimSync: Sendable {
    let id: Int
    var label: String?
    let sourceID: Int
    let destinationID: Int
    let operation: String
    let createdAt: Double

    init(seed: CensusSimulator.SeedSync, createdAt: Double) {
        self.id = seed.id
        self.label = seed.label
        self.sourceID = seed.sourceID
        self.destinationID = seed.destinationID
        self.operation = seed.operation
        self.createdAt = createdAt
    }
}

/// An outcome imposed by a test instead of the weighted draw.
struct SimForcedOutcome: Sendable {
    var outcome: CensusSimulator.RunOutcome
    var error: String?
    var remaining: Int
}

/// One accepted trigger, kept for `/_admin/triggers`.
struct SimTriggerRecord: Sendable {
    let runID: Int
    let syncID: Int
    /// `force_full_sync` as sent; `nil` when the trigger left it to the default.
    let forceFullSync: Bool?
    /// Where `force_full_sync` came from: `query`, `body`, or `none`.
    let via: String
    /// Whether the run was going to be skipped (a busy sync).
    let skipped: Bool
    let at: Double
}

struct SimCounters: Sendable {
    /// "GET /syncs/{sync_id}" → status → count.
    var requests: [String: [Int: Int]] = [:]
    var triggersBySyncID: [Int: Int] = [:]
    var rateLimited = 0
    var injectedFaults = 0
}

extension SimState: SimulatedState {}
