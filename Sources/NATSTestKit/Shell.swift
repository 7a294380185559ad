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

/// Reads a pipe to its end on a thread of its own, giving each chunk to `onData` and calling
/// `onEnd` once at the end.
///
/// Instead of `FileHandle.readabilityHandler`: its dispatch read sources can crash libdispatch's
/// manager thread on Linux (`_dispatch_event_loop_drain`, swift-corelibs-foundation #3276), seen
/// once in the full test suite while several child processes' pipes closed at once.
public enum PipeReader {
    public static func start(_ handle: FileHandle, name: String, onData: @escaping @Sendable (Data) -> Void, onEnd: @escaping @Sendable () -> Void = {}) {
        let thread = Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                onData(data)
            }
            onEnd()
        }
        thread.name = name
        thread.start()
    }
}
