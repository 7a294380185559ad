import Foundation
import NATSKit

/// "Look at this run again": a message on the follow-up subject, fetched by whichever replica
/// is free, nak'd with a delay of the reconcile interval while the run goes on and acknowledged
/// when it ends. No replica holds a run in memory, and a dead replica's follow-up is redelivered
/// after the ack wait: following has no single point of failure.
public struct FollowUp: Codable, Sendable, Hashable {
    public static let currentVersion = 1

    public var version: Int
    public var workspace: String
    public var name: String
    public var syncID: String
    public var runID: String
    public var commandID: String?

    public init(workspace: String, name: String, syncID: String, runID: String, commandID: String?) {
        self.version = Self.currentVersion
        self.workspace = workspace
        self.name = name
        self.syncID = syncID
        self.runID = runID
        self.commandID = commandID
    }

    /// One follow-up per run, whatever retries publish it.
    public var messageID: String { "followup-\(workspace).\(name)-\(runID)" }
}

/// Publishes follow-ups, de-duplicated by run.
public struct FollowUps: Sendable {
    public let jetStream: JetStreamContext
    public let subject: String

    public init(jetStream: JetStreamContext, subject: String) {
        self.jetStream = jetStream
        self.subject = subject
    }

    public func publish(_ followUp: FollowUp) async throws {
        let payload = Array(try JSONEncoder().encode(followUp))
        try await jetStream.publish(payload, to: subject, options: JetStreamPublishOptions(messageID: followUp.messageID))
    }
}
