import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SimulatorKit
import Synchronization

// MARK: - DBTCloudSimulator

/// A faithful simulator of the dbt Cloud Administrative API v2 for one account: a real HTTP (or
/// HTTPS) server (Hummingbird) serving jobs, triggers, reruns, runs that progress over simulated
/// time with their steps, cancels, run lists with dbt Cloud's filters and order, artifacts, the
/// `{"status": ..., "data": ...}` envelope and the errors dbt Cloud answers (400, 401, 403, 404,
/// 405, 429 with `Retry-After`, 5xx).
///
/// It accepts what dbt Cloud's public clients send: paths with or without the trailing slash,
/// `Authorization: Token <t>` and `Bearer <t>`, a JSON `null` body, no body on a trigger,
/// `include_related` and `status__in` as comma lists or list-like strings.
///
/// Use it in-process (``start()`` returns the bound port, ``stop()`` ends it, or
/// ``withDBTCloudSimulator(configuration:logger:_:)``) or standalone (`factoryctl sim dbtcloud`).
/// Knobs change while it runs, from Swift or over HTTP under `/_admin`.
public final class DBTCloudSimulator: Sendable {
    public let configuration: Configuration
    let engine: SimEngine
    /// Sends `job.run.completed` when a run ends, if configured.
    public let webhooks: SimWebhookSender?
    private let logger: Logger
    private let served = ServedApplication(
        gracefulShutdownTimeout: .seconds(10),
        alreadyRunning: DBTCloudSimulatorError.alreadyRunning,
        stoppedBeforeListening: DBTCloudSimulatorError.stoppedBeforeListening
    )

    /// - Parameters:
    ///   - configuration: address, account, tokens, jobs, TLS and starting knobs.
    ///   - logger: the server's logger (silent by default).
    public init(configuration: Configuration = Configuration(), logger: Logger? = nil) {
        self.configuration = configuration
        self.engine = SimEngine(configuration: configuration)
        self.webhooks = configuration.webhook.map { SimWebhookSender(target: $0, signatureHeader: "Authorization", upperCaseHex: false) }
        self.logger = logger ?? Logger(label: "dbtcloud-simulator", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    // MARK: - Running

    /// Serves until the task is cancelled or, with `handlingShutdownSignals`, until SIGINT/SIGTERM.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// - Throws: ``DBTCloudSimulatorError/tls(_:)`` if the certificate or key cannot be read,
    ///   ``DBTCloudSimulatorError/alreadyRunning`` while it serves already, or the bind error.
    public func run(
        handlingShutdownSignals: Bool = false,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let router = Router(context: BasicRequestContext.self)
        SimRoutes(engine: self.engine).install(on: router)
        var server = HTTPServerBuilder.http1()
        if let tls = self.configuration.tls {
            do {
                server = try ServedApplication.httpsServer(certificateChain: tls.certificateChain, privateKey: tls.privateKey)
            } catch {
                throw DBTCloudSimulatorError.tls(error.problem)
            }
        }
        let scheme = self.configuration.tls == nil ? "http" : "https"
        let host = self.configuration.host
        let accessURL = self.configuration.accessURL
        let engine = self.engine
        self.webhooks?.start { engine.withState { state, now in state.endedRunWebhooks(now: now) } }
        defer { self.webhooks?.stop() }
        try await self.served.run(
            router: router, host: host, port: self.configuration.port, server: server,
            handlingShutdownSignals: handlingShutdownSignals, logger: self.logger,
            onListening: { port in
                // Links in answers (the run's href) name the address clients reach.
                engine.withState { state, _ in state.accessURL = accessURL ?? "\(scheme)://\(host):\(port)" }
                await onListening(port)
            }
        )
    }

    /// Starts serving in the background and returns the bound port (useful with port 0).
    ///
    /// - Throws: ``DBTCloudSimulatorError/alreadyRunning`` if started twice, or the set-up error.
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

    /// `http://host:port` (or `https://`) while running: the client's base URL.
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
            if state.knobs.rateLimit != newKnobs.rateLimit { state.rateWindow = SimSlidingWindow(capacity: 1) }
            state.knobs = newKnobs
        }
    }

    /// The next `count` runs created (of any job) end as `outcome`, with `statusMessage`.
    public func forceOutcome(_ outcome: RunOutcome, nextRuns count: Int = 1, statusMessage: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in
            state.forcedQueue.append(SimForcedOutcome(outcome: outcome, message: statusMessage, remaining: count))
        }
    }

    /// Runs of job `jobID` end as `outcome` (the next `count` runs; all by default). Takes
    /// precedence over ``forceOutcome(_:nextRuns:statusMessage:)``.
    public func forceOutcome(_ outcome: RunOutcome, forJob jobID: Int, runs count: Int = .max, statusMessage: String? = nil) {
        guard count > 0 else { return }
        self.engine.withState { state, _ in
            state.forcedByJob[jobID] = SimForcedOutcome(outcome: outcome, message: statusMessage, remaining: count)
        }
    }

    /// Forgets every forced outcome.
    public func clearForcedOutcomes() {
        self.engine.withState { state, _ in
            state.forcedQueue.removeAll()
            state.forcedByJob.removeAll()
        }
    }

    /// The next `count` triggers (run or rerun) create their run and then lose the answer: the
    /// caller gets a gateway's 504, as when a load balancer gives up on a slow backend that acted.
    public func dropTriggerAnswers(_ count: Int = 1) {
        self.engine.withState { state, _ in state.answersToDrop = max(0, count) }
    }

    /// Replaces the accepted tokens (an empty list revokes all: every call gets 401).
    public func setTokens(_ tokens: [String]) {
        self.engine.withState { state, _ in state.tokens = Set(tokens) }
    }

    /// Adds a job (or replaces the job with its id).
    public func addJob(_ job: Job) {
        self.engine.withState { state, now in state.addJob(job, now: now) }
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

    // MARK: - Reading

    /// A run's status code now (1, 2, 3, 10, 20, 30), or nil if it does not exist.
    public func runStatus(id: Int) -> Int? {
        self.engine.withState { state, now in state.runPosition[id].map { state.runs[$0].status(at: now) } }
    }

    /// A snapshot of the counters.
    public func counters() -> Counters {
        self.engine.withState { state, now in state.publicCounters(now: now) }
    }

    /// Zeroes the counters and the trigger log (jobs and runs stay).
    public func resetCounters() {
        self.engine.withState { state, _ in state.resetCounters() }
    }

    /// Removes every run and added job, restoring the configured jobs (knobs and tokens stay).
    public func resetObjects() {
        let configuration = self.configuration
        self.engine.withState { state, now in state.resetObjects(configuration: configuration, now: now) }
    }

    /// The runs created through the API, oldest first (the last 10,000 at most).
    public func triggerLog() -> [TriggerRecord] {
        self.engine.withState { state, _ in state.publicTriggerLog }
    }
}

// MARK: - Scoped use

/// Runs `body` with a started simulator and stops it afterwards, also when `body` throws.
public func withDBTCloudSimulator<Result: Sendable>(
    configuration: DBTCloudSimulator.Configuration = DBTCloudSimulator.Configuration(),
    logger: Logger? = nil,
    _ body: (DBTCloudSimulator) async throws -> Result
) async throws -> Result {
    let simulator = DBTCloudSimulator(configuration: configuration, logger: logger)
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

// MARK: - DBTCloudSimulatorError

/// Failures of the simulator's own lifecycle.
public enum DBTCloudSimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// ``DBTCloudSimulator/start()`` was called on a running simulator.
    case alreadyRunning
    /// The server stopped before it was listening (for example the task was cancelled).
    case stoppedBeforeListening
    /// The TLS certificate or key could not be used.
    case tls(String)

    public var description: String {
        switch self {
        case .alreadyRunning: "The dbt Cloud simulator is already running; stop it before starting it again."
        case .stoppedBeforeListening: "The dbt Cloud simulator stopped before it was listening; check the host and port."
        case .tls(let problem): "The dbt Cloud simulator cannot serve HTTPS: \(problem). Pass PEM files to --tls-cert and --tls-key."
        }
    }
}
