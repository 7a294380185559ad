import ArgumentParser

struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sim", abstract: "Run a vendor simulator (under construction).")
    func run() async throws { throw ValidationError("not implemented yet") }
}
