import ArgumentParser
import Foundation

// MARK: - CommandRunner

/// Runs a subcommand's body and turns a ``CLIError`` into one `error:` line on standard error
/// and its exit status. Everything else (ArgumentParser's own errors, `ExitCode`) passes through.
enum CommandRunner {
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CLIError {
            Console.error(error.message)
            throw ExitCode(error.exitCode)
        }
    }

    /// The process environment (a seam for tests).
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
}
