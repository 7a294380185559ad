import ArgumentParser
import FactoryModel
import Foundation

// MARK: - RunCommand

/// `factoryctl run NAME -w WORKSPACE`
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Publish a run command: trigger the resource's sync again.",
        discussion: """
            Every invocation triggers a new run: its Nats-Msg-Id is unique (run-WORKSPACE-NAME-UUID), so it is \
            never dropped as a duplicate. The operator still triggers the vendor once per command, whatever \
            crashes or redeliveries happen. The resource must have been applied.
            """)

    @OptionGroup var target: ResourceTargetOptions

    @Flag(help: "After publishing, follow the run until it ends (exit 1 if it fails).")
    var watch = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            _ = try target.envelope(.run) { CommandEnvelope.run($0, workspace: $1) }  // names checked before connecting
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                let envelope = try await target.resolvedEnvelope(.run, client: client) { CommandEnvelope.run($0, workspace: $1) }
                let messageID = Self.messageID(for: envelope)
                let result = try await CommandPublication.publish(envelope, messageID: messageID, client: client)
                Console.line(result.line)
                if watch {
                    try await FollowCommands.follow([(envelope, result.target)], client: client)
                }
            }
        }
    }

    /// Unique per invocation: a run must trigger again each time.
    static func messageID(for envelope: CommandEnvelope) -> String {
        "run-\(envelope.workspace)-\(envelope.resource.name)-\(UUID().uuidString.lowercased())"
    }
}
