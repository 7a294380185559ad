import ArgumentParser

struct NATSBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nats", abstract: "Under construction.")
    func run() async throws { throw ValidationError("not implemented yet") }
}
