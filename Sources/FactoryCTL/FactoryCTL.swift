import ArgumentParser

/// `factoryctl`: the command-line client, shaped like the seed's `dataos-ctl`. Each subcommand
/// lives in its own file; the logic lives in small types beside them.
@main
struct FactoryCTL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factoryctl",
        abstract: "Publish pipeline resources, query their status and run a local FactoryOperator stack.",
        discussion: """
            apply, get, delete, run, cancel, runs, watch, lineage and console talk to the operator through NATS: --server (or NATS_URL, \
            default nats://127.0.0.1:4222), with the NATS CLI's credential and TLS options. scripts/dev \
            (or factoryctl dev) runs a complete local stack to try them on.

            Exit status: 0 success; 1 the request failed (not found, refused, the watched run failed); \
            2 invalid input (a manifest, a name, an option); 3 NATS or the operator unreachable (no server, \
            no operator answering, timeout). validate exits 1 for an invalid manifest and 2 for an unreadable file.
            """,
        subcommands: [
            ApplyCommand.self,
            GetCommand.self,
            DeleteCommand.self,
            RunCommand.self,
            CancelCommand.self,
            RunsCommand.self,
            WatchCommand.self,
            LineageCommand.self,
            ConsoleCommand.self,
            ValidateCommand.self,
            DevCommand.self,
            SimCommand.self,
        ]
    )
}
