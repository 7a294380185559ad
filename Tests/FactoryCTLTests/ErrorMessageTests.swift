import Foundation
import NATSKit
import NATSTestKit
import Testing

@testable import FactoryCTL

@Suite("Errors: one clear line, the right exit status")
struct ErrorMessageTests {
    static func settings(_ flags: ConnectionSettings.Flags = .init(), environment: [String: String] = [:]) throws -> ConnectionSettings {
        try ConnectionSettings(flags: flags, environment: environment)
    }

    @Test("no server: names the URL and how to start one, exit 3")
    func noServer() async throws {
        let port = try FreePort.pick()
        let settings = try Self.settings(.init(server: "nats://127.0.0.1:\(port)", timeout: "2s"))
        let started = ContinuousClock.now
        let error = await #expect(throws: CLIError.self) { _ = try await FactoryClient.connect(settings) }
        // Refused at once, not retried for the operator's 10 s initial-connect window (the bound
        // leaves room for a loaded two-core machine).
        #expect(ContinuousClock.now - started < .seconds(8))
        let message = try #require(error).message
        #expect(message == "cannot connect to NATS at nats://127.0.0.1:\(port): no server is listening there; start the local stack with scripts/dev (or factoryctl dev), or point --server or NATS_URL at your server")
        #expect(error?.exitCode == 3)
    }

    @Test("NATS errors map to the user's terms")
    func natsErrors() throws {
        let settings = try Self.settings(.init(server: "nats://a:4222,nats://b:4222"))
        let timeout = CLIError.nats(NATSError(code: .timeout, operation: "x", message: "timed out"), during: "the operator on q", settings: settings)
        #expect(timeout.message.hasPrefix("the operator on q did not answer within 5s"))
        #expect(timeout.exitCode == 3)
        let auth = CLIError.nats(NATSError(code: .authorization, operation: "x", message: "Authorization Violation"), during: "connecting", settings: settings)
        #expect(auth.message.contains("refused the credentials") && auth.message.contains("nats://a:4222,nats://b:4222"))
        #expect(CLIError.noOperator(querySubject: "hightouch.pipeline.run.query", servers: "nats://a:4222").message.contains("no replica serving it is running"))
        #expect(CLIError.notFound(name: "p", workspace: "public").exitCode == 1)
        #expect(CLIError.connectionDetail("(conn.c:2088): No server available for connection; check that") == "no server is listening there")
        #expect(!CLIError(.failed, "two\nlines").message.contains("\n"))
    }

    @Test("connection settings: flags over NATS_* variables over defaults; bad combinations are refused")
    func settingsPrecedence() throws {
        let defaults = try Self.settings()
        #expect(defaults.servers == ["nats://127.0.0.1:4222"])
        #expect(defaults.commandSubject == "hightouch.pipeline.run")
        #expect(defaults.querySubject == "hightouch.pipeline.run.query")
        #expect(defaults.stateBucket == "hightouch-operator-state")
        let environment = [
            "NATS_URL": "nats-1:4222, nats-2:4222", "NATS_TOKEN": "t", "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT": "other.run",
            "OPERATOR_STATE_BUCKET": "other-state",
        ]
        let fromEnvironment = try Self.settings(environment: environment)
        #expect(fromEnvironment.servers == ["nats://nats-1:4222", "nats://nats-2:4222"])
        #expect(fromEnvironment.commandSubject == "other.run")
        #expect(fromEnvironment.stateBucket == "other-state")
        #expect("\(fromEnvironment.authentication)" == "token ***")
        let flagged = try Self.settings(.init(server: "nats://x:1", commandSubject: "flag.run"), environment: environment)
        #expect(flagged.servers == ["nats://x:1"])
        #expect(flagged.commandSubject == "flag.run")

        #expect(throws: CLIError.invalidInput("--user u needs --password (or NATS_PASSWORD)")) { try Self.settings(.init(user: "u")) }
        #expect(throws: CLIError.self) { try Self.settings(.init(user: "u", password: "p"), environment: ["NATS_TOKEN": "t"]) }
        #expect(throws: CLIError.invalidInput("--timeout must be a positive duration such as 500ms, 5s or 1m; got 'soon'")) {
            try Self.settings(.init(timeout: "soon"))
        }
        #expect(throws: CLIError.self) { try Self.settings(.init(tlsca: "/nonexistent/ca.pem")) }
        #expect(try Self.settings(.init(server: "tls://secure:4222")).tls != nil)
    }
}
