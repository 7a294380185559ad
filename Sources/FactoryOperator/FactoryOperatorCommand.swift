import ArgumentParser
import CensusDriver
import DBTCloudDriver
import FactoryEngine
import FivetranDriver
import HightouchDriver
import HTTPTaskDriver
import OperatorApp
import PipelineDriver

/// `factory-operator`: one worker process for any set of resource types. `factory-operator
/// operator sync --electionStateFile PATH` hosts the drivers listed in `OPERATOR_DRIVERS`
/// (default: every driver whose secret is set), each on its own subjects, stream and bucket.
@main
struct FactoryOperatorCommand: AsyncParsableCommand {
    static let program = OperatorProgram(name: "factory-operator", defaults: .factoryOperator, hosting: .selected([HightouchDriver.factory, HTTPTaskDriver.factory, FivetranDriver.factory, DBTCloudDriver.factory, CensusDriver.factory, PipelineDriver.factory]))

    static let configuration = CommandConfiguration(
        commandName: "factory-operator",
        abstract: "The FactoryOperator worker for any set of resource types (OPERATOR_DRIVERS).",
        subcommands: [OperatorCommand.self]
    )

    struct OperatorCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "operator", abstract: "Operator commands.", subcommands: [SyncCommand.self])
    }

    struct SyncCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Consume the hosted types' commands, drive their vendors, answer status queries, until SIGTERM or SIGINT.",
            discussion: OperatorHelp.discussion(for: program)
        )

        @OptionGroup var options: SyncOptions

        func run() async throws {
            try await program.sync(electionStateFile: options.electionStateFile, manifestPath: options.manifest)
        }
    }
}
