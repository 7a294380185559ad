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

    @Option(help: "Interface to listen on.")
    var host = "127.0.0.1"

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

    @Option(help: "Require this value in the X-Simulator-Admin-Token header of /_admin requests.")
    var adminToken: String?

    @Option(help: "Seed of every random decision (run outcomes, failing steps, injected faults).")
    var seed: UInt64 = 1

    @Option(help: "How long a run takes on an idle job (queued, starting, then its steps).")
    var runDuration = "5s"

    @Option(help: "Extra time a run stays queued.")
    var queueDelay = "0s"

    @Option(help: "Latency added to every API answer.")
    var latency = "0ms"

    @Option(help: "Share of API requests answered with --error-status (0 to 1).")
    var errorRate = 0.0

    @Option(help: "Status of injected failures (5xx).")
    var errorStatus = 500

    @Option(help: "Weights of run outcomes, e.g. success=8,error=1,cancelled=0.")
    var outcomes = "success=1"

    @Option(help: "The status_message of runs ending in error.")
    var failureMessage: String?

    @Option(help: "API rate limit of the account as REQUESTS/WINDOW (e.g. 5000/1m), or 'off'.")
    var rateLimit = "5000/1m"

    @Option(help: "Serve HTTPS with this PEM certificate chain (with --tls-key).")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
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
        var logger = Logger(label: "dbtcloud-simulator", factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        let simulator = DBTCloudSimulator(configuration: configuration, logger: logger)
        let host = configuration.host
        let scheme = configuration.tls == nil ? "http" : "https"
        let account = configuration.accountID
        let jobs = configuration.jobs.map { String($0.id) }.joined(separator: ", ")
        try await simulator.run(handlingShutdownSignals: true) { port in
            let line = "dbt Cloud simulator listening on \(scheme)://\(host):\(port)/api/v2/accounts/\(account)/ "
                + "(jobs \(jobs); admin at \(scheme)://\(host):\(port)/_admin)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    func makeConfiguration() throws -> DBTCloudSimulator.Configuration {
        guard (0...65_535).contains(self.port) else {
            throw ValidationError("--port must be between 0 and 65535; got \(self.port).")
        }
        guard self.account > 0 else {
            throw ValidationError("--account must be a positive account id; got \(self.account).")
        }
        guard (0...1).contains(self.errorRate) else {
            throw ValidationError("--error-rate must be between 0 and 1; got \(self.errorRate).")
        }
        guard (500...599).contains(self.errorStatus) else {
            throw ValidationError("--error-status must be a 5xx status; got \(self.errorStatus).")
        }
        var knobs = DBTCloudSimulator.Knobs(seed: self.seed)
        knobs.runDuration = try SimOptionParsing.duration(self.runDuration, option: "--run-duration")
        knobs.queueDelay = try SimOptionParsing.duration(self.queueDelay, option: "--queue-delay")
        knobs.latency = try SimOptionParsing.duration(self.latency, option: "--latency")
        knobs.serverErrorRate = self.errorRate
        knobs.serverErrorStatus = self.errorStatus
        knobs.outcomeWeights = try Self.outcomeWeights(self.outcomes)
        knobs.rateLimit = try Self.rateLimit(self.rateLimit)
        if let failureMessage { knobs.failureMessage = failureMessage }

        var tls: DBTCloudSimulator.TLSFiles?
        switch (self.tlsCert, self.tlsKey) {
        case (let cert?, let key?):
            for (option, path) in [("--tls-cert", cert), ("--tls-key", key)] where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(option) \(path) is not a readable file.")
            }
            tls = DBTCloudSimulator.TLSFiles(certificateChain: cert, privateKey: key)
        case (nil, nil):
            tls = nil
        default:
            throw ValidationError("--tls-cert and --tls-key go together: give both PEM files to serve HTTPS, or neither.")
        }
        return DBTCloudSimulator.Configuration(
            host: self.host,
            port: self.port,
            accountID: self.account,
            tokens: self.tokens.isEmpty ? ["sim-token"] : self.tokens,
            adminToken: self.adminToken,
            jobs: self.jobs.isEmpty ? DBTCloudSimulator.Job.defaultJobs : try self.jobs.map(Self.job),
            tls: tls,
            knobs: knobs
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
        var weights: [DBTCloudSimulator.RunOutcome: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let outcome = DBTCloudSimulator.RunOutcome(rawValue: String(pair[0])), let weight = Double(pair[1]), weight >= 0 else {
                throw ValidationError("--outcomes must list OUTCOME=WEIGHT pairs (success, error, cancelled), e.g. success=8,error=1; got '\(text)'.")
            }
            weights[outcome] = weight
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw ValidationError("--outcomes needs at least one positive weight; got '\(text)'.")
        }
        return weights
    }

    /// `5000/1m` or `off`.
    static func rateLimit(_ text: String) throws -> DBTCloudSimulator.RateLimit? {
        if text == "off" || text == "none" { return nil }
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let requests = Int(parts[0]), requests >= 1 else {
            throw ValidationError("--rate-limit must be REQUESTS/WINDOW such as 5000/1m, or 'off'; got '\(text)'.")
        }
        let window = try SimOptionParsing.duration(String(parts[1]), option: "--rate-limit window")
        guard window > .zero else {
            throw ValidationError("--rate-limit window must be positive; got '\(text)'.")
        }
        return DBTCloudSimulator.RateLimit(requests: requests, window: window)
    }
}
