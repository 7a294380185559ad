import ArgumentParser
import Foundation
import HightouchSimulator
import Logging

// MARK: - SimCommand

/// `factoryctl sim`: run a vendor API simulator for local development, docker-compose and benchmarks.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run a vendor API simulator.",
        subcommands: [SimHightouchCommand.self, SimFivetranCommand.self, SimDBTCloudCommand.self, SimCensusCommand.self]
    )
}

// MARK: - SimHightouchCommand

/// `factoryctl sim hightouch`: the Hightouch API simulator as a standalone server.
struct SimHightouchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hightouch",
        abstract: "Serve a simulated Hightouch API v1 until interrupted (SIGINT or SIGTERM).",
        discussion: """
            The API is served under --base-path (default /api/v1) and accepts the bearer tokens given \
            with --token (default: sim-token). Knobs can also be changed while it runs, under /_admin \
            (see docs/hightouch.md). Durations accept 500ms, 10s, 1m, 2h.

            With --state-file, models, syncs, runs, id counters, the trigger log and counters are kept \
            in that file: loaded at start if it exists (a file that cannot be used stops the start with \
            a line naming it), written within 200ms of a change and on stop. Knobs and tokens always \
            come from the options.
            """
    )

    @Option(help: "Interface to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port (printed at start).")
    var port = 8080

    @Option(help: "Path prefix of the API.")
    var basePath = "/api/v1"

    @Option(name: .customLong("token"), help: "A bearer token the API accepts (repeat for several).")
    var tokens: [String] = []

    @Option(help: "Require this value in the X-Simulator-Admin-Token header of /_admin requests.")
    var adminToken: String?

    @Option(help: "Seed of every random decision (run outcomes, row counts, injected faults, jitter).")
    var seed: UInt64 = 1

    @Option(help: "How long a run takes from start to end.")
    var runDuration = "5s"

    @Option(help: "How long a run on an idle sync stays queued before it starts.")
    var queueDelay = "0s"

    @Option(help: "Latency added to every API answer.")
    var latency = "0ms"

    @Option(help: "Random extra latency of up to this much per answer.")
    var latencyJitter = "0ms"

    @Option(help: "Share of API requests answered with --error-status (0 to 1).")
    var errorRate = 0.0

    @Option(help: "Status of injected failures (5xx).")
    var errorStatus = 500

    @Option(help: "Weights of run outcomes, e.g. success=8,warning=1,failed=1 (also cancelled, interrupted).")
    var outcomes = "success=1"

    @Option(help: "The error of failed runs.")
    var failureMessage: String?

    @Option(help: "API rate limit per token as REQUESTS/WINDOW (e.g. 200/10s), or 'off'.")
    var rateLimit = "200/10s"

    @Option(name: .customLong("source"), help: "An extra source that exists at start, as ID or ID:SLUG:TYPE (repeatable; 23474 always exists).")
    var sources: [String] = []

    @Option(name: .customLong("destination"), help: "An extra destination that exists at start, as ID or ID:SLUG:TYPE (repeatable; 80565 always exists).")
    var destinations: [String] = []

    @Option(help: ArgumentHelp("Keep the simulator's objects, runs and counters in this JSON file across restarts.", valueName: "path"))
    var stateFile: String?

    @Option(help: "Log level of the server (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "info"

    func validate() throws {
        _ = try self.makeConfiguration()
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(self.logLevel)'.")
        }
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        var logger = Logger(label: "hightouch-simulator", factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        let simulator = HightouchSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let basePath = configuration.basePath
        let tokens = configuration.tokens.count
        let state = configuration.stateFile.map { "; state in \($0)" } ?? ""
        do {
            try await simulator.run(handlingShutdownSignals: true) { port in
                let line = "Hightouch simulator listening on http://\(host):\(port)\(basePath) "
                    + "(\(tokens) token(s); admin at http://\(host):\(port)/_admin\(state))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        } catch let error as HightouchSimulatorError {
            // A state file that cannot be used is the user's input: one line, exit 2.
            switch error {
            case .stateFile, .stateFileNotWritable:
                Console.error(CLIError.invalidInput(error.description).message)
                throw ExitCode(CLIError.Kind.invalidInput.exitCode)
            default:
                throw error
            }
        }
    }

    func makeConfiguration() throws -> HightouchSimulator.Configuration {
        guard (0...65_535).contains(self.port) else {
            throw ValidationError("--port must be between 0 and 65535; got \(self.port).")
        }
        guard (0...1).contains(self.errorRate) else {
            throw ValidationError("--error-rate must be between 0 and 1; got \(self.errorRate).")
        }
        guard (500...599).contains(self.errorStatus) else {
            throw ValidationError("--error-status must be a 5xx status; got \(self.errorStatus).")
        }
        var knobs = HightouchSimulator.Knobs(seed: self.seed)
        knobs.runDuration = try SimOptionParsing.duration(self.runDuration, option: "--run-duration")
        knobs.queueDelay = try SimOptionParsing.duration(self.queueDelay, option: "--queue-delay")
        knobs.latency = try SimOptionParsing.duration(self.latency, option: "--latency")
        knobs.latencyJitter = try SimOptionParsing.duration(self.latencyJitter, option: "--latency-jitter")
        knobs.serverErrorRate = self.errorRate
        knobs.serverErrorStatus = self.errorStatus
        knobs.outcomeWeights = try SimOptionParsing.outcomeWeights(self.outcomes)
        knobs.rateLimit = try SimOptionParsing.rateLimit(self.rateLimit)
        if let failureMessage { knobs.failureMessage = failureMessage }
        return HightouchSimulator.Configuration(
            host: self.host,
            port: self.port,
            basePath: self.basePath,
            tokens: self.tokens.isEmpty ? ["sim-token"] : self.tokens,
            adminToken: self.adminToken,
            sources: HightouchSimulator.SeedObject.defaultSources
                + (try self.sources.map { try SimOptionParsing.seedObject($0, option: "--source", defaultType: "postgres") }),
            destinations: HightouchSimulator.SeedObject.defaultDestinations
                + (try self.destinations.map { try SimOptionParsing.seedObject($0, option: "--destination", defaultType: "webhook") }),
            knobs: knobs,
            stateFile: self.stateFile
        )
    }
}
