import ArgumentParser
import FactoryModel
import Foundation

// MARK: - CancelCommand

/// `factoryctl cancel NAME -w WORKSPACE`
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a resource's run in progress, where its vendor can.",
        discussion: """
            Asks the operator first: with no run in progress, or a vendor that cannot cancel a run through its \
            API (Hightouch), it says so and exits 1 without publishing. Otherwise it publishes a cancel command \
            (Nats-Msg-Id cancel-WORKSPACE-NAME-UUID); the operator cancels the run at the vendor and records what \
            the vendor then says of it.
            """)

    @OptionGroup var target: ResourceTargetOptions

    @Flag(help: "After publishing, follow the resource until its run has ended.")
    var watch = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            _ = try target.envelope(.cancel) { CommandEnvelope.cancel($0, workspace: $1) }  // names checked before connecting
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                let envelope = try await target.resolvedEnvelope(.cancel, client: client) { CommandEnvelope.cancel($0, workspace: $1) }
                let label = "\(envelope.workspace)/\(envelope.resource.name)"
                let view = try await client.resource(envelope.resource.name, workspace: envelope.workspace, type: envelope.resource.type)
                guard let run = view.currentRun else {
                    throw CLIError.failed("\(label): no run in progress to cancel")
                }
                guard view.canCancel != false else {
                    throw CLIError.failed("\(label): \(view.resourceType) runs cannot be cancelled through the vendor's API; run \(run.id) goes on")
                }
                let messageID = "cancel-\(envelope.workspace)-\(envelope.resource.name)-\(UUID().uuidString.lowercased())"
                let result = try await CommandPublication.publish(envelope, messageID: messageID, client: client)
                Console.line(result.line + " (run \(run.id))")
                if watch {
                    try await FollowCommands.follow([(envelope, result.target)], client: client)
                }
            }
        }
    }
}
