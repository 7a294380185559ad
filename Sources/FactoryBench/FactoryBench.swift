import ArgumentParser

/// `factory-bench`: benchmarks that print figures and ratios against floors measured in the same run.
/// Never a test, never a timed assertion. Each area has its own subcommand file.
@main
struct FactoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factory-bench",
        abstract: "Measure FactoryOperator against the raw floors on this machine.",
        discussion: """
            nats: NATSKit against raw cnats. operator: replicas end to end against raw JetStream and KV round trips. \
            validation: seed spec validations per second. hightouch, fivetran, dbtcloud, census: each vendor client's \
            requests (the ones its driver makes on each run) against its in-process simulator, beside the same request \
            through VendorHTTP without decoding and a plain AsyncHTTPClient GET, in rounds (median and range).
            """,
        subcommands: [
            NATSBenchmark.self, ValidationBenchmark.self, HightouchBenchmark.self, FivetranBenchmark.self, DBTCloudBenchmark.self,
            CensusBenchmark.self, OperatorBenchmark.self, PipelineBenchmark.self, ConsoleBenchmark.self,
        ]
    )
}
