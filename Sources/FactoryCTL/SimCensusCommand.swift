import ArgumentParser
import CensusSimulator
import Foundation
// SimOptionParsing answers in the Hightouch simulator's types (RateLimit).
import HightouchSimulator
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

    @Option(help: "Interface to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port (printed at start).")
    var port = 8080

    @Option(help: "Path prefix of the API.")
    var basePath = "/api/v1"

    @Option(name: .customLong("token"), help: "An API token the API accepts, with or without its secret-token: prefix (repeat for several).")
    var tokens: [String] = []

    @Option(name: .customLong("sync"), help: "A sync that exists at start, as ID or ID:LABEL (repeatable; default 61 and 62), reading source 4 and writing destination 15.")
    var syncs: [String] = []

    @Option(help: "Require this value in the X-Simulator-Admin-Token header of /_admin requests.")
    var adminToken: String?

    @Option(help: "Seed of every random decision (run outcomes, record counts, injected faults, jitter).")
    var seed: UInt64 = 1

    @Option(help: "How long a run works, from start to end.")
    var runDuration = "5s"

    @Option(help: "How long a run on an idle sync stays queued before it starts.")
    var queueDelay = "0s"

    @Option(help: "How long a run triggered while its sync is busy stays queued before it is due (and skipped if the sync is still busy).")
    var skipAfter = "1s"

    @Option(help: "Latency added to every API answer.")
    var latency = "0ms"

    @Option(help: "Share of API requests answered with --error-status (0 to 1).")
    var errorRate = 0.0

    @Option(help: "Status of injected failures (500, or 502, 503, 504 as from a proxy).")
    var errorStatus = 500

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

    @Option(help: "Serve HTTPS with this certificate chain (PEM); needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The private key (PEM) of --tls-cert.")
    var tlsKey: String?

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
        var logger = Logger(label: "census-simulator", factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        let simulator = CensusSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let basePath = configuration.basePath
        let scheme = configuration.tls == nil ? "http" : "https"
        let summary = "\(configuration.tokens.count) token(s), syncs \(configuration.syncs.map { String($0.id) }.joined(separator: ", "))"
        try await simulator.run(handlingShutdownSignals: true) { port in
            let line = "Census simulator listening on \(scheme)://\(host):\(port)\(basePath) (\(summary); admin at \(scheme)://\(host):\(port)/_admin)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    func makeConfiguration() throws -> CensusSimulator.Configuration {
        guard (0...65_535).contains(self.port) else { throw ValidationError("--port must be between 0 and 65535; got \(self.port).") }
        guard (0...1).contains(self.errorRate) else { throw ValidationError("--error-rate must be between 0 and 1; got \(self.errorRate).") }
        guard (500...599).contains(self.errorStatus) else { throw ValidationError("--error-status must be a 5xx status; got \(self.errorStatus).") }
        guard (0...1).contains(self.failedRecordRate), (0...1).contains(self.invalidRecordRate) else {
            throw ValidationError("--failed-record-rate and --invalid-record-rate must be between 0 and 1.")
        }
        var knobs = CensusSimulator.Knobs(seed: self.seed)
        knobs.runDuration = try SimOptionParsing.duration(self.runDuration, option: "--run-duration")
        knobs.queueDelay = try SimOptionParsing.duration(self.queueDelay, option: "--queue-delay")
        knobs.skipAfter = try SimOptionParsing.duration(self.skipAfter, option: "--skip-after")
        knobs.latency = try SimOptionParsing.duration(self.latency, option: "--latency")
        knobs.serverErrorRate = self.errorRate
        knobs.serverErrorStatus = self.errorStatus
        knobs.outcomeWeights = try Self.outcomeWeights(self.outcomes)
        knobs.failedRecordRate = self.failedRecordRate
        knobs.invalidRecordRate = self.invalidRecordRate
        if let rate = try SimOptionParsing.rateLimit(self.rateLimit) {
            knobs.rateLimit = CensusSimulator.RateLimit(requests: rate.requests, window: rate.window)
        }
        if let failureMessage { knobs.failureMessage = failureMessage }
        var tls: CensusSimulator.TLSFiles?
        switch (self.tlsCert, self.tlsKey) {
        case (let certificate?, let key?):
            for (option, path) in [("--tls-cert", certificate), ("--tls-key", key)] where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(option) \(path) is not a readable file.")
            }
            tls = CensusSimulator.TLSFiles(certificateFile: certificate, keyFile: key)
        case (nil, nil):
            tls = nil
        default:
            throw ValidationError("--tls-cert and --tls-key go together: give both PEM files to serve HTTPS, or neither.")
        }
        return CensusSimulator.Configuration(
            host: self.host,
            port: self.port,
            basePath: self.basePath,
            tokens: self.tokens.isEmpty ? ["secret-token:sim-token"] : self.tokens,
            adminToken: self.adminToken,
            syncs: self.syncs.isEmpty ? CensusSimulator.SeedSync.defaults : try self.syncs.map(Self.seedSync),
            tls: tls,
            knobs: knobs
        )
    }

    /// `completed=8,failed=1`.
    static func outcomeWeights(_ text: String) throws -> [CensusSimulator.RunOutcome: Double] {
        var weights: [CensusSimulator.RunOutcome: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let outcome = CensusSimulator.RunOutcome(rawValue: String(pair[0])), let weight = Double(pair[1]), weight >= 0 else {
                throw ValidationError("--outcomes must list OUTCOME=WEIGHT pairs (completed, failed, skipped), e.g. completed=8,failed=1; got '\(text)'.")
            }
            weights[outcome] = weight
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw ValidationError("--outcomes needs at least one positive weight; got '\(text)'.")
        }
        return weights
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
