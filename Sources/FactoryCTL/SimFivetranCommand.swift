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

    @OptionGroup var server: SimServerOptions

    @OptionGroup var tls: SimTLSOptions

    @OptionGroup var webhook: SimWebhookOptions

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

    @Option(help: "Weights of sync outcomes, e.g. success=8,failed=1.")
    var outcomes = "success=1"

    @Option(help: "The task message a failed sync leaves on its connector.")
    var failureMessage: String?

    @Option(help: "API rate limit per API key as REQUESTS/WINDOW (e.g. 20000/1h, Fivetran's), or 'off'.")
    var rateLimit = "20000/1h"

    func validate() throws {
        _ = try self.makeConfiguration()
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let logger = self.server.logger(label: "fivetran-simulator")
        let simulator = FivetranSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let scheme = configuration.tls == nil ? "http" : "https"
        let ids = configuration.connectors.map(\.id).joined(separator: ", ")
        try await SimServerOptions.serve(name: "Fivetran", scheme: scheme, host: host, apiPath: "/v1", summary: "connectors: \(ids)") {
            try await simulator.run(handlingShutdownSignals: true, onListening: $0)
        }
    }

    func makeConfiguration() throws -> FivetranSimulator.Configuration {
        try SimServerOptions.check(port: self.port)
        try self.server.validate()
        guard !self.apiKey.isEmpty, !self.apiSecret.isEmpty else {
            throw ValidationError("--api-key and --api-secret must not be empty: Fivetran authenticates with both.")
        }
        let tls = try self.tls.files().map { FivetranSimulator.TLSFiles(certificateChainPath: $0.certificate, privateKeyPath: $0.key) }
        var knobs = FivetranSimulator.Knobs(seed: self.server.seed)
        knobs.syncDuration = try self.server.runDurationValue()
        knobs.latency = try self.server.latencyValue()
        knobs.outcomeWeights = try Self.outcomeWeights(self.outcomes)
        knobs.rateLimit = try Self.rateLimit(self.rateLimit)
        knobs.serverErrorRate = self.server.errorRate
        knobs.serverErrorStatus = self.server.errorStatus
        if let failureMessage { knobs.failureMessage = failureMessage }
        let connectors = try self.connectors.map(Self.connector)
        return FivetranSimulator.Configuration(
            host: self.server.host,
            port: self.port,
            credentials: [.init(apiKey: self.apiKey, apiSecret: self.apiSecret)],
            adminToken: self.server.adminToken,
            connectors: connectors.isEmpty ? [.shrankPaparazzi] : connectors,
            tls: tls,
            knobs: knobs,
            webhook: try self.webhook.target()
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
        try SimOptionParsing.outcomeWeights(text, as: FivetranSimulator.SyncOutcome.self, names: "success, failed", example: "success=8,failed=1")
    }

    /// `20000/1h` or `off`.
    static func rateLimit(_ text: String) throws -> FivetranSimulator.RateLimit? {
        try SimOptionParsing.rateWindow(text, example: "20000/1h").map { FivetranSimulator.RateLimit(requests: $0.requests, window: $0.window) }
    }
}
