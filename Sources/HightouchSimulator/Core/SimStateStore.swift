import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - SimStateStore

/// Keeps a simulator's state file (``HightouchSimulator/Configuration/stateFile``) in step with its
/// state: loads it before the server listens, then writes it while the server runs, at most once
/// per ``interval`` and only after a change, and a last time when the server has stopped.
///
/// A write is atomic: the bytes go to a temporary file beside the state file, are flushed to disk,
/// and the temporary file is renamed over the state file, so a reader (or a crash) sees the old
/// file or the new one, never half of one. Files are read and written on a serial queue of their
/// own, off the cooperative thread pool.
final class SimStateStore: Sendable {
    /// The longest a change waits before it is written (a burst of changes is one write).
    static let interval: Duration = .milliseconds(200)

    let path: String
    private let engine: SimulatorEngine
    private let logger: Logger
    /// The state revision the file holds (`nil` before the first load or write).
    private let writtenRevision = Mutex<UInt64?>(nil)
    private let queue = DispatchQueue(label: "hightouch-simulator.state-file")

    init(path: String, engine: SimulatorEngine, logger: Logger) {
        self.path = path
        self.engine = engine
        self.logger = logger
    }

    // MARK: - Loading

    /// Reads the state file into the engine's state, or writes a first one if there is none (which
    /// also proves, before the server listens, that the file can be written).
    ///
    /// - Throws: ``HightouchSimulatorError/stateFile(path:problem:)`` for a file that exists but is
    ///   unreadable, not JSON, of the wrong shape or a newer format;
    ///   ``HightouchSimulatorError/stateFileNotWritable(path:reason:)`` if no first file can be written.
    func load() async throws(HightouchSimulatorError) {
        let configuration = self.engine.configuration
        let file = try Self.read(path: self.path, configuration: configuration)
        guard let file else {
            self.logger.info("No state file yet; starting empty", metadata: ["simulator.state_file": "\(self.path)"])
            try await self.save(force: true)
            return
        }
        let revision = self.engine.withState { state, _ in
            state.restore(from: file, configuration: configuration)
            return state.revision
        }
        self.writtenRevision.withLock { $0 = revision }
        self.logger.info(
            "Loaded the state file",
            metadata: [
                "simulator.state_file": "\(self.path)", "simulator.models": "\(file.models.count)",
                "simulator.syncs": "\(file.syncs.count)", "simulator.runs": "\(file.runs.count)",
            ]
        )
    }

    /// The checked content of the state file at `path`, or `nil` if there is no file.
    static func read(path: String, configuration: HightouchSimulator.Configuration) throws(HightouchSimulatorError) -> SimStateFile? {
        let data: Data
        switch SimFileIO.contents(atPath: path) {
        case .missing: return nil
        case .failed(let reason): throw .stateFile(path: path, problem: "cannot be read (\(reason))")
        case .read(let bytes): data = bytes
        }
        do {
            return try SimStateFile.decode(
                data,
                seedSources: Set(configuration.sources.map(\.id)),
                seedDestinations: Set(configuration.destinations.map(\.id))
            )
        } catch {
            throw .stateFile(path: path, problem: error.problem)
        }
    }

    // MARK: - Saving

    /// Writes the state if it changed since the last write (or always, with `force`: request
    /// counts change without a revision, so the last write of a run is forced).
    func save(force: Bool = false) async throws(HightouchSimulatorError) {
        if !force {
            // Most looks find nothing new: compare revisions without copying anything.
            let revision = self.engine.withState { state, _ in state.revision }
            if self.writtenRevision.withLock({ $0 }) == revision { return }
        }
        // A copy of the state under the lock (copy-on-write: cheap); encoding happens outside it.
        let state = self.engine.withState { state, _ in state }
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            data = try encoder.encode(state.stateFile(savedAt: Date()))
        } catch {
            throw .stateFileNotWritable(path: self.path, reason: "the state cannot be encoded: \(error)")
        }
        let path = self.path
        let failure: String? = await withCheckedContinuation { continuation in
            self.queue.async { continuation.resume(returning: SimFileIO.writeAtomically(data, to: path)) }
        }
        if let failure { throw .stateFileNotWritable(path: path, reason: failure) }
        // Writes never overlap: the loop of `keepSaving()` is the only writer while the server runs.
        self.writtenRevision.withLock { $0 = state.revision }
    }

    /// Writes changes every ``interval`` until the task is cancelled. A failed write is logged and
    /// tried again at the next interval; the last write, after the server stops, reports its error.
    func keepSaving() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: Self.interval)
            } catch {
                return
            }
            do {
                try await self.save()
                if failing { self.logger.notice("State file written again", metadata: ["simulator.state_file": "\(self.path)"]) }
                failing = false
            } catch {
                if !failing { self.logger.error("Cannot write the state file", metadata: ["simulator.state_file": "\(self.path)", "error": "\(error)"]) }
                failing = true
            }
        }
    }
}

// MARK: - SimFileIO

/// Whole-file reads and atomic writes with the system's reason on failure (`Permission denied`),
/// which Foundation's file errors word for GUI dialogs instead.
enum SimFileIO {
    enum ReadResult {
        case read(Data)
        case missing
        case failed(String)
    }

    static func contents(atPath path: String) -> ReadResult {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return errno == ENOENT ? .missing : .failed(Self.reason())
        }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failed(Self.reason())
            }
            if count == 0 { return .read(data) }
            data.append(contentsOf: buffer[0..<count])
        }
    }

    /// Writes `data` to `<path>.tmp`, flushes it to disk and renames it over `path`. Returns why it
    /// failed, or `nil`.
    static func writeAtomically(_ data: Data, to path: String) -> String? {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return "\(temporary): \(Self.reason())" }
        var failure: String?
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "\(temporary): \(Self.reason())"
                    return
                }
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = "\(temporary): \(Self.reason())" }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = Self.reason() }
        if failure != nil { unlink(temporary) }
        return failure
    }

    private static func reason() -> String {
        String(cString: strerror(errno))
    }
}
