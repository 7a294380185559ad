import ArgumentParser
import Foundation
import Logging
import SimulatorKit

// MARK: - SimServerOptions

/// The options every `factoryctl sim <vendor>` has, with their checks. What differs per vendor
/// (the port, the credentials, the objects, outcomes and rate limit) stays in each command.
struct SimServerOptions: ParsableArguments {
    @Option(help: "Interface to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Require this value in the X-Simulator-Admin-Token header of /_admin requests.")
    var adminToken: String?

    @Option(help: "Seed of every random decision (run outcomes, injected faults, jitter).")
    var seed: UInt64 = 1

    @Option(help: "How long a run (a Fivetran sync) takes from start to end.")
    var runDuration = "5s"

    @Option(help: "Latency added to every API answer.")
    var latency = "0ms"

    @Option(help: "Share of API requests answered with --error-status (0 to 1).")
    var errorRate = 0.0

    @Option(help: "Status of injected failures (5xx).")
    var errorStatus = 500

    @Option(help: "Log level of the server (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "info"

    func validate() throws {
        guard (0...1).contains(self.errorRate) else {
            throw ValidationError("--error-rate must be between 0 and 1; got \(self.errorRate).")
        }
        guard (500...599).contains(self.errorStatus) else {
            throw ValidationError("--error-status must be a 5xx status; got \(self.errorStatus).")
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(self.logLevel)'.")
        }
    }

    /// `--run-duration` as a duration.
    func runDurationValue() throws -> Duration { try SimOptionParsing.duration(self.runDuration, option: "--run-duration") }

    /// `--latency` as a duration.
    func latencyValue() throws -> Duration { try SimOptionParsing.duration(self.latency, option: "--latency") }

    /// The server's logger: standard error, at `--log-level`.
    func logger(label: String) -> Logger {
        var logger = Logger(label: label, factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        return logger
    }

    /// Checks `--port` (0 picks a free one).
    static func check(port: Int) throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port must be between 0 and 65535; got \(port).")
        }
    }

    /// Serves with `run` (a simulator's `run(handlingShutdownSignals: true, onListening:)`) until
    /// SIGINT or SIGTERM, and once it listens prints the line scripts and tests wait for:
    /// `<name> simulator listening on <origin><apiPath> (<summary>; admin at <origin>/_admin<adminSuffix>)`.
    static func serve(
        name: String,
        scheme: String,
        host: String,
        apiPath: String,
        summary: String,
        adminSuffix: String = "",
        _ run: (_ onListening: @escaping @Sendable (Int) async -> Void) async throws -> Void
    ) async throws {
        try await run { port in
            let origin = "\(scheme)://\(host):\(port)"
            let line = "\(name) simulator listening on \(origin)\(apiPath) (\(summary); admin at \(origin)/_admin\(adminSuffix))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

// MARK: - SimTLSOptions

/// `--tls-cert` and `--tls-key`: the simulators that serve HTTPS.
struct SimTLSOptions: ParsableArguments {
    @Option(help: "Serve HTTPS with this PEM certificate chain (with --tls-key).")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    /// The certificate chain and key files, both readable, or `nil` for HTTP.
    func files() throws -> (certificate: String, key: String)? {
        switch (self.tlsCert, self.tlsKey) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            for (option, path) in [("--tls-cert", certificate), ("--tls-key", key)] where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(option) \(path) is not a readable file.")
            }
            return (certificate, key)
        default:
            throw ValidationError("--tls-cert and --tls-key go together: give both PEM files to serve HTTPS, or neither.")
        }
    }
}

/// `--webhook-url` and `--webhook-secret`: where a simulator sends its completion webhooks
/// (Fivetran's `sync_end`, dbt Cloud's `job.run.completed`), signed with the secret as the vendor
/// signs them.
struct SimWebhookOptions: ParsableArguments {
    @Option(help: "Send a signed completion webhook here when a run ends (e.g. http://127.0.0.1:8090/webhooks/fivetran; with --webhook-secret).")
    var webhookURL: String?

    @Option(help: "The secret webhooks are signed with (HMAC-SHA256; with --webhook-url).")
    var webhookSecret: String?

    /// The target, or `nil` for no webhooks.
    func target() throws -> SimWebhookSender.Target? {
        switch (self.webhookURL, self.webhookSecret) {
        case (nil, nil):
            return nil
        case (let url?, let secret?):
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw ValidationError("--webhook-url must be an http:// or https:// URL; got \(url).")
            }
            guard !secret.isEmpty else { throw ValidationError("--webhook-secret must not be empty.") }
            return SimWebhookSender.Target(url: url, secret: secret)
        default:
            throw ValidationError("--webhook-url and --webhook-secret go together: give both to send signed webhooks, or neither.")
        }
    }
}
