import ArgumentParser

struct HightouchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hightouch", abstract: "Under construction.")
    func run() async throws { throw ValidationError("not implemented yet") }
}
