import Foundation

/// Runs a command to its end and captures its output (stdout and stderr together): openssl and
/// the credentials maker for tests, `nats-server --version`, the C benchmark, the nats-py client.
/// Blocking: call it where blocking is fine (set-up code, or off the cooperative pool).
public enum Shell {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    public static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Read before waiting: a child that fills the pipe would otherwise never exit.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
