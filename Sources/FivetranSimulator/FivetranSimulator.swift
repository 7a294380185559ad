import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SimulatorKit
import Synchronization

// MARK: - FivetranSimulator

/// A faithful simulator of the Fivetran REST API v1 as orchestrators use it: connector details
/// (under `/v1/connectors` and `/v1/connections`), schedule and pause changes, syncs (`/sync` with
/// or without `force`, the older `/force`), re-syncs of a connector or of tables, setup tests; the
/// `{"code": "Success", "data": ...}` envelopes, HTTP Basic auth, `version=2` media types on every
/// request, the error answers (400, 401, 404, 406, 409, 429 with `Retry-After`, 5xx) and the rate
/// limit. Syncs take simulated time: `sync_state` moves `scheduled → syncing → scheduled` (or
/// `rescheduled`, `paused`) and `succeeded_at` / `failed_at` move, to the microsecond, when a sync
/// ends.
///
/// Use it in-process (``start()`` returns the bound port, ``stop()`` ends it, or
/// ``withFivetranSimulator(configuration:logger:_:)``) or standalone (`factoryctl sim fivetran`),
/// over HTTP or, with ``Configuration/tls``, HTTPS. Knobs change while it runs, from Swift or over
/// HTTP under `/_admin`. State is in memory, behind one lock; syncs advance lazily from timestamps.
public final class FivetranSimulator: Sendable {
    public let configuration: Configuration
    let engine: SimEngine
    /// Sends `sync_end` when a sync ends, if configured.
    public let webhooks: SimWebhookSender?
    private let logger: Logger
    private let served = ServedApplication(
        gracefulShutdownTimeout: .seconds(10),
        alreadyRunning: FivetranSimulatorError.alreadyRunning,
        stoppedBeforeListening: FivetranSimulatorError.stoppedBeforeListening
    )

    /// - Parameters:
    ///   - configuration: address, credentials, seed connectors, TLS and starting knobs.
    ///   - logger: the server's logger (silent by default).
    public init(configuration: Configuration = Configuration(), logger: Logger? = nil) {
        self.configuration = configuration
        self.engine = SimEngine(configuration: configuration)
        self.webhooks = configuration.webhook.map { SimWebhookSender(target: $0, signatureHeader: "X-Fivetran-Signature-256", upperCaseHex: true) }
        self.logger = logger ?? Logger(label: "fivetran-simulator", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    // MARK: - Running

    /// Serves until the task is cancelled or, with `handlingShutdownSignals`, until SIGINT/SIGTERM.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// - Throws: ``FivetranSimulatorError/unreadableTLSFiles(_:)`` if the certificate or key cannot
    ///   be read, ``FivetranSimulatorError/alreadyRunning`` while it serves already, or the bind error.
    public func run(
        handlingShutdownSignals: Bool = false,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let router = Router(context: BasicRequestContext.self)
        SimRoutes(engine: self.engine).install(on: router)
        var server = HTTPServerBuilder.http1()
        if let files = self.configuration.tls {
            do {
                server = try ServedApplication.httpsServer(certificateChain: files.certificateChainPath, privateKey: files.privateKeyPath)
            } catch {
                throw FivetranSimulatorError.unreadableTLSFiles(error.problem)
            }
        }
        let engine = self.engine
        self.webhooks?.start { engine.withState { state, now in state.endedSyncWebhooks(now: now) } }
        defer { self.webhooks?.stop() }
        try await self.served.run(
            router: router, host: self.configuration.host, port: self.configuration.port, server: server,
            handlingShutdownSignals: handlingShutdownSignals, logger: self.logger, onListening: onListening
        )
    }

    /// Starts serving in the background and returns the bound port (useful with port 0).
    ///
    /// - Throws: ``FivetranSimulatorError/alreadyRunning`` if started twice, or the bind error.
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

    /// `http://host:port` (or `https://`) while running; the API is under `/v1`.
    public var baseURL: String? {
        self.port.map { "\(self.configuration.tls == nil ? "http" : "https")://\(self.configuration.host):\($0)" }
    }

    // MARK: - Knobs

    /// The current knobs.
    public var knobs: Knobs { self.engine.withState { state, _ in state.knobs } }

    /// Changes knobs while running; takes effect for the next request (and the next sync).
    public func updateKnobs(_ update: (inout Knobs) -> Void) {
        var knobs = self.knobs
        update(&knobs)
        let newKnobs = knobs
        self.engine.withState { state, _ in
            if state.knobs.rateLimit != newKnobs.rateLimit { state.rateWindows.removeAll() }
            state.knobs = newKnobs
        }
    }

    /// The next `count` syncs started (of any connector) end as `outcome`; a failure leaves
    /// `message` as its task.
    public func forceOutcome(_ outcome: SyncOutcome, nextSyncs count: Int = 1, message: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in
            state.forcedQueue.append(SimForcedOutcome(outcome: outcome, message: message, remaining: count))
        }
    }

    /// The syncs of connector `id` end as `outcome` (the next `count`; all by default). Takes
    /// precedence over ``forceOutcome(_:nextSyncs:message:)``.
    public func forceOutcome(_ outcome: SyncOutcome, forConnector id: String, syncs count: Int = .max, message: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in
            state.forcedByConnector[id] = SimForcedOutcome(outcome: outcome, message: message, remaining: count)
        }
    }

    /// Forgets every forced outcome.
    public func clearForcedOutcomes() {
        self.engine.withState { state, _ in
            state.forcedQueue.removeAll()
            state.forcedByConnector.removeAll()
        }
    }

    /// Makes one setup test answer `status` (`FAILED` or `WARNING`) with `message`: the test
    /// titled `title` (by default "Connecting to the source"), of connector `id` (any if `nil`),
    /// for the next `count` test runs (all by default). A `FAILED` test leaves the connector's
    /// `setup_state` `broken`, and its syncs fail until the tests pass again.
    public func failSetupTest(
        _ status: SetupTestStatus = .failed, title: String? = nil, message: String? = nil, connector id: String? = nil, runs count: Int = .max
    ) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in
            state.setupFailures.append(SimSetupFailure(connectorID: id, title: title, status: status, message: message, remaining: count))
        }
    }

    /// Every setup test passes again (at its next run).
    public func clearSetupTestFailures() {
        self.engine.withState { state, _ in state.setupFailures.removeAll() }
    }

    /// The next `count` sync or re-sync requests take effect and are then answered 500, as if the
    /// answer was lost on the way: the caller cannot know the sync started.
    public func loseAnswers(_ count: Int) {
        self.engine.withState { state, _ in state.lostAnswers = max(0, count) }
    }

    /// The next `count` sync requests are rescheduled instead of started: `sync_state`
    /// `rescheduled` with `rescheduled_for` `delay` later. An `auto` connector then starts the
    /// sync by itself; a `manual` one waits for a sync call after that time, as Fivetran does.
    public func rescheduleNextSyncs(_ count: Int, by delay: Duration) {
        self.engine.withState { state, _ in state.reschedules = (max(0, count), max(0, delay.seconds)) }
    }

    /// Ends the wait of connector `id`'s rescheduled sync: `rescheduled_for` becomes the simulated
    /// now, as if its time had come. An `auto` connector then starts the sync by itself, a
    /// `manual` one when asked again. Unlike ``advanceClock(by:)`` it leaves the clock alone, so a
    /// client comparing `rescheduled_for` with its own clock (as the fivetran driver does before it
    /// asks again) sees it passed: a test holds a long reschedule for as long as it observes it,
    /// then ends it.
    ///
    /// - Throws: ``FivetranSimulatorError/unknownConnector(_:)``, or
    ///   ``FivetranSimulatorError/notRescheduled(_:)`` if no sync of it is rescheduled.
    public func makeRescheduleDue(connector id: String) throws(FivetranSimulatorError) {
        let result: Result<Bool, SimFailure> = self.engine.withState { state, now in
            do throws(SimFailure) {
                return .success(try state.makeRescheduleDue(id, now: now))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(true): return
        case .success(false): throw .notRescheduled(id)
        case .failure: throw .unknownConnector(id)
        }
    }

    /// Replaces the accepted credentials (an empty list revokes all: every call gets 401).
    public func setCredentials(_ credentials: [Credential]) {
        self.engine.withState { state, _ in
            state.credentials = Set(credentials)
            state.rateWindows.removeAll()
        }
    }

    /// Moves simulated time forward (syncs progress, timestamps jump).
    public func advanceClock(by duration: Duration) {
        self.engine.withState { state, _ in state.clock.offset += max(0, duration.seconds) }
    }

    /// Stops simulated time where it is: syncs stay in their state and a full rate-limit window
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

    /// Starts a sync of connector `id` as its schedule would (not counted as a sync request).
    ///
    /// - Throws: ``FivetranSimulatorError/unknownConnector(_:)``, or
    ///   ``FivetranSimulatorError/connectorBusy(_:)`` if it is paused or syncing.
    public func startScheduledSync(connector id: String) throws {
        let result: FivetranSimulatorError? = self.engine.withState { state, now in
            state.settle(id, now: now)
            guard let connector = state.connectors[id] else { return .unknownConnector(id) }
            guard !connector.paused, connector.active == nil else { return .connectorBusy(id) }
            state.startSync(.sync, connector: id, at: now)
            return nil
        }
        if let result { throw result }
    }

    /// Adds a connector (established, like a seed), or replaces one with the same id.
    public func addConnector(_ seed: SeedConnector) {
        self.engine.withState { state, now in
            if state.connectors[seed.id] == nil { state.connectorOrder.append(seed.id) }
            state.connectors[seed.id] = SimConnector(seed: seed, now: now)
        }
    }

    // MARK: - Counters

    /// A snapshot of the counters.
    public func counters() -> Counters {
        self.engine.withState { state, _ in Counters(state.counters) }
    }

    /// Every sync started (by the API or a schedule), oldest first, the last 10,000 at most:
    /// Fivetran's syncs have no ids, so this is how a test or chaos run tells which sync of a
    /// connector ended how. Zeroed with the counters.
    public func syncLog() -> [SyncRecord] {
        self.engine.withState { state, now in
            state.counters.syncLog.map { record in
                SyncRecord(
                    connectorID: record.connectorID, kind: record.historical ? "resync" : "sync", outcome: record.outcome,
                    startedAt: Date(timeIntervalSince1970: record.start), endsAt: Date(timeIntervalSince1970: record.end), ended: now >= record.end
                )
            }
        }
    }

    /// Zeroes the counters (connectors stay).
    public func resetCounters() {
        self.engine.withState { state, _ in state.resetCounters() }
    }

    /// Restores the seeded connectors and forgets forced outcomes and faults (knobs, credentials
    /// and counters stay).
    public func resetConnectors() {
        let configuration = self.configuration
        self.engine.withState { state, now in state.resetConnectors(configuration: configuration, now: now) }
    }
}

// MARK: - Scoped use

/// Runs `body` with a started simulator and stops it afterwards, also when `body` throws.
public func withFivetranSimulator<Result: Sendable>(
    configuration: FivetranSimulator.Configuration = FivetranSimulator.Configuration(),
    logger: Logger? = nil,
    _ body: (FivetranSimulator) async throws -> Result
) async throws -> Result {
    let simulator = FivetranSimulator(configuration: configuration, logger: logger)
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

// MARK: - FivetranSimulatorError

/// Failures of the simulator's own lifecycle and admin calls.
public enum FivetranSimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// ``FivetranSimulator/start()`` was called on a running simulator.
    case alreadyRunning
    /// The server stopped before it was listening (for example the task was cancelled).
    case stoppedBeforeListening
    /// The TLS certificate chain or private key could not be read.
    case unreadableTLSFiles(String)
    /// No connector has this id.
    case unknownConnector(String)
    /// The connector is paused or syncing.
    case connectorBusy(String)
    /// No sync of the connector is rescheduled.
    case notRescheduled(String)

    public var description: String {
        switch self {
        case .alreadyRunning: "The Fivetran simulator is already running; stop it before starting it again."
        case .stoppedBeforeListening: "The Fivetran simulator stopped before it was listening; check the host and port."
        case .unreadableTLSFiles(let detail): "The Fivetran simulator cannot serve HTTPS: \(detail). Give a PEM certificate chain and its PEM private key."
        case .unknownConnector(let id): "The Fivetran simulator has no connector '\(id)'; add it with --connector or POST /_admin/connectors."
        case .connectorBusy(let id): "Connector '\(id)' is paused or already syncing, so no scheduled sync can start now."
        case .notRescheduled(let id): "Connector '\(id)' has no rescheduled sync to bring due; reschedule one first (rescheduleNextSyncs, then a sync call)."
        }
    }
}
