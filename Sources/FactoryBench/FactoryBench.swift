import ArgumentParser

/// `factory-bench`: benchmarks that print figures and ratios against floors measured in the same run.
/// Never a test, never a timed assertion. Each area has its own subcommand file.
@main
struct FactoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factory-bench",
        abstract: "Measure FactoryOperator against the raw floors on this machine.",
        subcommands: [NATSBenchmark.self, ValidationBenchmark.self, HightouchBenchmark.self, OperatorBenchmark.self]
    )
}
