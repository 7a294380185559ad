import Foundation
import Pipelines

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - PipelineRunRenderer

/// Shows a run's DAG as it changes. On a terminal the block is redrawn in place; anywhere else
/// each line that changed is printed again with the time, so a log shows every transition
/// without escape codes.
final class PipelineRunRenderer {
    let live: Bool
    private var drawn = 0
    private var last: [String] = []
    private let write: (String) -> Void

    init(live: Bool = Console.isTerminal, write: @escaping (String) -> Void = Console.write) {
        self.live = live
        self.write = write
    }

    func show(_ lines: [String]) {
        if live {
            var text = drawn > 0 ? "\u{1B}[\(drawn)A\r\u{1B}[J" : ""
            for line in lines { text += line + "\n" }
            drawn = lines.count
            write(text)
            return
        }
        // Lines are matched by their first words (the run, a stage, a task), so a task's line
        // is printed again only when it changed.
        let previous = Dictionary(last.map { (Self.identity($0), $0) }, uniquingKeysWith: { first, _ in first })
        let changed = lines.filter { previous[Self.identity($0)] != $0 }
        last = lines
        guard !changed.isEmpty else { return }
        let stamp = Self.clock()
        write(changed.map { "\(stamp)  \($0)" }.joined(separator: "\n") + "\n")
    }

    /// Prints the final line under what is shown.
    func finish(_ text: String) {
        drawn = 0
        write(text + "\n")
    }

    private static func identity(_ line: String) -> String {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        if words.first == "run" || words.first == "stage" { return words.prefix(2).joined(separator: " ") }
        return words.first.map(String.init) ?? line
    }

    private static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

extension PipelineRun {
    /// `public/daily: run 20261121-100000-3fa2c1 succeeded in 1m12s`
    var outcomeLine: String {
        var text = "\(workspace)/\(pipeline): run \(id) \(state.rawValue)"
        if let started = startedAt, let finished = finishedAt { text += " in \(PipelineRunText.duration(finished.timeIntervalSince(started)))" }
        if let reason, state != .succeeded { text += " (\(reason))" }
        return text
    }

    var isSuccess: Bool { state == .succeeded || state == .warning }
}
