import ArgumentParser

/// `hightouch-operator`: the worker. `hightouch-operator operator sync --electionStateFile PATH`
/// starts it exactly as the seed manifest's component does.
@main
struct HightouchOperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hightouch-operator",
        abstract: "The FactoryOperator worker for Hightouch pipeline resources.",
        subcommands: [OperatorCommand.self]
    )
}

struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Operator commands.",
        subcommands: [SyncCommand.self]
    )
}
