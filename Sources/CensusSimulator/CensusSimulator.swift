import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SimulatorKit
import Synchronization

// MARK: - CensusSimulator

/// A simulator of the Census API v1 as its public clients use it: a real HTTP or HTTPS server
/// (Hummingbird) serving syncs, sources, destinations, triggers and sync runs in Census's
/// envelopes, both authentication forms, errors (401, 404, 429, 5xx), pagination and an optional
/// rate limit, with runs that progress `queued → working → completed | failed` over simulated
/// time (and `skipped` for a run due while an earlier one of its sync still works).
///
/// Use it in-process (``start()`` returns the bound port, ``stop()`` ends it, or
/// ``withCensusSimulator(configuration:logger:_:)``) or standalone (`factoryctl sim census`).
/// Knobs change while it runs, from Swift or over HTTP under `/_admin`. State is in memory,
/// behind one lock; runs advance lazily from timestamps when read.
public final class CensusSimulator: Sendable {
    public let configuration: Configuration
    let engine: SimEngine
    private let logger: Logger
    private let served = ServedApplication(
        gracefulShutdownTimeout: .seconds(10),
        alreadyRunning: CensusSimulatorError.alreadyRunning,
        stoppedBeforeListening: CensusSimulatorError.stoppedBeforeListening
    )

    /// - Parameters:
    ///   - configuration: address, base path, tokens, seeds, TLS files and starting knobs.
    ///   - logger: the server's logger (silent by default).
    public init(configuration: Configuration = Configuration(), logger: Logger? = nil) {
        self.configuration = configuration
        self.engine = SimEngine(configuration: configuration)
        self.logger = logger ?? Logger(label: "census-simulator", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    // MARK: - Running

    /// Serves until the task is cancelled or, with `handlingShutdownSignals`, until SIGINT/SIGTERM.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// - Throws: ``CensusSimulatorError/tls(_:)`` when the certificate or key cannot be read,
    ///   ``CensusSimulatorError/alreadyRunning`` while it serves already, or the bind error.
    public func run(handlingShutdownSignals: Bool = false, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router(context: BasicRequestContext.self)
        SimRoutes(engine: self.engine).install(on: router)
        var server = HTTPServerBuilder.http1()
        if let tls = self.configuration.tls {
            do {
                server = try ServedApplication.httpsServer(certificateChain: tls.certificateFile, privateKey: tls.keyFile)
            } catch {
                throw CensusSimulatorError.tls(error.problem)
            }
        }
        try await self.served.run(
            router: router, host: self.configuration.host, port: self.configuration.port, server: server,
            handlingShutdownSignals: handlingShutdownSignals, logger: self.logger, onListening: onListening
        )
    }

    /// Starts serving in the background and returns the bound port (useful with port 0).
    ///
    /// - Throws: ``CensusSimulatorError/alreadyRunning`` if started twice, or the bind or TLS error.
    @discardableResult
    public func start() async throws -> Int {
        try await self.served.start(running: { onListening in try await self.run(onListening: onListening) })
    }

    /// Stops a simulator started with ``start()`` and waits until it has closed its port: gracefully,
    /// the server stops accepting, serves the connections it has accepted and closes them once idle
    /// (see ``ServedApplication``); what is left after 10 s is cancelled.
    public func stop() async {
        await self.served.stop()
    }

    /// The bound port while running.
    public var port: Int? { self.served.port }

    /// `http://host:port` (or `https://`) while running.
    public var baseURL: String? {
        self.port.map { "\(self.configuration.tls == nil ? "http" : "https")://\(self.configuration.host):\($0)" }
    }

    // MARK: - Knobs

    /// The current knobs.
    public var knobs: Knobs { self.engine.withState { state, _ in state.knobs } }

    /// Changes knobs while running; takes effect for the next request (and the next run).
    public func updateKnobs(_ update: (inout Knobs) -> Void) {
        var knobs = self.knobs
        update(&knobs)
        let newKnobs = knobs
        self.engine.withState { state, _ in
            if state.knobs.rateLimit != newKnobs.rateLimit { state.rateWindows.removeAll() }
            state.knobs = newKnobs
        }
    }

    /// The next `count` runs triggered (on any sync, and not skipped for a busy sync) end as
    /// `outcome`, with `error` as the failure's `error_message`.
    public func forceOutcome(_ outcome: RunOutcome, nextRuns count: Int = 1, error: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in state.forcedQueue.append(SimForcedOutcome(outcome: outcome, error: error, remaining: count)) }
    }

    /// Runs of sync `syncID` end as `outcome` (the next `count`; all by default). Takes precedence
    /// over ``forceOutcome(_:nextRuns:error:)``.
    public func forceOutcome(_ outcome: RunOutcome, forSyncID syncID: Int, runs count: Int = .max, error: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in state.forcedBySync[syncID] = SimForcedOutcome(outcome: outcome, error: error, remaining: count) }
    }

    /// The next `count` triggers create their run, then answer 502 (a proxy's error page) as if
    /// the answer were lost on its way back: the caller cannot know the run exists.
    public func loseTriggerAnswers(_ count: Int) {
        self.engine.withState { state, _ in state.lostTriggerAnswers += max(0, count) }
    }

    /// Adds a run to sync `syncID`'s history, created `ago` before now and already ended as
    /// `outcome` (a scheduled run, or one started in Census's UI); returns its id.
    ///
    /// - Throws: ``CensusSimulatorError/rejected(status:body:)`` if there is no such sync.
    @discardableResult
    public func addPastRun(syncID: Int, ago: Duration, outcome: RunOutcome = .completed) throws -> Int {
        let result = self.engine.withState { state, now -> Result<Int, SimFailure> in
            do throws(SimFailure) {
                return .success(try state.addPastRun(syncID: syncID, ago: ago.seconds, outcome: outcome, now: now))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let id): return id
        case .failure(let failure): throw CensusSimulatorError.rejected(status: failure.status, body: failure.text)
        }
    }

    /// Forgets every forced outcome.
    public func clearForcedOutcomes() {
        self.engine.withState { state, _ in
            state.forcedQueue.removeAll()
            state.forcedBySync.removeAll()
        }
    }

    /// Replaces the accepted tokens (with or without their `secret-token:` prefix); an empty list
    /// revokes all: every call gets 401.
    public func setTokens(_ tokens: [String]) {
        self.engine.withState { state, _ in
            state.tokens = Set(tokens.map(SimState.credential))
            state.rateWindows.removeAll()
        }
    }

    /// Moves simulated time forward (runs progress, timestamps jump).
    public func advanceClock(by duration: Duration) {
        self.engine.withState { state, _ in state.clock.offset += max(0, duration.seconds) }
    }

    /// Stops simulated time where it is: runs stay in their state and a full rate-limit window
    /// stays full until ``advanceClock(by:)`` moves time on or ``resumeClock()`` lets it run with
    /// the wall clock again. A test holds a state that would last a few wall-clock milliseconds
    /// for as long as it needs to observe it, however slow the machine.
    public func freezeClock() {
        self.engine.freezeClock()
    }

    /// Lets simulated time run with the wall clock again, from where ``freezeClock()`` stopped it
    /// (plus what was advanced meanwhile): nothing jumps.
    public func resumeClock() {
        self.engine.resumeClock()
    }

    /// Adds a sync while running.
    ///
    /// - Throws: ``CensusSimulatorError/rejected(status:body:)`` if the id is taken.
    public func addSync(_ sync: SeedSync) throws {
        let result = self.engine.perform { state, now throws(SimFailure) in
            try state.addSync(sync, now: now)
            return .null
        }
        if case .failure(let failure) = result { throw CensusSimulatorError.rejected(status: failure.status, body: failure.text) }
    }

    /// Deletes a sync (as someone deleting it in Census's UI); its runs stay readable by id.
    /// Returns whether it existed.
    @discardableResult
    public func removeSync(id: Int) -> Bool {
        self.engine.withState { state, _ in state.syncs.removeValue(forKey: id) != nil }
    }

    // MARK: - Counters

    /// A snapshot of the counters.
    public func counters() -> Counters {
        self.engine.withState { state, now in state.publicCounters(now: now) }
    }

    /// Zeroes the counters and the trigger log (syncs and runs stay).
    public func resetCounters() {
        self.engine.withState { state, _ in state.resetCounters() }
    }

    /// Removes every run and restores the seeded syncs and connections (knobs and tokens stay).
    public func resetObjects() {
        let configuration = self.configuration
        self.engine.withState { state, now in state.resetObjects(configuration: configuration, now: now) }
    }

    /// The accepted triggers, oldest first (the last 10,000 at most).
    public func triggerLog() -> [TriggerRecord] {
        self.engine.withState { state, _ in state.publicTriggerLog }
    }

    /// Run `id`'s status now, as `GET /sync_runs/{id}` would show it (`queued`, `working`,
    /// `completed`, `failed`, `skipped`); nil for a run the simulator never created.
    public func runStatus(id: Int) -> String? {
        self.engine.withState { state, now in
            guard let location = state.runLocation[id], let runs = state.runsBySync[location.syncID], runs.indices.contains(location.position) else {
                return nil
            }
            return runs[location.position].status(at: now)
        }
    }
}

// MARK: - Scoped use

/// Runs `body` with a started simulator and stops it afterwards, also when `body` throws.
public func withCensusSimulator<Result: Sendable>(
    configuration: CensusSimulator.Configuration = CensusSimulator.Configuration(),
    logger: Logger? = nil,
    _ body: (CensusSimulator) async throws -> Result
) async throws -> Result {
    let simulator = CensusSimulator(configuration: configuration, logger: logger)
    try await simulator.start()
    do {
        let result = try await body(simulator)
        await simulator.stop()
        return result
    } catch {
        await simulator.stop()
        throw error
    }
}

// MARK: - CensusSimulatorError

/// Failures of the simulator's own lifecycle and in-process calls.
public enum CensusSimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// ``CensusSimulator/start()`` was called on a running simulator.
    case alreadyRunning
    /// The server stopped before it was listening (for example the task was cancelled).
    case stoppedBeforeListening
    /// The TLS certificate or key cannot be used.
    case tls(String)
    /// An in-process call was refused as the API would refuse it.
    case rejected(status: Int, body: String)

    public var description: String {
        switch self {
        case .alreadyRunning: "The Census simulator is already running; stop it before starting it again."
        case .stoppedBeforeListening: "The Census simulator stopped before it was listening; check the host and port."
        case .tls(let problem): "The Census simulator cannot serve HTTPS: \(problem). Give --tls-cert and --tls-key as PEM files."
        case .rejected(let status, let body): "The simulator refused the call with HTTP \(status): \(body)"
        }
    }
}
