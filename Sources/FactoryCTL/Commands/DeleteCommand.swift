import ArgumentParser
import FactoryModel

// MARK: - DeleteCommand

/// `factoryctl delete NAME -w WORKSPACE`
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Publish a delete command: the operator disables the sync at the vendor and marks the resource deleted.",
        discussion: """
            Hightouch's API has no DELETE for models or syncs: the operator disables the sync and clears its \
            schedule, and the status becomes deleted. The leader purges deleted resources from the state after \
            OPERATOR_PURGE_STATE_STORE_BEFORE (default 5m). Like apply, the command's Nats-Msg-Id is derived \
            from its content, so a repeated delete within the 2-minute window is dropped.
            """)

    @OptionGroup var target: ResourceTargetOptions

    @Flag(help: "After publishing, follow the resource until the operator has deleted it.")
    var watch = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            _ = try target.envelope(.delete) { CommandEnvelope.delete($0, workspace: $1) }  // names checked before connecting
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                let envelope = try await target.resolvedEnvelope(.delete, client: client) { CommandEnvelope.delete($0, workspace: $1) }
                let result = try await CommandPublication.publish(envelope, messageID: envelope.deduplicationID, client: client)
                Console.line(result.line)
                if let warning = await CommandPublication.staleDuplicateWarning(result, envelope: envelope, client: client) {
                    Console.note("warning: " + warning)
                }
                if watch {
                    try await FollowCommands.follow([(envelope, result.target)], client: client)
                }
            }
        }
    }
}
