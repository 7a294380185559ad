import ArgumentParser
import FactoryModel
import Foundation
import JSONSchema
import Pipelines

// MARK: - RunCommand

/// `factoryctl run NAME -w WORKSPACE`
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Publish a run command: trigger the resource's sync again, or start a pipeline run.",
        discussion: """
            Every invocation triggers a new run: its Nats-Msg-Id is unique (run-WORKSPACE-NAME-UUID), so it is \
            never dropped as a duplicate. The operator still triggers the vendor once per command, whatever \
            crashes or redeliveries happen. The resource must have been applied.

            For a pipeline, prints the run's id once the operator created it (queued, running or skipped by \
            its concurrency policy); with --watch, shows its stages and tasks until it ends.
            """)

    @OptionGroup var target: ResourceTargetOptions

    @Flag(help: "After publishing, follow the run until it ends (exit 1 if it fails).")
    var watch = false

    @Option(name: .customLong("event"), help: ArgumentHelp("A pipeline run's event, as a JSON object (what ${event.…} in its task parameters reads).", valueName: "json"))
    var event: String?

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            let event = try Self.event(self.event)
            let make = { (reference: ResourceReference, workspace: WorkspaceName) in CommandEnvelope.run(reference, workspace: workspace, input: nil, event: event) }
            _ = try target.envelope(.run, make)  // names checked before connecting
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                let envelope = try await target.resolvedEnvelope(.run, client: client, make)
                let messageID = Self.messageID(for: envelope)
                let result = try await CommandPublication.publish(envelope, messageID: messageID, client: client)
                Console.line(result.line)
                if envelope.resource.type == PipelineNames.type {
                    try await PipelineFollow.run(envelope, commandID: messageID, watch: watch, client: client)
                } else if watch {
                    try await FollowCommands.follow([(envelope, result.target)], client: client)
                }
            }
        }
    }

    static func event(_ text: String?) throws(CLIError) -> JSONValue? {
        guard let text else { return nil }
        guard let value = try? JSONValue(parsing: Array(text.utf8)), value.objectValue != nil else {
            throw .invalidInput("--event must be a JSON object, such as '{\"payload\": {\"day\": \"2026-11-21\"}}'")
        }
        return value
    }

    /// Unique per invocation: a run must trigger again each time.
    static func messageID(for envelope: CommandEnvelope) -> String {
        "run-\(envelope.workspace)-\(envelope.resource.name)-\(UUID().uuidString.lowercased())"
    }
}
