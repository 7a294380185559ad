import ArgumentParser

/// `factoryctl`: the command-line client, shaped like the seed's `dataos-ctl`.
/// Each subcommand lives in its own file.
@main
struct FactoryCTL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factoryctl",
        abstract: "Publish pipeline resources, query their status and run a local FactoryOperator stack.",
        subcommands: [ValidateCommand.self, SimCommand.self]
    )
}
