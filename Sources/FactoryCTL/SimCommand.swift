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

    @OptionGroup var server: SimServerOptions

    @Option(help: "Port to listen on; 0 picks a free port (printed at start).")
    var port = 8080

    @Option(help: "Path prefix of the API.")
    var basePath = "/api/v1"

    @Option(name: .customLong("token"), help: "A bearer token the API accepts (repeat for several).")
    var tokens: [String] = []

    @Option(help: "How long a run on an idle sync stays queued before it starts.")
    var queueDelay = "0s"

    @Option(help: "Random extra latency of up to this much per answer.")
    var latencyJitter = "0ms"

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

    func validate() throws {
        _ = try self.makeConfiguration()
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let logger = self.server.logger(label: "hightouch-simulator")
        let simulator = HightouchSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let basePath = configuration.basePath
        let tokens = configuration.tokens.count
        let state = configuration.stateFile.map { "; state in \($0)" } ?? ""
        do {
            try await SimServerOptions.serve(
                name: "Hightouch", scheme: "http", host: host, apiPath: basePath, summary: "\(tokens) token(s)", adminSuffix: state
            ) { try await simulator.run(handlingShutdownSignals: true, onListening: $0) }
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
        try SimServerOptions.check(port: self.port)
        try self.server.validate()
        var knobs = HightouchSimulator.Knobs(seed: self.server.seed)
        knobs.runDuration = try self.server.runDurationValue()
        knobs.queueDelay = try SimOptionParsing.duration(self.queueDelay, option: "--queue-delay")
        knobs.latency = try self.server.latencyValue()
        knobs.latencyJitter = try SimOptionParsing.duration(self.latencyJitter, option: "--latency-jitter")
        knobs.serverErrorRate = self.server.errorRate
        knobs.serverErrorStatus = self.server.errorStatus
        knobs.outcomeWeights = try SimOptionParsing.outcomeWeights(self.outcomes)
        knobs.rateLimit = try SimOptionParsing.rateLimit(self.rateLimit)
        if let failureMessage { knobs.failureMessage = failureMessage }
        return HightouchSimulator.Configuration(
            host: self.server.host,
            port: self.port,
            basePath: self.basePath,
            tokens: self.tokens.isEmpty ? ["sim-token"] : self.tokens,
            adminToken: self.server.adminToken,
            sources: HightouchSimulator.SeedObject.defaultSources
                + (try self.sources.map { try SimOptionParsing.seedObject($0, option: "--source", defaultType: "postgres") }),
            destinations: HightouchSimulator.SeedObject.defaultDestinations
                + (try self.destinations.map { try SimOptionParsing.seedObject($0, option: "--destination", defaultType: "webhook") }),
            knobs: knobs,
            stateFile: self.stateFile
        )
    }
}
