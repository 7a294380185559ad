import Foundation

/// A `factory-operator operator sync` process, killed with SIGKILL the way a crash does.
final class ReplicaProcess: @unchecked Sendable {
    // @unchecked: the process is started once and then only signalled and read.
    let name: String
    let process: Process
    let logFile: URL

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The built executable `name`.
    static func binary(_ name: String) -> String {
        for configuration in ["debug", "release"] {
            let candidate = root.appendingPathComponent(".build/\(configuration)/\(name)").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return root.appendingPathComponent(".build/debug/\(name)").path
    }

    init(name: String, environment: [String: String], directory: URL) throws {
        self.name = name
        logFile = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary("factory-operator"))
        process.arguments = ["operator", "sync", "--electionStateFile", directory.appendingPathComponent("\(name)-election.json").path]
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        merged["OPERATOR_INSTANCE_ID"] = name
        process.environment = merged
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func kill() { signal(SIGKILL) }
    func terminate() { signal(SIGTERM) }

    func signal(_ number: Int32) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, number)
    }

    func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}
