import ArgumentParser

struct ValidationBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validation", abstract: "Under construction.")
    func run() async throws { throw ValidationError("not implemented yet") }
}
