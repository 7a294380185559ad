import FactoryModel
import Foundation
import NATSKit
import Testing

/// What a test needs to drive one deployment over NATS, whatever hosts it (replicas in this
/// process or operator processes): publish commands, ask statuses, read dead letters.
protocol DeploymentHarness {
    var client: NATSConnection { get }
    var jetStream: JetStreamContext { get }
    var names: DeploymentNames { get }
}

extension DeploymentHarness {
    /// Publishes a command with its content-derived message id (as factoryctl does), or `messageID`.
    @discardableResult
    func publish(_ envelope: CommandEnvelope, messageID: String? = nil) async throws -> JetStreamPublishAck {
        try await jetStream.publish(
            envelope.encoded(), to: names.commandSubject,
            options: JetStreamPublishOptions(messageID: messageID ?? envelope.deduplicationID)
        )
    }

    @discardableResult
    func publishRaw(_ bytes: [UInt8], messageID: String? = nil) async throws -> JetStreamPublishAck {
        try await jetStream.publish(bytes, to: names.commandSubject, options: JetStreamPublishOptions(messageID: messageID))
    }

    /// A status query on the deployment's query subject, or on `subject`.
    func query(_ query: StatusQuery, subject: String? = nil) async throws -> StatusReply {
        let payload = try JSONEncoder().encode(query)
        let reply = try await client.request(Array(payload), to: subject ?? names.querySubject, timeout: .seconds(5))
        return try JSONDecoder().decode(StatusReply.self, from: Data(reply.payload))
    }

    func status(_ name: String, workspace: String = "public", subject: String? = nil) async throws -> ResourceStatusView? {
        try await query(StatusQuery(workspace: workspace, name: name), subject: subject).resource
    }

    /// Waits until the resource's status satisfies `condition`.
    @discardableResult
    func waitForStatus(
        _ name: String, workspace: String = "public", subject: String? = nil, timeout: Duration = .seconds(20),
        _ condition: @escaping (ResourceStatusView) -> Bool
    ) async throws -> ResourceStatusView {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last: ResourceStatusView?
        while ContinuousClock.now < deadline {
            if let view = try? await status(name, workspace: workspace, subject: subject) {
                last = view
                if condition(view) { return view }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessTimeout(description: "\(workspace)/\(name) did not reach the expected state; last: \(String(describing: last.map { "\($0.status)/\($0.runtime) lastError=\(String(describing: $0.lastError))" }))")
    }

    /// Waits until some replica answers status queries.
    @discardableResult
    func waitForQueryable(timeout: Duration = .seconds(30)) async throws -> StatusReply {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if let reply = try? await query(StatusQuery(workspace: "public")) { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessTimeout(description: "no replica answered status queries within \(timeout)")
    }

    /// The messages on the dead-letter stream.
    func deadLetters() async throws -> [JetStreamStoredMessage] {
        let info = try await jetStream.streamInfo(names.deadLetterStream)
        guard info.state.messages > 0 else { return [] }
        var messages: [JetStreamStoredMessage] = []
        for sequence in info.state.firstSequence...info.state.lastSequence {
            if let message = try? await jetStream.message(stream: names.deadLetterStream, sequence: sequence) {
                messages.append(message)
            }
        }
        return messages
    }

    func commandsLeft() async throws -> UInt64 {
        try await jetStream.streamInfo(names.commandStream).state.messages
    }
}
