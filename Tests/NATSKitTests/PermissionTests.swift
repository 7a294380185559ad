import Foundation
import NATSKit
import NATSTestKit
import Testing

@Suite("Permissions", .timeLimit(.minutes(1)))
struct PermissionTests {
    @Test("a JetStream API request the user may not publish fails permissionDenied naming the subject, not a timeout; other streams still work")
    func deniedConsumerCreation() async throws {
        let configuration = NATSServerProcess.Configuration(extraConfiguration: """
            authorization {
              users = [
                {user: op, password: op, permissions: {publish: {allow: [">"], deny: ["$JS.API.CONSUMER.*.forbidden", "$JS.API.CONSUMER.*.forbidden.>", "$JS.API.CONSUMER.DURABLE.CREATE.forbidden.>"]}, subscribe: {allow: [">"]}}}
              ]
            }
            """)
        try await withNATSServer(configuration) { server in
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], authentication: .userPassword(user: "op", password: "op")))
            let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: .seconds(2)))
            _ = try await jetStream.createOrUpdateStream(StreamConfiguration(name: "forbidden", subjects: ["forbidden.>"]))
            await #expect {
                _ = try await jetStream.createOrUpdateConsumer(stream: "forbidden", ConsumerConfiguration(durableName: "c", ackPolicy: .explicit, filterSubject: "forbidden.x"))
            } throws: { error in
                guard let error = error as? NATSError else { return false }
                return error.code == .permissionDenied && error.message.contains("Permissions Violation") && error.message.contains("forbidden")
            }
            // The denial is that subject's alone: another stream's consumer is created.
            _ = try await jetStream.createOrUpdateStream(StreamConfiguration(name: "allowed", subjects: ["allowed.>"]))
            _ = try await jetStream.createOrUpdateConsumer(stream: "allowed", ConsumerConfiguration(durableName: "c", ackPolicy: .explicit, filterSubject: "allowed.x"))
            await connection.close()
        }
    }
}
