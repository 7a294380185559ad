import AsyncHTTPClient
import FactoryModel
import Foundation
import HightouchSimulator
import Logging
import NATSKit
import NATSTestKit
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - DevStack

/// The local stack of `factoryctl dev`, started in order and stopped in reverse: a nats-server
/// with JetStream (its store in the dev directory, so state survives a restart), `streams/`
/// provisioned, the Hightouch simulator in-process (its state in a file beside the store, so the
/// vendor's objects survive the same restart), the other vendors' simulators and an HTTP task
/// target in-process, and the operator replicas as child processes pointed at all of them.
final class DevStack: Sendable {
    struct Configuration: Sendable {
        var directory: URL
        var fresh: Bool
        var natsPort: Int
        var simulatorPort: Int
        var metricPorts: [Int]
        var operatorExecutable: URL
        var natsServerExecutable: String?
        var streamsDirectory: URL?
        var token: String
        var runDuration: Duration
        var reconcileInterval: String
        /// OPERATOR_DRIVERS of the replicas (a `factory-operator`; `hightouch-operator` hosts Hightouch alone).
        var drivers: String
        var logLevel: String
        var readyTimeout: Duration

        var storeDirectory: URL { directory.appendingPathComponent("jetstream") }
        /// The simulator's state: kept beside the JetStream store, because either one without the
        /// other is a stack that disagrees with itself (resources whose syncs the vendor forgot).
        var simulatorStateFile: URL { directory.appendingPathComponent("hightouch-simulator.json") }
        var natsURL: String { "nats://127.0.0.1:\(natsPort)" }
        var simulatorURL: String { "http://127.0.0.1:\(simulatorPort)" }
        var replicaNames: [String] { metricPorts.indices.map { "operator-\($0 + 1)" } }
    }

    /// What happens while the stack runs, for the foreground loop.
    enum Event: Sendable {
        case signal(String)
        case replicaExited(name: String, status: Int32)
    }

    private struct Parts {
        var server: NATSServerProcess?
        var simulator: HightouchSimulator?
        var vendorsStarted = false
        var replicas: [ReplicaProcess] = []
        var stopRequested = false
        var stopping = false
    }

    let configuration: Configuration
    let log: DevLog
    let vendors: DevVendorSimulators
    private let parts = Mutex(Parts())
    private let events: AsyncStream<Event>.Continuation

    init(configuration: Configuration, log: DevLog, events: AsyncStream<Event>.Continuation) {
        self.configuration = configuration
        self.log = log
        self.events = events
        self.vendors = DevVendorSimulators(basePort: configuration.simulatorPort, token: configuration.token, runDuration: configuration.runDuration) { [log] label in
            Logger(label: label) { _ in DevLogHandler(source: label, devLog: log, logLevel: log.verbose ? .info : .warning) }
        }
    }

    /// Makes a start in progress give up at its next step (Ctrl-C while starting).
    func requestStop() {
        parts.withLock { $0.stopRequested = true }
    }

    var isStopRequested: Bool { parts.withLock { $0.stopRequested } }

    private func checkNotStopped() throws(CLIError) {
        if isStopRequested { throw .failed("interrupted while starting") }
    }

    // MARK: - Start

    /// Starts everything and waits until every replica is ready. On failure, what was started
    /// stays for ``stop()`` to take down.
    func start() async throws(CLIError) {
        let started = ContinuousClock.now
        try prepareDirectory()
        // A state file that cannot be used is reported before anything starts, like a busy port.
        let simulator = makeSimulator()
        do {
            try simulator.checkStateFile()
        } catch {
            throw Self.stateFileError(error)
        }
        try checkPorts()
        log.say("factoryctl dev: the local stack, state in \(configuration.directory.path)\(configuration.fresh ? " (fresh)" : "")")

        let server = try await startServer()
        log.say("  nats-server  \(configuration.natsURL)  JetStream, pid \(server.processIdentifier.map(String.init) ?? "?"), log \(server.logFile)")
        try checkNotStopped()

        try await provisionStreams()
        try checkNotStopped()

        try await startSimulator(simulator)
        log.say("  simulator    \(configuration.simulatorURL)/api/v1  Hightouch API, token \(configuration.token), runs take \(Durations.text(configuration.runDuration)), state \(configuration.simulatorStateFile.path)")
        try checkNotStopped()

        try await vendors.start()
        parts.withLock { $0.vendorsStarted = true }
        for line in vendors.summary { log.say(line) }
        try checkNotStopped()

        try startReplicas()
        try await waitUntilReady()
        let resources = try await countResources()
        log.say("ready in \(String(format: "%.1f", Durations.seconds(ContinuousClock.now - started)))s: \(configuration.metricPorts.count) replicas ready, \(resources) resource\(resources == 1 ? "" : "s") in workspace public")
    }

    private func prepareDirectory() throws(CLIError) {
        let fileManager = FileManager.default
        do {
            if configuration.fresh {
                // Both halves of the state, or the stack would disagree with itself.
                try? fileManager.removeItem(at: configuration.storeDirectory)
                try? fileManager.removeItem(at: configuration.simulatorStateFile)
            }
            try fileManager.createDirectory(at: configuration.storeDirectory, withIntermediateDirectories: true)
        } catch {
            throw .invalidInput("cannot create the dev directory \(configuration.directory.path): \(error.localizedDescription); choose another with --dir")
        }
    }

    private func checkPorts() throws(CLIError) {
        let ports: [(Int, String, String)] =
            [(configuration.natsPort, "NATS", "--nats-port"), (configuration.simulatorPort, "the simulator", "--sim-port")]
            + vendors.ports.map { ($0.port, $0.what, "--sim-port") }
            + configuration.metricPorts.enumerated().map { ($1, "operator-\($0 + 1)'s metrics", "--metric-port") }
        for (port, what, option) in ports where !PortProbe.isFree(port) {
            throw CLIError(
                .unavailable,
                "port \(port) (for \(what)) is already in use, perhaps by another nats-server or factoryctl dev; stop that, or choose another port with \(option)")
        }
    }

    private func startServer() async throws(CLIError) -> NATSServerProcess {
        let serverConfiguration = NATSServerProcess.Configuration(
            executable: configuration.natsServerExecutable,
            storeDirectory: configuration.storeDirectory.path,
            port: configuration.natsPort,
            serverName: "factoryctl-dev"
        )
        do {
            let server = try await NATSServerProcess.start(serverConfiguration)
            parts.withLock { $0.server = server }
            return server
        } catch let failure as NATSServerProcess.Failure {
            switch failure {
            case .executableNotFound(let detail):
                throw CLIError(.unavailable, "nats-server not found (\(detail)); scripts/dev installs the pinned one, or pass --nats-server PATH")
            case .didNotStart(let detail):
                throw CLIError(.unavailable, "nats-server did not start on port \(configuration.natsPort): \(detail.split(separator: "\n").last.map(String.init) ?? detail)")
            }
        } catch {
            throw CLIError(.unavailable, "nats-server did not start: \(error)")
        }
    }

    /// Applies `streams/` (the same topology every replica provisions at start-up), so the files
    /// themselves are exercised.
    private func provisionStreams() async throws(CLIError) {
        guard let directory = configuration.streamsDirectory else {
            log.say("  streams      no streams/ directory here; the replicas provision the topology themselves")
            return
        }
        do {
            let topology = try JetStreamTopology.load(directory: directory)
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: [configuration.natsURL], name: "factoryctl-dev"))
            do {
                _ = try await connection.jetStream().provision(topology)
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }
            log.say("  streams      provisioned \(directory.lastPathComponent)/: \(topology.streams.count) streams, \(topology.consumers.count) consumers, \(topology.buckets.count) KV buckets")
        } catch {
            throw .failed("cannot provision \(directory.path): \(error)")
        }
    }

    private func makeSimulator() -> HightouchSimulator {
        var knobs = HightouchSimulator.Knobs()
        knobs.runDuration = configuration.runDuration
        return HightouchSimulator(
            configuration: HightouchSimulator.Configuration(
                host: "127.0.0.1",
                port: configuration.simulatorPort,
                tokens: [configuration.token],
                knobs: knobs,
                stateFile: configuration.simulatorStateFile.path
            ),
            logger: Logger(label: "simulator") { [log] _ in DevLogHandler(source: "simulator", devLog: log, logLevel: log.verbose ? .info : .warning) }
        )
    }

    private func startSimulator(_ simulator: HightouchSimulator) async throws(CLIError) {
        do {
            _ = try await simulator.start()
            parts.withLock { $0.simulator = simulator }
        } catch let error as HightouchSimulatorError {
            switch error {
            case .stateFile, .stateFileNotWritable: throw Self.stateFileError(error)
            default: throw CLIError(.unavailable, "the Hightouch simulator could not start on port \(configuration.simulatorPort) (\(error)); choose another with --sim-port")
            }
        } catch {
            throw CLIError(.unavailable, "the Hightouch simulator could not listen on port \(configuration.simulatorPort) (\(error)); choose another with --sim-port")
        }
    }

    /// One line for a simulator state file that cannot be used, with what to do in this stack.
    private static func stateFileError(_ error: HightouchSimulatorError) -> CLIError {
        switch error {
        case .stateFile(let path, let problem):
            return .invalidInput(
                "the Hightouch simulator's state file \(path) \(problem); fix it, delete it to start the simulator empty (the operator recreates a resource's vendor objects on its next command), or start the whole stack empty with --fresh"
            )
        case .stateFileNotWritable(let path, let reason):
            return .invalidInput("the Hightouch simulator cannot write its state file \(path) (\(reason)); choose a writable --dir")
        default:
            return .failed("the Hightouch simulator: \(error)")
        }
    }

    private func startReplicas() throws(CLIError) {
        for (index, name) in configuration.replicaNames.enumerated() {
            let port = configuration.metricPorts[index]
            let replica: ReplicaProcess
            do {
                replica = try ReplicaProcess(
                    name: name,
                    executable: configuration.operatorExecutable,
                    arguments: ["operator", "sync", "--electionStateFile", configuration.directory.appendingPathComponent("\(name)-election.json").path],
                    environment: environment(name: name, metricPort: port),
                    metricPort: port,
                    logFile: configuration.directory.appendingPathComponent("\(name).log"),
                    log: log
                ) { [events] status in
                    events.yield(.replicaExited(name: name, status: status))
                }
            } catch {
                throw .failed("cannot start \(configuration.operatorExecutable.path): \(error.localizedDescription)")
            }
            parts.withLock { $0.replicas.append(replica) }
            log.say("  \(DevLog.pad(name))   pid \(replica.processIdentifier), metrics http://127.0.0.1:\(port)/metrics, log \(replica.logFile.path)")
        }
    }

    /// A replica's environment: this process's, without any NATS, vendor or operator setting
    /// that could point it elsewhere, plus the stack's.
    func environment(name: String, metricPort: Int) -> [String: String] {
        let prefixes = ["NATS_", "HIGHTOUCH_", "FIVETRAN_", "DBT_CLOUD_", "CENSUS_", "HTTP_TASK_", "PIPELINE_", "OPERATOR_", "ENTITY_OF_INTEREST_", "ELECTION_"]
        let single: Set<String> = ["METRIC_PORT", "MESSAGE_DURABILITY", "LOG_LEVEL", "LOG_FORMAT"]
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !single.contains(key) && !prefixes.contains { key.hasPrefix($0) }
        }
        let settings: [String: String] = [
            "NATS_URL": configuration.natsURL,
            "HIGHTOUCH_SERVICE_URL": configuration.simulatorURL,
            "HIGHTOUCH_SERVICE_BASE_PATH": "/api/v1",
            "HIGHTOUCH_SERVICE_SECRET": configuration.token,
            "OPERATOR_DRIVERS": configuration.drivers,
            "METRIC_PORT": "\(metricPort)",
            "ELECTION_CLUSTER_SIZE": "\(configuration.metricPorts.count)",
            "OPERATOR_INSTANCE_ID": name,
            // Frequent looks at running syncs, so watch shows their progress.
            "OPERATOR_RECONCILE_WORKERS_INTERVAL": configuration.reconcileInterval,
            "LOG_LEVEL": configuration.logLevel,
            "LOG_FORMAT": "json",
        ]
        environment.merge(settings) { $1 }
        environment.merge(vendors.environment) { $1 }
        if name == configuration.replicaNames.first {
            environment["OPERATOR_WEBHOOK_PORT"] = "\(vendors.webhookPort)"
        }
        return environment
    }

    private func waitUntilReady() async throws(CLIError) {
        let deadline = ContinuousClock.now.advanced(by: configuration.readyTimeout)
        let replicas = parts.withLock { $0.replicas }
        var pending = Set(replicas.map(\.name))
        while !pending.isEmpty {
            try checkNotStopped()
            for replica in replicas where pending.contains(replica.name) {
                guard replica.isRunning else {
                    let tail = replica.tail(lines: 3).map { DevLog.shortLine($0, verbose: true) ?? $0 }.joined(separator: " | ")
                    throw .failed("\(replica.name) exited during start-up; its log (\(replica.logFile.path)) ends: \(tail)")
                }
                if await Self.isReady(port: replica.metricPort) {
                    pending.remove(replica.name)
                    log.event(replica.name, "ready (http://127.0.0.1:\(replica.metricPort)/readyz)")
                }
            }
            guard ContinuousClock.now < deadline else {
                throw .failed("\(pending.sorted().joined(separator: ", ")) not ready within \(Durations.text(configuration.readyTimeout)); see the logs in \(configuration.directory.path)")
            }
            if !pending.isEmpty { try? await Task.sleep(for: .milliseconds(250)) }
        }
    }

    private static func isReady(port: Int) async -> Bool {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { return false }
        return response.status == .ok
    }

    /// The query path end to end: a status query answered by a replica.
    private func countResources() async throws(CLIError) -> Int {
        let settings = try ConnectionSettings(flags: ConnectionSettings.Flags(server: configuration.natsURL), environment: [:])
        let client = try await FactoryClient.connect(settings)
        let count: Result<Int, CLIError>
        do throws(CLIError) {
            count = .success(try await client.resources(workspace: try Names.workspace("public")).count)
        } catch {
            count = .failure(error)
        }
        await client.close()
        return try count.get()
    }

    // MARK: - Stop

    /// Stops in reverse order: replicas (SIGTERM: they finish or hand back their work and drain),
    /// then the simulator (which writes its state file last), then nats-server. The JetStream store
    /// and the simulator's state stay in the dev directory.
    func stop() async {
        let (server, simulator, vendorsStarted, replicas, alreadyStopping) = parts.withLock { parts in
            defer { parts.stopping = true }
            return (parts.server, parts.simulator, parts.vendorsStarted, parts.replicas, parts.stopping)
        }
        guard !alreadyStopping else { return }
        let running = replicas.filter(\.isRunning)
        if !running.isEmpty {
            log.say("stopping \(running.map(\.name).joined(separator: ", ")) (SIGTERM)…")
            await withTaskGroup(of: Void.self) { group in
                for replica in running {
                    group.addTask {
                        let (status, killed) = await replica.stop(grace: .seconds(20))
                        self.log.event(replica.name, killed ? "killed after 20s without stopping" : "exited with status \(status)")
                    }
                }
            }
        }
        if vendorsStarted {
            for label in ["fivetran-simulator", "dbtcloud-simulator", "census-simulator"] { log.mute(label) }
            await vendors.stop()
            log.say("stopped the Fivetran, dbt Cloud and Census simulators and the HTTP task target")
        }
        if let simulator {
            log.mute("simulator")
            await simulator.stop()
            if let failure = simulator.stateFileFailure {
                log.say("stopped the simulator, but its state could not be written: \(failure)")
            } else {
                log.say("stopped the simulator (its state kept in \(configuration.simulatorStateFile.path))")
            }
        }
        if let server {
            await server.stop()
            log.say("stopped nats-server (JetStream state kept in \(configuration.storeDirectory.path))")
        }
    }

    /// SIGKILL to every child process at once (a second Ctrl-C).
    func killChildren() {
        for pid in childProcessIdentifiers.values {
            kill(pid, SIGKILL)
        }
    }

    /// Process ids of the children, for checks that none outlives the stack.
    var childProcessIdentifiers: [String: Int32] {
        parts.withLock { parts in
            var ids: [String: Int32] = [:]
            if let pid = parts.server?.processIdentifier { ids["nats-server"] = pid }
            for replica in parts.replicas { ids[replica.name] = replica.processIdentifier }
            return ids
        }
    }
}
