import Foundation
import SimulatorKit

// MARK: - SimState

/// Everything the simulated account holds: connectors, knobs, credentials, forced outcomes and
/// faults, rate-limit windows and counters. A plain value mutated under one lock (see
/// ``SimEngine``); every method is short and synchronous, and syncs progress from timestamps on
/// read.
struct SimState: Sendable {
    var knobs: FivetranSimulator.Knobs
    var credentials: Set<FivetranSimulator.Credential>
    /// Simulated time: the wall clock plus the offset `/_admin/time/advance` adds, or frozen
    /// (`/_admin/time/freeze`) until it resumes.
    var clock = SimClock()

    var connectors: [String: SimConnector] = [:]
    var connectorOrder: [String] = []

    var forcedQueue: [SimForcedOutcome] = []
    var forcedByConnector: [String: SimForcedOutcome] = [:]
    var setupFailures: [SimSetupFailure] = []
    /// The next N sync or re-sync requests take effect and are then answered 500.
    var lostAnswers = 0
    /// The next N sync requests are rescheduled by `delay` instead of starting.
    var reschedules: (count: Int, delay: Double) = (0, 0)

    var rateWindows: [String: SimSlidingWindow] = [:]
    var requestSequence: UInt64 = 0
    var syncSequence: UInt64 = 0
    /// Per connector, the end of its last sync a webhook announced (when webhooks are configured).
    var webhookSeen: [String: Double] = [:]
    var counters = SimCounters()

    /// The setup tests every connector runs, in order.
    static let setupTestTitles = ["Validating credentials", "Connecting to the source", "Checking permissions", "Validating the destination schema"]
    /// The test a failure knob without a title makes fail.
    static let defaultFailingTest = "Connecting to the source"

    init(configuration: FivetranSimulator.Configuration, now: Double) {
        self.knobs = configuration.knobs
        self.credentials = Set(configuration.credentials)
        for seed in configuration.connectors where self.connectors[seed.id] == nil {
            self.connectors[seed.id] = SimConnector(seed: seed, now: now)
            self.connectorOrder.append(seed.id)
        }
    }

    // MARK: - Admission (auth, media type, rate limit, injected faults)

    enum Admission {
        case admit(latency: Double)
        case reject(SimFailure, latency: Double)
    }

    /// Decides what happens to one API request before it reaches its route.
    /// The rate limit counts in simulated time (`now`), so freezing or advancing the clock holds
    /// or frees a full window as a test needs.
    mutating func admit(authorization: String?, accept: String?, now: Double) -> Admission {
        self.requestSequence += 1
        let sequence = self.requestSequence
        self.counters.acceptHeaders[accept ?? "", default: 0] += 1
        let knobs = self.knobs
        let jitter = SimRandom.unit(seed: knobs.seed, .latency, sequence) * knobs.latencyJitter.seconds
        let latency = max(0, knobs.latency.seconds + jitter)

        guard let authorization, !authorization.isEmpty else {
            return .reject(.unauthenticated("Missing Authorization header: use HTTP Basic with your API key and API secret."), latency: latency)
        }
        guard let key = self.authenticate(authorization) else {
            return .reject(.unauthenticated("Invalid API key or API secret."), latency: latency)
        }
        if let accept, !Self.acceptsJSON(accept) {
            return .reject(
                SimFailure(status: 406, code: "NotAcceptable", message: "The API answers application/json;version=2 only; the Accept header was '\(accept)'."),
                latency: latency
            )
        }
        if let limit = knobs.rateLimit {
            if let wait = self.rateWindows[key, default: SimSlidingWindow(capacity: limit.requests)]
                .admit(at: now, capacity: limit.requests, window: limit.window)
            {
                self.counters.rateLimited += 1
                let seconds = max(1, Int(wait.seconds.rounded(.up)))
                let window = limit.window == .seconds(3_600) ? "one-hour" : "\(DurationText.describe(limit.window))"
                return .reject(
                    SimFailure(
                        status: 429, code: "TooManyRequests", message: "Max \(limit.requests) api calls allowed in \(window) rolling time period",
                        retryAfter: seconds
                    ),
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

    /// The API key of valid `Basic base64(key:secret)` credentials, else `nil`.
    private func authenticate(_ authorization: String) -> String? {
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { return nil }
        let credential = FivetranSimulator.Credential(apiKey: String(pair[..<colon]), apiSecret: String(pair[pair.index(after: colon)...]))
        return self.credentials.contains(credential) ? credential.apiKey : nil
    }

    /// Whether an Accept header admits JSON (`application/json`, with or without `;version=2`,
    /// `application/*` or `*/*`).
    static func acceptsJSON(_ accept: String) -> Bool {
        accept.split(separator: ",").contains { range in
            let mediaType = range.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
            return mediaType == "application/json" || mediaType == "application/*" || mediaType == "*/*"
        }
    }

    // MARK: - Counting

    mutating func count(route: String, status: Int) {
        self.counters.requests[route, default: [:]][status, default: 0] += 1
    }

    mutating func resetCounters() {
        self.counters = SimCounters()
    }

    /// Back to the seeded connectors; knobs and credentials stay as they are.
    mutating func resetConnectors(configuration: FivetranSimulator.Configuration, now: Double) {
        var fresh = SimState(configuration: configuration, now: now)
        fresh.knobs = self.knobs
        fresh.credentials = self.credentials
        fresh.clock = self.clock
        fresh.counters = self.counters
        self = fresh
    }

    // MARK: - Syncs progressing

    /// Brings a connector up to `now`: ends the sync whose end has passed, starts a rescheduled
    /// sync of an automatically scheduled connector whose time has come.
    mutating func settle(_ id: String, now: Double) {
        for _ in 0..<100 {
            guard var connector = self.connectors[id] else { return }
            if let sync = connector.active, now >= sync.end {
                connector.active = nil
                connector.lastWasHistorical = sync.kind.isHistorical
                switch sync.outcome {
                case .success:
                    connector.succeededAt = sync.end
                    connector.failureTask = nil
                case .failed:
                    connector.failedAt = sync.end
                    connector.failureTask = sync.message
                }
                self.connectors[id] = connector
                continue
            }
            // With schedule_type manual only the API starts a rescheduled sync (Fivetran documents
            // that its sync call is then the only way syncs occur).
            if connector.active == nil, !connector.paused, connector.scheduleType == "auto", let at = connector.rescheduledFor, now >= at {
                let kind = connector.rescheduledKind ?? .sync
                connector.rescheduledFor = nil
                connector.rescheduledKind = nil
                self.connectors[id] = connector
                self.startSync(kind, connector: id, at: at)
                continue
            }
            return
        }
    }

    /// Starts a sync of `kind` at `start`, its outcome drawn now: forced for the connector first,
    /// then the queue of next syncs, then the weights. A connector whose setup tests have not
    /// passed fails its syncs.
    mutating func startSync(_ kind: SimSync.Kind, connector id: String, at start: Double) {
        guard var connector = self.connectors[id] else { return }
        self.syncSequence += 1
        let knobs = self.knobs
        var outcome = Self.drawOutcome(weights: knobs.outcomeWeights, seed: knobs.seed, index: self.syncSequence)
        var message: String?
        if var forced = self.forcedByConnector[id] {
            outcome = forced.outcome
            message = forced.message
            forced.remaining -= 1
            self.forcedByConnector[id] = forced.remaining > 0 ? forced : nil
        } else if var forced = self.forcedQueue.first {
            outcome = forced.outcome
            message = forced.message
            forced.remaining -= 1
            if forced.remaining > 0 { self.forcedQueue[0] = forced } else { self.forcedQueue.removeFirst() }
        }
        if connector.setupState != "connected" {
            outcome = .failed
            message = "The connector's setup tests have not passed (setup_state \(connector.setupState)); run the setup tests and fix what they report."
        }
        if outcome == .failed, message == nil { message = knobs.failureMessage }
        connector.active = SimSync(
            kind: kind, start: start, end: start + max(0, knobs.syncDuration.seconds), outcome: outcome,
            message: outcome == .failed ? message : nil
        )
        self.connectors[id] = connector
        self.counters.syncsStarted[id, default: 0] += 1
        if self.counters.syncLog.count >= SimCounters.maxSyncLog { self.counters.syncLog.removeFirst(self.counters.syncLog.count / 2) }
        self.counters.syncLog.append(SimSyncRecord(connectorID: id, historical: kind.isHistorical, start: start, end: start + max(0, knobs.syncDuration.seconds), outcome: outcome))
    }

    private static func drawOutcome(weights: [FivetranSimulator.SyncOutcome: Double], seed: UInt64, index: UInt64) -> FivetranSimulator.SyncOutcome {
        let entries = FivetranSimulator.SyncOutcome.allCases.compactMap { outcome -> (FivetranSimulator.SyncOutcome, Double)? in
            guard let weight = weights[outcome], weight > 0 else { return nil }
            return (outcome, weight)
        }
        let total = entries.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return .success }
        var point = SimRandom.unit(seed: seed, .outcome, index) * total
        for (outcome, weight) in entries {
            if point < weight { return outcome }
            point -= weight
        }
        return entries.last?.0 ?? .success
    }

    /// The connector `id`, settled to `now`, or the family's 404.
    mutating func existing(_ id: String, _ family: SimFamily, now: Double) throws(SimFailure) -> SimConnector {
        self.settle(id, now: now)
        guard let connector = self.connectors[id] else { throw .notFound(family, id) }
        return connector
    }

    /// Brings the rescheduled sync of connector `id` due now: `rescheduled_for` becomes `now`
    /// (if later), as if its time had come; the connector stays `rescheduled` until it starts the
    /// sync (auto, at its next read) or is asked again (manual). Returns `false` if the connector
    /// has no rescheduled sync.
    mutating func makeRescheduleDue(_ id: String, now: Double) throws(SimFailure) -> Bool {
        var connector = try self.existing(id, .connectors, now: now)
        guard let at = connector.rescheduledFor else { return false }
        connector.rescheduledFor = min(at, now)
        self.connectors[id] = connector
        return true
    }

    /// Takes one "lost answer": the request took effect, and is answered 500.
    mutating func loseAnswerIfAsked() throws(SimFailure) {
        guard self.lostAnswers > 0 else { return }
        self.lostAnswers -= 1
        self.counters.lostAnswers += 1
        throw .server(500)
    }
}

// MARK: - SimForcedOutcome, SimSetupFailure

/// An outcome imposed by a test instead of the weighted draw.
struct SimForcedOutcome: Sendable {
    var outcome: FivetranSimulator.SyncOutcome
    var message: String?
    var remaining: Int
}

/// A setup test made to fail (or warn): of one connector or any, the named test or the default
/// one, for the next `remaining` test runs.
struct SimSetupFailure: Sendable {
    var connectorID: String?
    var title: String?
    var status: FivetranSimulator.SetupTestStatus
    var message: String?
    var remaining: Int
}

// MARK: - SimCounters

struct SimCounters: Sendable {
    /// "GET /connectors/{connectorId}" → status → count.
    var requests: [String: [Int: Int]] = [:]
    var syncsStarted: [String: Int] = [:]
    var syncRequests: [String: Int] = [:]
    var resyncs: [String: Int] = [:]
    var tableResyncs: [String: [String: Int]] = [:]
    var setupTests: [String: Int] = [:]
    var updates: [String: Int] = [:]
    /// API requests by their Accept header ("" for none), to see what clients send.
    var acceptHeaders: [String: Int] = [:]
    var rateLimited = 0
    var injectedFaults = 0
    var lostAnswers = 0
    /// Every sync started, oldest first (the last `maxSyncLog` at most).
    var syncLog: [SimSyncRecord] = []
    static let maxSyncLog = 10_000
}

/// One sync as it started: whose, what kind, when it ends and how (fixed at its start).
struct SimSyncRecord: Sendable {
    var connectorID: String
    var historical: Bool
    var start: Double
    var end: Double
    var outcome: FivetranSimulator.SyncOutcome
}

// MARK: - DurationText

enum DurationText {
    /// `90-second`, `10-minute`: how a rate-limit window reads in the 429's message.
    static func describe(_ duration: Duration) -> String {
        let seconds = duration.seconds
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))-minute" }
        if seconds.rounded() == seconds { return "\(Int(seconds))-second" }
        return "\(seconds)-second"
    }
}

extension SimState: SimulatedState {}
