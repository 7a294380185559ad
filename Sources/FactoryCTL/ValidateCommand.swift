import ArgumentParser

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Validate a resource manifest (under construction).")
    func run() async throws { throw ValidationError("not implemented yet") }
}
