import Foundation
import NATSKit
import NATSTestKit
import Testing

@Suite("Authentication", .timeLimit(.minutes(2)))
struct AuthenticationTests {
    @Test("user and password: the right ones connect, wrong ones fail with an authorization error")
    func userPassword() async throws {
        let configuration = NATSServerProcess.Configuration(extraConfiguration: "authorization {\n  user: operator\n  password: \"s3cret-pw\"\n}")
        try await withNATSServer(configuration) { server in
            let connection = try await NATSConnection.connect(
                NATSConfiguration(servers: [server.url], authentication: .userPassword(user: "operator", password: "s3cret-pw"))
            )
            #expect(connection.isConnected)
            await connection.close()
            let wrong = await expectNATSError {
                _ = try await NATSConnection.connect(
                    NATSConfiguration(servers: [server.url], authentication: .userPassword(user: "operator", password: "nope"), retryOnFailedConnect: false)
                )
            }
            #expect(wrong?.code == .authorization)
            #expect(wrong?.description.contains("user/password") == true)
            #expect(wrong?.description.contains("nope") == false, "the password is not in the error")
        }
    }

    @Test("token: the right one connects, a wrong one fails; descriptions never show it")
    func token() async throws {
        let configuration = NATSServerProcess.Configuration(extraConfiguration: "authorization {\n  token: \"t0ken-value\"\n}")
        try await withNATSServer(configuration) { server in
            let settings = NATSConfiguration(servers: [server.url], authentication: .token("t0ken-value"))
            #expect(!settings.description.contains("t0ken-value"))
            let connection = try await NATSConnection.connect(settings)
            #expect(connection.isConnected)
            await connection.close()
            let wrong = await expectNATSError {
                _ = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], authentication: .token("other"), retryOnFailedConnect: false))
            }
            #expect(wrong?.code == .authorization)
        }
    }

    @Test("URLs with credentials are redacted in descriptions")
    func redaction() {
        #expect(NATSConfiguration.redactingURL("nats://user:secret@host:4222") == "nats://user:***@host:4222")
        #expect(NATSConfiguration.redactingURL("nats://tokenvalue@host:4222") == "nats://***@host:4222")
        #expect(NATSConfiguration.redactingURL("nats://host:4222") == "nats://host:4222")
        #expect(NATSConfiguration.servers(fromList: " a:4222, nats://b:4223 ,,tls://c") == ["nats://a:4222", "nats://b:4223", "tls://c"])
    }
}
