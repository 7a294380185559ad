import ArgumentParser
import FivetranSimulator
import Foundation
import Logging

// MARK: - SimFivetranCommand

/// `factoryctl sim fivetran`: the Fivetran API simulator as a standalone server.
struct SimFivetranCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fivetran",
        abstract: "Serve a simulated Fivetran REST API v1 until interrupted (SIGINT or SIGTERM).",
        discussion: """
            The API is served under /v1 (connectors and connections) and accepts HTTP Basic auth with \
            --api-key and --api-secret. Each --connector exists at start, established: set up, \
            unpaused, a past successful sync. With --tls-cert and --tls-key it serves HTTPS. Knobs can \
            also be changed while it runs, under /_admin (see docs/fivetran.md). Durations accept \
            500ms, 10s, 1m, 2h.
            """
    )

    @Option(help: "Interface to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port (printed at start).")
    var port = 8081

    @Option(help: "The API key the API accepts (HTTP Basic user).")
    var apiKey = "sim-key"

    @Option(help: "The API secret the API accepts (HTTP Basic password).")
    var apiSecret = "sim-secret"

    @Option(
        name: .customLong("connector"),
        help: "A connector that exists at start, as ID or ID:GROUP:SERVICE (repeatable; default shrank_paparazzi). Ids are lowercase letters, digits and underscores."
    )
    var connectors: [String] = []

    @Option(help: "How long a sync takes from start to end.")
    var runDuration = "5s"

    @Option(help: "Weights of sync outcomes, e.g. success=8,failed=1.")
    var outcomes = "success=1"

    @Option(help: "The task message a failed sync leaves on its connector.")
    var failureMessage: String?

    @Option(help: "Seed of every random decision (sync outcomes, injected faults, jitter).")
    var seed: UInt64 = 1

    @Option(help: "API rate limit per API key as REQUESTS/WINDOW (e.g. 20000/1h, Fivetran's), or 'off'.")
    var rateLimit = "20000/1h"

    @Option(help: "Latency added to every API answer.")
    var latency = "0ms"

    @Option(help: "Share of API requests answered with --error-status (0 to 1).")
    var errorRate = 0.0

    @Option(help: "Status of injected failures (5xx).")
    var errorStatus = 500

    @Option(help: "PEM certificate chain: serve HTTPS (with --tls-key).")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Require this value in the X-Simulator-Admin-Token header of /_admin requests.")
    var adminToken: String?

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
        var logger = Logger(label: "fivetran-simulator", factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        let simulator = FivetranSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let scheme = configuration.tls == nil ? "http" : "https"
        let ids = configuration.connectors.map(\.id).joined(separator: ", ")
        try await simulator.run(handlingShutdownSignals: true) { port in
            let line = "Fivetran simulator listening on \(scheme)://\(host):\(port)/v1 "
                + "(connectors: \(ids); admin at \(scheme)://\(host):\(port)/_admin)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    func makeConfiguration() throws -> FivetranSimulator.Configuration {
        guard (0...65_535).contains(self.port) else {
            throw ValidationError("--port must be between 0 and 65535; got \(self.port).")
        }
        guard !self.apiKey.isEmpty, !self.apiSecret.isEmpty else {
            throw ValidationError("--api-key and --api-secret must not be empty: Fivetran authenticates with both.")
        }
        guard (0...1).contains(self.errorRate) else {
            throw ValidationError("--error-rate must be between 0 and 1; got \(self.errorRate).")
        }
        guard (500...599).contains(self.errorStatus) else {
            throw ValidationError("--error-status must be a 5xx status; got \(self.errorStatus).")
        }
        var tls: FivetranSimulator.TLSFiles?
        switch (self.tlsCert, self.tlsKey) {
        case (nil, nil): tls = nil
        case (let certificate?, let key?):
            for (option, path) in [("--tls-cert", certificate), ("--tls-key", key)] where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(option) \(path) is not a readable file.")
            }
            tls = FivetranSimulator.TLSFiles(certificateChainPath: certificate, privateKeyPath: key)
        default:
            throw ValidationError("--tls-cert and --tls-key go together: a PEM certificate chain and its PEM private key.")
        }
        var knobs = FivetranSimulator.Knobs(seed: self.seed)
        knobs.syncDuration = try SimOptionParsing.duration(self.runDuration, option: "--run-duration")
        knobs.latency = try SimOptionParsing.duration(self.latency, option: "--latency")
        knobs.outcomeWeights = try Self.outcomeWeights(self.outcomes)
        knobs.rateLimit = try Self.rateLimit(self.rateLimit)
        knobs.serverErrorRate = self.errorRate
        knobs.serverErrorStatus = self.errorStatus
        if let failureMessage { knobs.failureMessage = failureMessage }
        let connectors = try self.connectors.map(Self.connector)
        return FivetranSimulator.Configuration(
            host: self.host,
            port: self.port,
            credentials: [.init(apiKey: self.apiKey, apiSecret: self.apiSecret)],
            adminToken: self.adminToken,
            connectors: connectors.isEmpty ? [.shrankPaparazzi] : connectors,
            tls: tls,
            knobs: knobs
        )
    }

    /// `ID` or `ID:GROUP:SERVICE`.
    static func connector(_ text: String) throws -> FivetranSimulator.SeedConnector {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let isID = { (part: String) in !part.isEmpty && part.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 } }
        guard parts.count == 1 || parts.count == 3, isID(parts[0]), parts.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError(
                "--connector must be ID or ID:GROUP:SERVICE with an id of lowercase letters, digits and underscores, e.g. shrank_paparazzi or shrank_paparazzi:projected_sickle:postgres; got '\(text)'."
            )
        }
        if parts.count == 3 {
            return FivetranSimulator.SeedConnector(id: parts[0], groupID: parts[1], service: parts[2])
        }
        return FivetranSimulator.SeedConnector(id: parts[0])
    }

    /// `success=8,failed=1`.
    static func outcomeWeights(_ text: String) throws -> [FivetranSimulator.SyncOutcome: Double] {
        var weights: [FivetranSimulator.SyncOutcome: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let outcome = FivetranSimulator.SyncOutcome(rawValue: String(pair[0])), let weight = Double(pair[1]), weight >= 0 else {
                throw ValidationError("--outcomes must list OUTCOME=WEIGHT pairs (success, failed), e.g. success=8,failed=1; got '\(text)'.")
            }
            weights[outcome] = weight
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw ValidationError("--outcomes needs at least one positive weight; got '\(text)'.")
        }
        return weights
    }

    /// `20000/1h` or `off`.
    static func rateLimit(_ text: String) throws -> FivetranSimulator.RateLimit? {
        if text == "off" || text == "none" { return nil }
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let requests = Int(parts[0]), requests >= 1 else {
            throw ValidationError("--rate-limit must be REQUESTS/WINDOW such as 20000/1h, or 'off'; got '\(text)'.")
        }
        let window = try SimOptionParsing.duration(String(parts[1]), option: "--rate-limit window")
        guard window > .zero else {
            throw ValidationError("--rate-limit window must be positive; got '\(text)'.")
        }
        return FivetranSimulator.RateLimit(requests: requests, window: window)
    }
}
