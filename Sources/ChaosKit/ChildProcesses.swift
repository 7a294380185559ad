import Foundation
import NATSTestKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Every process a chaos run starts, by pid, written to `<run directory>/pids` as well, so that
/// `scripts/chaos` can end them by id if the driver itself dies. Nothing is ever killed by name.
public final class ChildProcesses: Sendable {
    public let pidFile: String
    private let pids = Mutex<Set<Int32>>([])

    public init(pidFile: String) {
        self.pidFile = pidFile
    }

    public func add(_ pid: Int32) {
        pids.withLock { _ = $0.insert(pid) }
        write()
    }

    public func remove(_ pid: Int32) {
        pids.withLock { _ = $0.remove(pid) }
        write()
    }

    /// SIGKILL to every recorded process that is still running.
    public func killAll() {
        for pid in pids.withLock({ $0 }) {
            _ = Glibc.kill(pid, SIGKILL)
        }
        pids.withLock { $0.removeAll() }
        write()
    }

    private func write() {
        let text = pids.withLock { $0.sorted().map(String.init).joined(separator: "\n") }
        try? (text + "\n").write(toFile: pidFile, atomically: true, encoding: .utf8)
    }
}

/// One operator replica: a real `hightouch-operator operator sync` process that can be killed
/// with SIGKILL and started again under the same slot.
public final class ReplicaProcess: @unchecked Sendable {
    // @unchecked: `process` and `incarnation` are guarded by `lock`.
    public let slot: Int
    private let binary: String
    private let environment: [String: String]
    private let directory: String
    private let children: ChildProcesses
    private let lock = NSLock()
    private var process: Process?
    private var incarnation = 0
    private var logHandle: FileHandle?

    public init(slot: Int, binary: String, environment: [String: String], directory: String, children: ChildProcesses) {
        self.slot = slot
        self.binary = binary
        self.environment = environment
        self.directory = directory
        self.children = children
    }

    public var logFile: String { directory + "/replica-\(slot).log" }

    /// The instance id of the current incarnation: the same id after every other restart (as a
    /// StatefulSet pod comes back), a new one otherwise (as a Deployment's does), so both ways of
    /// resuming a dead replica's command are exercised.
    private func instanceID(_ incarnation: Int) -> String {
        incarnation.isMultiple(of: 2) ? "replica-\(slot)" : "replica-\(slot)-\(incarnation)"
    }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }
    public var pid: Int32? { lock.withLock { process.map { $0.processIdentifier } } }
    /// The exit status of the current incarnation once it has exited.
    public var terminationStatus: Int32? {
        lock.withLock {
            guard let process, !process.isRunning else { return nil }
            return process.terminationStatus
        }
    }

    public func start() throws {
        try lock.withLock {
            if let process, process.isRunning { return }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["operator", "sync", "--electionStateFile", directory + "/replica-\(slot)-election.json"]
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value }
            merged["OPERATOR_INSTANCE_ID"] = instanceID(incarnation)
            merged["METRIC_PORT"] = String(try FreePort.pick())
            process.environment = merged
            if !FileManager.default.fileExists(atPath: logFile) {
                _ = FileManager.default.createFile(atPath: logFile, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            handle.seekToEndOfFile()
            handle.write(Data("=== incarnation \(incarnation) as \(instanceID(incarnation)) at \(Date())\n".utf8))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            children.add(process.processIdentifier)
            try? logHandle?.close()
            logHandle = handle
            self.process = process
            incarnation += 1
        }
    }

    /// SIGKILL, then waits (bounded) until it is gone.
    public func kill() async {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        children.remove(process.processIdentifier)
    }

    /// Sends `number` to the current incarnation (SIGSTOP and SIGCONT freeze and thaw it).
    public func signal(_ number: Int32) {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, number)
    }

    /// SIGTERM (graceful shutdown), SIGKILL after `grace`.
    public func terminate(grace: Duration = .seconds(10)) async {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGTERM)
        _ = Glibc.kill(process.processIdentifier, SIGCONT)
        let deadline = ContinuousClock.now.advanced(by: grace)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await kill()
    }

    /// Lines of the log containing `text`.
    public func logLines(containing text: String) -> [String] {
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.contains(text) }.map(String.init)
    }

    deinit {
        if let process, process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
    }
}
