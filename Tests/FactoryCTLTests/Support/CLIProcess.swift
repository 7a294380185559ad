import Foundation
import NATSTestKit
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built executables, run as a user runs them: arguments in, exit status and output out.
enum CLIProcess {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func binary(_ name: String) -> URL {
        packageRoot.appendingPathComponent(".build/debug/\(name)")
    }

    static var factoryctl: URL { binary("factoryctl") }

    struct Outcome: CustomStringConvertible {
        var status: Int32
        var output: String
        var errorOutput: String

        var description: String { "exit \(status)\nstdout:\n\(output)\nstderr:\n\(errorOutput)" }
        var lines: [String] { output.split(separator: "\n").map(String.init) }
    }

    /// The test process's environment without anything that would point factoryctl elsewhere.
    static var cleanEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("NATS_") && !key.hasPrefix("ENTITY_OF_INTEREST_") && !key.hasPrefix("OPERATOR_")
        }
    }

    /// Runs `factoryctl ARGUMENTS` (or another binary) to the end, at most `timeout`.
    static func run(
        _ arguments: [String], binary: URL = factoryctl, standardInput: Data? = nil, timeout: Duration = .seconds(60)
    ) async throws -> Outcome {
        let child = try Background(arguments, binary: binary, standardInput: standardInput)
        guard let status = await child.waitForExit(timeout: timeout) else {
            child.signal(SIGKILL)
            Issue.record("\(binary.lastPathComponent) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
            return Outcome(status: -1, output: child.output, errorOutput: child.errorOutput)
        }
        return Outcome(status: status, output: child.output, errorOutput: child.errorOutput)
    }

    /// A child process whose output is collected as it comes (so it never blocks on a full pipe).
    final class Background: @unchecked Sendable {
        // @unchecked: `process` is started in init and afterwards only read and signalled.
        let process: Process
        private let collected = Collected()

        init(_ arguments: [String], binary: URL = CLIProcess.factoryctl, environment: [String: String] = [:], standardInput: Data? = nil) throws {
            process = Process()
            process.executableURL = binary
            process.arguments = arguments
            process.currentDirectoryURL = CLIProcess.packageRoot
            process.environment = CLIProcess.cleanEnvironment.merging(environment) { $1 }
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            let collected = self.collected
            PipeReader.start(output.fileHandleForReading, name: "cli-stdout") { data in
                collected.state.withLock { $0.output += String(decoding: data, as: UTF8.self) }
            }
            PipeReader.start(errors.fileHandleForReading, name: "cli-stderr") { data in
                collected.state.withLock { $0.errorOutput += String(decoding: data, as: UTF8.self) }
            }
            if let standardInput {
                let input = Pipe()
                process.standardInput = input
                try process.run()
                input.fileHandleForWriting.write(standardInput)
                try input.fileHandleForWriting.close()
            } else {
                process.standardInput = FileHandle.nullDevice
                try process.run()
            }
        }

        var output: String { collected.state.withLock { $0.output } }
        var errorOutput: String { collected.state.withLock { $0.errorOutput } }
        var isRunning: Bool { process.isRunning }

        func signal(_ number: Int32) {
            if process.isRunning { kill(process.processIdentifier, number) }
        }

        /// Waits until standard output contains `text`; false on timeout or exit.
        func waitForOutput(_ text: String, timeout: Duration) async -> Bool {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while ContinuousClock.now < deadline {
                if output.contains(text) { return true }
                if !process.isRunning { return output.contains(text) }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// The exit status, or nil if it is still running after `timeout`.
        func waitForExit(timeout: Duration) async -> Int32? {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            guard !process.isRunning else { return nil }
            // Let the pipes hand over the last bytes.
            try? await Task.sleep(for: .milliseconds(100))
            return process.terminationStatus
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Output gathered from the pipes' handlers.
    final class Collected: Sendable {
        let state = Mutex((output: "", errorOutput: ""))
    }

    /// Whether a process with this id still exists (and is not a zombie).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // "pid (comm) S …": the state follows the command name's closing parenthesis.
        guard let close = stat.lastIndex(of: ")") else { return true }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
