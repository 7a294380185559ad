import ArgumentParser
import DBTCloudSimulator
import Foundation
import Logging

// MARK: - SimDBTCloudCommand

/// `factoryctl sim dbtcloud`: the dbt Cloud Administrative API v2 simulator as a standalone server.
struct SimDBTCloudCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbtcloud",
        abstract: "Serve a simulated dbt Cloud Administrative API v2 until interrupted (SIGINT or SIGTERM).",
        discussion: """
            The API is served under /api/v2/accounts/<--account>/ and accepts the tokens given with \
            --token (default: sim-token) as 'Authorization: Token T' or 'Bearer T'. With --tls-cert and \
            --tls-key it serves HTTPS. Knobs can also be changed while it runs, under /_admin (see \
            docs/dbtcloud.md). Durations accept 500ms, 10s, 1m, 2h.
            """
    )

    @OptionGroup var server: SimServerOptions

    @OptionGroup var tls: SimTLSOptions

    @OptionGroup var webhook: SimWebhookOptions

    @Option(help: "Port to listen on; 0 picks a free port (printed at start).")
    var port = 8080

    @Option(name: .customLong("token"), help: "An API token the API accepts (repeat for several).")
    var tokens: [String] = []

    @Option(help: "The account id the tokens are scoped to.")
    var account = 1

    @Option(
        name: .customLong("job"),
        help: "A job that exists, as ID or ID:NAME (repeatable; default: 43167 'Daily run' and 43168 'Hourly build')."
    )
    var jobs: [String] = []

    @Option(help: "Extra time a run stays queued.")
    var queueDelay = "0s"

    @Option(help: "Weights of run outcomes, e.g. success=8,error=1,cancelled=0.")
    var outcomes = "success=1"

    @Option(help: "The status_message of runs ending in error.")
    var failureMessage: String?

    @Option(help: "API rate limit of the account as REQUESTS/WINDOW (e.g. 5000/1m), or 'off'.")
    var rateLimit = "5000/1m"

    func validate() throws {
        _ = try self.makeConfiguration()
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let logger = self.server.logger(label: "dbtcloud-simulator")
        let simulator = DBTCloudSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let scheme = configuration.tls == nil ? "http" : "https"
        let account = configuration.accountID
        let jobs = configuration.jobs.map { String($0.id) }.joined(separator: ", ")
        try await SimServerOptions.serve(
            name: "dbt Cloud", scheme: scheme, host: host, apiPath: "/api/v2/accounts/\(account)/", summary: "jobs \(jobs)"
        ) { try await simulator.run(handlingShutdownSignals: true, onListening: $0) }
    }

    func makeConfiguration() throws -> DBTCloudSimulator.Configuration {
        try SimServerOptions.check(port: self.port)
        try self.server.validate()
        guard self.account > 0 else {
            throw ValidationError("--account must be a positive account id; got \(self.account).")
        }
        var knobs = DBTCloudSimulator.Knobs(seed: self.server.seed)
        knobs.runDuration = try self.server.runDurationValue()
        knobs.queueDelay = try SimOptionParsing.duration(self.queueDelay, option: "--queue-delay")
        knobs.latency = try self.server.latencyValue()
        knobs.serverErrorRate = self.server.errorRate
        knobs.serverErrorStatus = self.server.errorStatus
        knobs.outcomeWeights = try Self.outcomeWeights(self.outcomes)
        knobs.rateLimit = try Self.rateLimit(self.rateLimit)
        if let failureMessage { knobs.failureMessage = failureMessage }

        let tls = try self.tls.files().map { DBTCloudSimulator.TLSFiles(certificateChain: $0.certificate, privateKey: $0.key) }
        return DBTCloudSimulator.Configuration(
            host: self.server.host,
            port: self.port,
            accountID: self.account,
            tokens: self.tokens.isEmpty ? ["sim-token"] : self.tokens,
            adminToken: self.server.adminToken,
            jobs: self.jobs.isEmpty ? DBTCloudSimulator.Job.defaultJobs : try self.jobs.map(Self.job),
            tls: tls,
            knobs: knobs,
            webhook: try self.webhook.target()
        )
    }

    /// `ID` or `ID:NAME`.
    static func job(_ text: String) throws -> DBTCloudSimulator.Job {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let id = Int(parts[0]), id > 0, parts.count == 1 || !parts[1].isEmpty else {
            throw ValidationError("--job must be ID or ID:NAME with a positive numeric ID, e.g. 43167 or '43167:Daily run'; got '\(text)'.")
        }
        return DBTCloudSimulator.Job(id: id, name: parts.count == 2 ? parts[1] : "Job \(id)")
    }

    /// `success=8,error=1,cancelled=0`.
    static func outcomeWeights(_ text: String) throws -> [DBTCloudSimulator.RunOutcome: Double] {
        try SimOptionParsing.outcomeWeights(text, as: DBTCloudSimulator.RunOutcome.self, names: "success, error, cancelled", example: "success=8,error=1")
    }

    /// `5000/1m` or `off`.
    static func rateLimit(_ text: String) throws -> DBTCloudSimulator.RateLimit? {
        try SimOptionParsing.rateWindow(text, example: "5000/1m").map { DBTCloudSimulator.RateLimit(requests: $0.requests, window: $0.window) }
    }
}
