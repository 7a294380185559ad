import Foundation
import Hummingbird
import Logging
import NIOCore
import SimulatorKit
import Synchronization

// MARK: - HightouchSimulator

/// A faithful simulator of the Hightouch REST API v1: a real HTTP server (Hummingbird) serving the
/// documented endpoints, bodies, envelopes, id types, errors (401, 404, 409, 422, 429, 5xx) and
/// rate limit, with sync runs that progress over simulated time.
///
/// Use it in-process (``start()`` returns the bound port, ``stop()`` ends it, or
/// ``withHightouchSimulator(configuration:logger:_:)``) or standalone
/// (`factoryctl sim hightouch --port 8080`). Knobs change while it runs, from Swift
/// (``updateKnobs(_:)``, ``forceOutcome(_:nextRuns:error:)``, ...) or over HTTP under `/_admin`.
/// State is in memory, behind one lock; runs advance lazily from timestamps when read. With
/// ``Configuration/stateFile`` it is also kept in a file, loaded at start and written after changes.
public final class HightouchSimulator: Sendable {
    public let configuration: Configuration
    let engine: SimulatorEngine
    private let logger: Logger
    private let served = ServedApplication(
        gracefulShutdownTimeout: .seconds(10),
        alreadyRunning: HightouchSimulatorError.alreadyRunning,
        stoppedBeforeListening: HightouchSimulatorError.stoppedBeforeListening
    )
    private let lastWriteFailure = Mutex<HightouchSimulatorError?>(nil)

    /// - Parameters:
    ///   - configuration: address, base path, tokens, seed objects and starting knobs.
    ///   - logger: the server's logger (silent by default).
    public init(configuration: Configuration = Configuration(), logger: Logger? = nil) {
        self.configuration = configuration
        self.engine = SimulatorEngine(configuration: configuration)
        self.logger = logger ?? Logger(label: "hightouch-simulator", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    // MARK: - Running

    /// Serves until the task is cancelled or, with `handlingShutdownSignals`, until SIGINT/SIGTERM.
    ///
    /// With a ``Configuration/stateFile``, the file is loaded before the server listens and written
    /// after changes while it serves, and once more after it has stopped.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// - Throws: ``HightouchSimulatorError/alreadyRunning`` while it serves already (nothing is
    ///   loaded then), ``HightouchSimulatorError/stateFile(path:problem:)`` or
    ///   ``HightouchSimulatorError/stateFileNotWritable(path:reason:)`` for a state file that cannot be
    ///   used, the server's error, or the last write's error.
    public func run(
        handlingShutdownSignals: Bool = false,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let stateStore = self.configuration.stateFile.map { SimStateStore(path: $0, engine: self.engine, logger: self.logger) }
        let router = Router(context: BasicRequestContext.self)
        SimulatorRoutes(engine: self.engine).install(on: router)
        var saver: Task<Void, Never>?
        var serverError: (any Error)?
        do {
            try await self.served.run(
                router: router, host: self.configuration.host, port: self.configuration.port,
                handlingShutdownSignals: handlingShutdownSignals, logger: self.logger, onListening: onListening,
                prepare: {
                    // Only once admitted: a second run must not load the file over the state the
                    // first one serves.
                    try await stateStore?.load()
                    saver = stateStore.map { store in Task { await store.keepSaving() } }
                }
            )
        } catch {
            serverError = error
        }
        if let stateStore, let saver {
            saver.cancel()
            await saver.value
            // The server no longer answers: everything it acknowledged is in the state, and this
            // write keeps it (request counters included, which change without a revision).
            do {
                try await stateStore.save(force: true)
                self.lastWriteFailure.withLock { $0 = nil }
            } catch {
                self.logger.error("Cannot write the state file", metadata: ["simulator.state_file": "\(stateStore.path)", "error": "\(error)"])
                self.lastWriteFailure.withLock { $0 = error }
                if serverError == nil { throw error }
            }
        }
        if let serverError { throw serverError }
    }

    /// Checks ``Configuration/stateFile`` without starting: succeeds if there is none or it can be
    /// loaded, so a caller can report a bad file before it starts anything else.
    ///
    /// - Throws: ``HightouchSimulatorError/stateFile(path:problem:)`` naming the file and what is wrong.
    public func checkStateFile() throws(HightouchSimulatorError) {
        guard let path = self.configuration.stateFile else { return }
        _ = try SimStateStore.read(path: path, configuration: self.configuration)
    }

    /// Starts serving in the background and returns the bound port (useful with port 0).
    ///
    /// - Throws: ``HightouchSimulatorError/alreadyRunning`` if started twice, or the bind error.
    @discardableResult
    public func start() async throws -> Int {
        try await self.served.start(running: { onListening in try await self.run(onListening: onListening) })
    }

    /// Stops a simulator started with ``start()`` and waits until it has closed its port (and, with
    /// a ``Configuration/stateFile``, written it a last time: see ``stateFileFailure``). Gracefully,
    /// as the other simulators: the server stops accepting, serves the connections it has accepted
    /// and closes them once idle; what is left after 10 s is cancelled. (Cancelling the serving
    /// task at once can trap in NIO: see ``ServedApplication``.)
    public func stop() async {
        await self.served.stop()
    }

    /// The bound port while running.
    public var port: Int? { self.served.port }

    /// Why the state file's last write, when the server stopped, failed; `nil` if it succeeded (or
    /// there is no state file). ``stop()`` does not throw, so a caller that must not lose the state
    /// silently looks here after it.
    public var stateFileFailure: HightouchSimulatorError? { self.lastWriteFailure.withLock { $0 } }

    /// `http://host:port` while running.
    public var baseURL: String? {
        self.port.map { "http://\(self.configuration.host):\($0)" }
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

    /// The next `count` runs created (on any sync) end as `outcome`, with `error` as their error.
    public func forceOutcome(_ outcome: RunOutcome, nextRuns count: Int = 1, error: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in
            state.forcedQueue.append(SimForcedOutcome(outcome: outcome, error: error, remaining: count))
        }
    }

    /// Runs of the sync with this slug end as `outcome` (the next `count` runs; all by default).
    /// Takes precedence over ``forceOutcome(_:nextRuns:error:)``.
    public func forceOutcome(_ outcome: RunOutcome, forSyncSlug slug: String, runs count: Int = .max, error: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in
            state.forcedBySlug[slug] = SimForcedOutcome(outcome: outcome, error: error, remaining: count)
        }
    }

    /// Forgets every forced outcome.
    public func clearForcedOutcomes() {
        self.engine.withState { state, _ in
            state.forcedQueue.removeAll()
            state.forcedBySlug.removeAll()
        }
    }

    /// Replaces the accepted bearer tokens (an empty list revokes all: every call gets 401).
    public func setTokens(_ tokens: [String]) {
        self.engine.withState { state, _ in
            state.tokens = Set(tokens)
            state.rateWindows.removeAll()
        }
    }

    /// Moves simulated time forward (runs progress, timestamps jump).
    public func advanceClock(by duration: Duration) {
        self.engine.withState { state, _ in state.clockOffset += max(0, duration.seconds) }
    }

    /// Cancels a queued or running run now; later queued runs of its sync move up.
    ///
    /// - Throws: ``HightouchSimulatorError/runNotActive(_:)`` if the run does not exist or ended.
    public func cancelRun(id: Int) throws {
        let result = self.engine.perform { state, now throws(SimFailure) in try state.cancelRun(id: id, now: now) }
        if case .failure = result { throw HightouchSimulatorError.runNotActive(id) }
    }

    /// Creates `count` syncs of model `modelID` to destination `destinationID`, with slugs
    /// `<slugPrefix>-0`, `<slugPrefix>-1`, ..., each triggered once if `trigger` is set; returns their
    /// ids. They go through the same validation as `POST /syncs`. For load tests and benchmarks.
    ///
    /// - Throws: ``HightouchSimulatorError/rejected(status:body:)`` as the API would answer.
    @discardableResult
    public func bulkCreateSyncs(
        count: Int,
        slugPrefix: String = "bulk",
        modelID: Int,
        destinationID: Int = 80565,
        trigger: Bool = false
    ) throws -> [Int] {
        let result = self.engine.withState { state, now -> Result<[Int], SimFailure> in
            do throws(SimFailure) {
                return .success(
                    try state.bulkCreateSyncs(
                        count: count,
                        slugPrefix: slugPrefix,
                        modelID: modelID,
                        destinationID: destinationID,
                        trigger: trigger,
                        now: now
                    )
                )
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let ids): return ids
        case .failure(let failure): throw HightouchSimulatorError.rejected(status: failure.status, body: failure.body.text)
        }
    }

    // MARK: - Counters

    /// A snapshot of the counters.
    public func counters() -> Counters {
        self.engine.withState { state, now in state.publicCounters(now: now) }
    }

    /// Zeroes the counters and the trigger log (objects and runs stay).
    public func resetCounters() {
        self.engine.withState { state, _ in state.resetCounters() }
    }

    /// Deletes one sync and its runs, as someone deleting it in Hightouch's UI would.
    public func deleteSync(id: Int) throws {
        let result: Result<Void, SimFailure> = self.engine.withState { state, now in
            do throws(SimFailure) {
                try state.deleteSync(id: id, now: now)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// The id of the sync with `slug` now; nil when there is none.
    public func syncID(slug: String) -> Int? {
        self.engine.withState { state, _ in state.syncIDBySlug[slug] }
    }

    /// Removes every model, sync and run, restoring the seeded workspace (knobs and tokens stay).
    public func resetObjects() {
        let configuration = self.configuration
        self.engine.withState { state, now in state.resetObjects(configuration: configuration, now: now) }
    }

    /// The accepted triggers, oldest first (the last 10,000 at most).
    public func triggerLog() -> [TriggerRecord] {
        self.engine.withState { state, _ in state.publicTriggerLog }
    }

    /// Run `id`'s status now, as `GET /syncs/{syncId}/runs` would show it (`queued`, `processing`,
    /// `success`, `failed`, …); for a run deleted with its sync, the status it had then; nil for a
    /// run the simulator never created.
    public func runStatus(id: Int) -> String? {
        self.engine.withState { state, now in
            guard let location = state.runLocation[id], let runs = state.runsBySync[location.syncID], runs.indices.contains(location.position) else {
                return state.retiredRunStatus[id]
            }
            return runs[location.position].status(at: now)
        }
    }
}

// MARK: - Scoped use

/// Runs `body` with a started simulator and stops it afterwards, also when `body` throws.
public func withHightouchSimulator<Result: Sendable>(
    configuration: HightouchSimulator.Configuration = HightouchSimulator.Configuration(),
    logger: Logger? = nil,
    _ body: (HightouchSimulator) async throws -> Result
) async throws -> Result {
    let simulator = HightouchSimulator(configuration: configuration, logger: logger)
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

// MARK: - HightouchSimulatorError

/// Failures of the simulator's own lifecycle and admin calls.
public enum HightouchSimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// ``HightouchSimulator/start()`` (or `run()`) was called on a running simulator.
    case alreadyRunning
    /// The server stopped before it was listening (for example the task was cancelled).
    case stoppedBeforeListening
    /// ``HightouchSimulator/cancelRun(id:)`` named a run that does not exist or already ended.
    case runNotActive(Int)
    /// An in-process call was refused as the API would refuse it (status and JSON body).
    case rejected(status: Int, body: String)
    /// The state file exists but cannot be used: `problem` says why, as a predicate on the file
    /// ("is not JSON", "has the wrong shape: models[0].slug is missing", "has format version 2, ...").
    case stateFile(path: String, problem: String)
    /// The state file cannot be written (its directory is missing or read-only, the disk is full).
    case stateFileNotWritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .alreadyRunning: "The Hightouch simulator is already running; stop it before starting it again."
        case .stoppedBeforeListening: "The Hightouch simulator stopped before it was listening; check the host and port."
        case .runNotActive(let id): "Run \(id) does not exist or has already ended, so it cannot be cancelled."
        case .rejected(let status, let body): "The simulator refused the call with HTTP \(status): \(body)"
        case .stateFile(let path, let problem):
            "The Hightouch simulator's state file \(path) \(problem); fix it, or move it away to start the simulator empty."
        case .stateFileNotWritable(let path, let reason):
            "The Hightouch simulator cannot write its state file \(path) (\(reason)); make its directory exist and writable, or choose another file."
        }
    }
}
