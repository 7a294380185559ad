import ArgumentParser
import CensusSimulator
import Foundation
import Logging

// MARK: - SimCensusCommand

/// `factoryctl sim census`: the Census API simulator as a standalone server.
struct SimCensusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "census",
        abstract: "Serve a simulated Census API v1 until interrupted (SIGINT or SIGTERM).",
        discussion: """
            The API is served under --base-path (default /api/v1) and accepts the tokens given with \
            --token (default: secret-token:sim-token), sent as Authorization: Bearer secret-token:<token> \
            or as Basic bearer:secret-token:<token>. Syncs given with --sync exist (default: 61 and 62). \
            With --tls-cert and --tls-key it serves HTTPS. Knobs can also be changed while it runs, \
            under /_admin (see docs/census.md). Durations accept 500ms, 10s, 1m, 2h.
            """
    )

    @OptionGroup var server: SimServerOptions

    @OptionGroup var tls: SimTLSOptions

    @Option(help: "Port to listen on; 0 picks a free port (printed at start).")
    var port = 8080

    @Option(help: "Path prefix of the API.")
    var basePath = "/api/v1"

    @Option(name: .customLong("token"), help: "An API token the API accepts, with or without its secret-token: prefix (repeat for several).")
    var tokens: [String] = []

    @Option(name: .customLong("sync"), help: "A sync that exists at start, as ID or ID:LABEL (repeatable; default 61 and 62), reading source 4 and writing destination 15.")
    var syncs: [String] = []

    @Option(help: "How long a run on an idle sync stays queued before it starts.")
    var queueDelay = "0s"

    @Option(help: "How long a run triggered while its sync is busy stays queued before it is due (and skipped if the sync is still busy).")
    var skipAfter = "1s"

    @Option(help: "Weights of run outcomes, e.g. completed=8,failed=1 (also skipped).")
    var outcomes = "completed=1"

    @Option(help: "The error_message of failed runs.")
    var failureMessage: String?

    @Option(help: "Share of a run's records the destination rejects (records_failed), 0 to 1.")
    var failedRecordRate = 0.0

    @Option(help: "Share of a run's records Census skips as invalid (records_invalid), 0 to 1.")
    var invalidRecordRate = 0.0

    @Option(help: "API rate limit per token as REQUESTS/WINDOW (e.g. 100/10s), or 'off' (the default: Census documents none).")
    var rateLimit = "off"

    func validate() throws {
        _ = try self.makeConfiguration()
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let logger = self.server.logger(label: "census-simulator")
        let simulator = CensusSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let basePath = configuration.basePath
        let scheme = configuration.tls == nil ? "http" : "https"
        let summary = "\(configuration.tokens.count) token(s), syncs \(configuration.syncs.map { String($0.id) }.joined(separator: ", "))"
        try await SimServerOptions.serve(name: "Census", scheme: scheme, host: host, apiPath: basePath, summary: summary) {
            try await simulator.run(handlingShutdownSignals: true, onListening: $0)
        }
    }

    func makeConfiguration() throws -> CensusSimulator.Configuration {
        try SimServerOptions.check(port: self.port)
        try self.server.validate()
        guard (0...1).contains(self.failedRecordRate), (0...1).contains(self.invalidRecordRate) else {
            throw ValidationError("--failed-record-rate and --invalid-record-rate must be between 0 and 1.")
        }
        var knobs = CensusSimulator.Knobs(seed: self.server.seed)
        knobs.runDuration = try self.server.runDurationValue()
        knobs.queueDelay = try SimOptionParsing.duration(self.queueDelay, option: "--queue-delay")
        knobs.skipAfter = try SimOptionParsing.duration(self.skipAfter, option: "--skip-after")
        knobs.latency = try self.server.latencyValue()
        knobs.serverErrorRate = self.server.errorRate
        knobs.serverErrorStatus = self.server.errorStatus
        knobs.outcomeWeights = try Self.outcomeWeights(self.outcomes)
        knobs.failedRecordRate = self.failedRecordRate
        knobs.invalidRecordRate = self.invalidRecordRate
        if let rate = try SimOptionParsing.rateWindow(self.rateLimit, example: "100/10s") {
            knobs.rateLimit = CensusSimulator.RateLimit(requests: rate.requests, window: rate.window)
        }
        if let failureMessage { knobs.failureMessage = failureMessage }
        let tls = try self.tls.files().map { CensusSimulator.TLSFiles(certificateFile: $0.certificate, keyFile: $0.key) }
        return CensusSimulator.Configuration(
            host: self.server.host,
            port: self.port,
            basePath: self.basePath,
            tokens: self.tokens.isEmpty ? ["secret-token:sim-token"] : self.tokens,
            adminToken: self.server.adminToken,
            syncs: self.syncs.isEmpty ? CensusSimulator.SeedSync.defaults : try self.syncs.map(Self.seedSync),
            tls: tls,
            knobs: knobs
        )
    }

    /// `completed=8,failed=1`.
    static func outcomeWeights(_ text: String) throws -> [CensusSimulator.RunOutcome: Double] {
        try SimOptionParsing.outcomeWeights(text, as: CensusSimulator.RunOutcome.self, names: "completed, failed, skipped", example: "completed=8,failed=1")
    }

    /// `ID` or `ID:LABEL`.
    static func seedSync(_ text: String) throws -> CensusSimulator.SeedSync {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let id = Int(parts[0]), id > 0 else {
            throw ValidationError("--sync must be ID or ID:LABEL with a positive numeric ID, e.g. 61 or 61:users-to-braze; got '\(text)'.")
        }
        return CensusSimulator.SeedSync(id: id, label: parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil)
    }
}
