import FactoryState
import Foundation
import JSONSchema
import NATSKit

/// "Look at this run again": a message on the follow-up subject, fetched by whichever replica
/// is free, nak'd with a delay of the reconcile interval while the run goes on and acknowledged
/// when it ends. No replica holds a run in memory, and a dead replica's follow-up is redelivered
/// after the ack wait: following has no single point of failure.
///
/// Version 2: `{"version":2,"workspace":"public","name":"pipeline-01","run":"<run key>"}`, the run
/// named by its key in the resource's status. Version 1 (the release before drivers) named the
/// Hightouch sync and run ids; such a follow-up still in the stream is matched by the run id.
public struct FollowUp: Sendable, Hashable {
    public static let currentVersion = 2

    public var workspace: String
    public var name: String
    /// The run's key (version 2).
    public var runKey: String?
    /// The vendor's run id (version 1).
    public var vendorRunID: String?
    /// Set on a prompt: a look asked for by a vendor's webhook, beside the run's own follow-up
    /// (which keeps following it). Acknowledged after one look, whatever it finds; the id (the
    /// notification's digest) de-duplicates a vendor's retries of one notification.
    public var promptID: String?

    public init(workspace: String, name: String, runKey: String) {
        self.workspace = workspace
        self.name = name
        self.runKey = runKey
    }

    init(workspace: String, name: String, runKey: String?, vendorRunID: String?) {
        self.workspace = workspace
        self.name = name
        self.runKey = runKey
        self.vendorRunID = vendorRunID
    }

    /// A prompt to look at run `runKey` now (see ``promptID``).
    public static func prompt(workspace: String, name: String, runKey: String, id: String) -> FollowUp {
        var followUp = FollowUp(workspace: workspace, name: name, runKey: runKey)
        followUp.promptID = id
        return followUp
    }

    /// One follow-up per run, whatever retries publish it (and one prompt per notification).
    public var messageID: String {
        "followup-\(workspace).\(name)-\(runKey ?? vendorRunID ?? "")" + (promptID.map { "-prompt-\($0)" } ?? "")
    }

    public var encoded: [UInt8] {
        var object: JSONObject = ["version": .number(JSONNumber(Self.currentVersion)), "workspace": .string(workspace), "name": .string(name)]
        if let runKey { object["run"] = .string(runKey) }
        if let vendorRunID { object["runID"] = .string(vendorRunID) }
        if let promptID { object["prompt"] = .string(promptID) }
        return JSONValue.object(object).serializedBytes()
    }

    /// Reads a follow-up of version 1 or 2; nil for anything else.
    public init?(decoding payload: [UInt8]) {
        guard payload.count <= 64 * 1024, let value = try? JSONValue(parsing: payload),
            let version = value["version"]?.numberValue?.intValue, (1...Self.currentVersion).contains(version),
            let workspace = value["workspace"]?.stringValue, let name = value["name"]?.stringValue
        else { return nil }
        let key = version >= 2 ? value["run"]?.stringValue : nil
        let runID = value["runID"]?.stringValue
        guard key != nil || runID != nil else { return nil }
        self.init(workspace: workspace, name: name, runKey: key, vendorRunID: key == nil ? runID : nil)
        promptID = value["prompt"]?.stringValue
    }

    /// The run of `status` this follow-up means.
    func run(in status: StatusRecord) -> RunRecord? {
        if let runKey { return status.run(key: runKey) }
        guard let vendorRunID else { return nil }
        return [status.currentRun, status.lastRun].compactMap { $0 }.first { $0.vendorRunID == vendorRunID }
    }
}

/// Where follow-ups go.
public protocol FollowUpPublisher: Sendable {
    func publish(_ followUp: FollowUp) async throws
}

/// Publishes follow-ups to their JetStream subject, de-duplicated by run.
public struct FollowUps: FollowUpPublisher {
    public let jetStream: JetStreamContext
    public let subject: String

    public init(jetStream: JetStreamContext, subject: String) {
        self.jetStream = jetStream
        self.subject = subject
    }

    public func publish(_ followUp: FollowUp) async throws {
        try await jetStream.publish(followUp.encoded, to: subject, options: JetStreamPublishOptions(messageID: followUp.messageID))
    }
}
