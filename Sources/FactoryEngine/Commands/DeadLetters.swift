import FactoryState
import Foundation
import NATSKit

/// Where refused and given-up commands are recorded, with the reason.
public protocol DeadLetterRecorder: Sendable {
    func record(_ delivery: CommandDelivery, reason: String, message: String, workspace: String?, resource: String?) async throws
}

/// Records refused or abandoned commands on the dead-letter subject: the original bytes as the
/// payload, the reason in headers. Published with a message id derived from the command's stream
/// sequence, so a crash and redelivery between publishing and terminating records it once.
public struct DeadLetters: DeadLetterRecorder {
    public static let reasonHeader = "Factory-Dead-Letter-Reason"
    public static let errorHeader = "Factory-Dead-Letter-Error"
    public static let sequenceHeader = "Factory-Stream-Sequence"
    public static let subjectHeader = "Factory-Original-Subject"
    public static let commandHeader = "Factory-Command-Id"
    public static let workspaceHeader = "Factory-Workspace"
    public static let resourceHeader = "Factory-Resource"
    public static let atHeader = "Factory-Dead-Lettered-At"

    public let jetStream: JetStreamContext
    public let subject: String
    public let stream: String

    public init(jetStream: JetStreamContext, subject: String, stream: String) {
        self.jetStream = jetStream
        self.subject = subject
        self.stream = stream
    }

    public func record(_ delivery: CommandDelivery, reason: String, message: String, workspace: String?, resource: String?) async throws {
        var headers = NATSHeaders()
        headers[Self.reasonHeader] = reason
        // Headers are one line each: keep the message readable and bounded.
        headers[Self.errorHeader] = String(message.map { $0.isNewline ? " " : $0 }.prefix(2000))
        headers[Self.sequenceHeader] = String(delivery.streamSequence)
        headers[Self.subjectHeader] = delivery.subject
        headers[Self.commandHeader] = String(delivery.commandID.prefix(256))
        if let workspace { headers[Self.workspaceHeader] = workspace }
        if let resource { headers[Self.resourceHeader] = resource }
        headers[Self.atHeader] = Timestamp.format(Date())
        try await jetStream.publish(
            delivery.payload,
            to: subject,
            headers: headers,
            options: JetStreamPublishOptions(messageID: "dead-letter-\(delivery.streamSequence)-\(reason)")
        )
    }
}
