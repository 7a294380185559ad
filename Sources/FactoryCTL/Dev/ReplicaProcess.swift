import Foundation
import NATSTestKit
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - ReplicaProcess

/// One `hightouch-operator operator sync` child of `factoryctl dev`: started with its own
/// environment, its output copied line by line to its log file and to the short log, stopped
/// the way Kubernetes stops a pod (SIGTERM, then SIGKILL after a grace period).
///
/// `@unchecked Sendable`: the `Process` is configured and started once, in `init`; afterwards it
/// is only read (pid, running, exit status) and signalled, which Foundation allows from any thread.
final class ReplicaProcess: @unchecked Sendable {
    let name: String
    let metricPort: Int
    let logFile: URL
    private let process: Process
    private let output: LineSplitter

    /// Starts the replica. `onExit` is called once, with the exit status, when it ends.
    init(
        name: String, executable: URL, arguments: [String], environment: [String: String], metricPort: Int,
        logFile: URL, log: DevLog, onExit: @escaping @Sendable (Int32) -> Void
    ) throws {
        self.name = name
        self.metricPort = metricPort
        self.logFile = logFile
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let file = try FileHandle(forWritingTo: logFile)
        let output = LineSplitter { line in
            file.write(Data((line + "\n").utf8))
            log.replicaLine(name, line)
        }
        self.output = output
        let pipe = Pipe()
        PipeReader.start(pipe.fileHandleForReading, name: "replica-\(name)-output", onData: { output.append($0) }, onEnd: { output.finish() })
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { process in
            onExit(process.terminationStatus)
        }
        self.process = process
        try process.run()
    }

    var processIdentifier: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`. Returns the exit status and
    /// whether it had to be killed.
    func stop(grace: Duration) async -> (status: Int32, killed: Bool) {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        var killed = false
        if process.isRunning {
            killed = true
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
        // Let the pipe deliver the last lines ("Stopped") before saying it stopped.
        try? await Task.sleep(for: .milliseconds(100))
        return (process.terminationStatus, killed)
    }

    /// The last lines of the replica's log, for a failure message.
    func tail(lines count: Int = 5) -> [String] {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(count).map(String.init)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

// MARK: - LineSplitter

/// Bytes in, whole lines out (a partial line waits for its end).
final class LineSplitter: Sendable {
    private let pending = Mutex([UInt8]())
    private let deliver: @Sendable (String) -> Void

    init(deliver: @escaping @Sendable (String) -> Void) {
        self.deliver = deliver
    }

    func append(_ data: Data) {
        let lines: [String] = pending.withLock { buffer in
            buffer.append(contentsOf: data)
            var lines: [String] = []
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer.removeSubrange(...newline)
            }
            return lines
        }
        lines.forEach(deliver)
    }

    func finish() {
        let rest = pending.withLock { buffer in
            defer { buffer.removeAll() }
            return String(decoding: buffer, as: UTF8.self)
        }
        if !rest.isEmpty { deliver(rest) }
    }
}
