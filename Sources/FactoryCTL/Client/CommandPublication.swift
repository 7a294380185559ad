import FactoryModel
import NATSKit

// MARK: - CommandPublication

/// Publishes one command and says what happened, one line per command:
///
/// ```
/// public/pipeline-01: apply published to dataos-hightouch-entities, sequence 3
/// public/pipeline-01: unchanged (duplicate within the window), sequence 3
/// ```
enum CommandPublication {
    struct Result: Sendable {
        var ack: JetStreamPublishAck
        var target: CommandTarget
        var line: String
    }

    static func publish(_ envelope: CommandEnvelope, messageID: String, client: FactoryClient) async throws(CLIError) -> Result {
        let ack = try await client.publish(envelope, messageID: messageID)
        return Result(
            ack: ack,
            target: CommandTarget(id: messageID, operation: envelope.operation.rawValue, stream: ack.stream, sequence: ack.sequence),
            line: line(envelope, ack: ack))
    }

    static func line(_ envelope: CommandEnvelope, ack: JetStreamPublishAck) -> String {
        let label = "\(envelope.workspace)/\(envelope.resource.name)"
        if ack.duplicate {
            return "\(label): unchanged (duplicate within the window), sequence \(ack.sequence)"
        }
        return "\(label): \(envelope.operation.rawValue) published to \(ack.stream), sequence \(ack.sequence)"
    }

    /// The id that re-drives a resource in error with the very manifest whose command failed: the
    /// content digest and the failure's time, so it differs from the failed command's id (which
    /// the operator and JetStream would drop as a duplicate) yet repeats for a second apply of the
    /// same manifest after the same failure. Nil when the resource is not in error (best effort:
    /// no operator, no re-drive).
    static func redriveID(for envelope: CommandEnvelope, client: FactoryClient) async -> (id: String, reason: String)? {
        guard case .apply = envelope.payload,
            let view = try? await client.resource(envelope.resource.name, workspace: envelope.workspace, type: envelope.resource.type),
            view.status == "error", let error = view.lastError
        else { return nil }
        return (envelope.deduplicationID + "-redrive-" + (error.at ?? error.commandId ?? "unknown"), error.reason)
    }

    /// JetStream drops a repeated content-derived id for two minutes even when another command
    /// changed the resource in between (apply A, apply B, apply A again). Then "unchanged" would
    /// be wrong, so ask the operator (best effort: no operator, no check) and say so.
    static func staleDuplicateWarning(_ result: Result, envelope: CommandEnvelope, client: FactoryClient) async -> String? {
        guard result.ack.duplicate,
            let view = try? await client.resource(envelope.resource.name, workspace: envelope.workspace, type: envelope.resource.type)
        else { return nil }
        let newest = [view.lastCommand?.sequence, view.activeCommand?.sequence].compactMap { $0 }.max() ?? 0
        guard newest > result.ack.sequence else { return nil }
        return "\(envelope.workspace)/\(envelope.resource.name) changed after sequence \(result.ack.sequence) (sequence \(newest)), "
            + "so this \(envelope.operation.rawValue) was dropped as a duplicate but is not in effect; publish it again after the stream's 2-minute duplicate window, or change the manifest"
    }
}
