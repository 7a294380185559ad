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

// MARK: - DevLog

/// The short log `factoryctl dev` streams in the foreground: what the stack does and what each
/// replica says that matters (commands handled, runs finished, leadership, warnings), one line
/// each, `HH:MM:SS source  message  key=value…`. The replicas' full logs (JSON lines) are in
/// their log files; `--verbose` streams every line.
final class DevLog: Sendable {
    let verbose: Bool
    /// Sources whose lines are dropped (the simulator while it is being stopped: its server
    /// logs the cancellation that stops it as an error).
    private let muted = Mutex(Set<String>())

    init(verbose: Bool) {
        self.verbose = verbose
    }

    /// A line of the stack itself.
    func say(_ text: String) {
        emit(text)
    }

    func mute(_ source: String) {
        muted.withLock { _ = $0.insert(source) }
    }

    /// A line from `source` (timestamped).
    func event(_ source: String, _ text: String) {
        guard !muted.withLock({ $0.contains(source) }) else { return }
        emit(Self.clock() + "  " + Self.pad(source) + "  " + text)
    }

    /// A line a replica wrote: shown when it matters (or always with `--verbose`).
    func replicaLine(_ source: String, _ line: String) {
        guard let shown = Self.shortLine(line, verbose: verbose) else { return }
        event(source, shown)
    }

    private let lock = Mutex(())

    private func emit(_ text: String) {
        lock.withLock { _ in
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    // MARK: - Formatting

    /// Info lines worth showing without --verbose.
    static let interestingInfo: Set<String> = ["Command handled", "Run finished", "Purged finished state"]
    /// Metadata shown in short lines, in this order.
    static let interestingKeys = [
        "resource", "command.sequence", "command.outcome", "detail", "run.id", "run.status", "election.term", "error",
    ]

    /// A replica's JSON log line as a short line; nil when it is not worth showing. Lines that
    /// are not JSON (a start-up failure on standard error) are always shown as they are.
    static func shortLine(_ line: String, verbose: Bool) -> String? {
        guard let data = line.data(using: .utf8),
            let fields = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let message = fields["message"] as? String
        else {
            return line.isEmpty ? nil : line
        }
        let level = (fields["level"] as? String).flatMap(Logger.Level.init(rawValue:)) ?? .info
        if !verbose {
            guard level >= .notice || (level == .info && interestingInfo.contains(message)) else { return nil }
        }
        var text = level >= .warning ? "\(level.rawValue.uppercased()): \(message)" : message
        let keys = verbose ? fields.keys.sorted().filter { !["message", "level", "time", "label", "source", "operator.instance"].contains($0) } : interestingKeys
        for key in keys {
            guard let value = fields[key] else { continue }
            let rendered = "\(value)"
            text += "  \(key)=\(verbose ? rendered : String(rendered.prefix(160)))"
        }
        return text
    }

    static func pad(_ source: String) -> String {
        source.count >= 10 ? source : source + String(repeating: " ", count: 10 - source.count)
    }

    static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

// MARK: - DevLogHandler

/// Routes the in-process simulator's log lines into the short log.
struct DevLogHandler: LogHandler {
    let source: String
    let devLog: DevLog
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text = event.level >= .warning ? "\(event.level.rawValue.uppercased()): \(event.message)" : "\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            text += "  \(key)=\(value)"
        }
        devLog.event(source, text)
    }
}
