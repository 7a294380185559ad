import ArgumentParser
import FactoryEngine
import HightouchDriver
import OperatorApp

/// `hightouch-operator`: the worker for Hightouch resources. `hightouch-operator operator sync
/// --electionStateFile PATH` starts it exactly as the seed manifest's component does, with the
/// seed operator's variables, subjects and names.
@main
struct HightouchOperatorCommand: AsyncParsableCommand {
    static let program = OperatorProgram(name: "hightouch-operator", defaults: .hightouchOperator, hosting: .single(HightouchDriver.factory))

    static let configuration = CommandConfiguration(
        commandName: "hightouch-operator",
        abstract: "The FactoryOperator worker for Hightouch pipeline resources.",
        subcommands: [OperatorCommand.self]
    )

    struct OperatorCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "operator", abstract: "Operator commands.", subcommands: [SyncCommand.self])
    }

    struct SyncCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Consume pipeline commands, drive Hightouch, answer status queries, until SIGTERM or SIGINT.",
            discussion: OperatorHelp.discussion(for: program)
        )

        @OptionGroup var options: SyncOptions

        func run() async throws {
            try await program.sync(electionStateFile: options.electionStateFile, manifestPath: options.manifest)
        }
    }
}
