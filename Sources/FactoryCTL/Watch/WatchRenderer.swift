import FactoryModel
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - WatchRenderer

/// Shows watched resources. On a terminal it redraws one block in place, a line per resource
/// with a progress bar for a running sync; anywhere else (a pipe, a file, CI) it prints a
/// timestamped line whenever what a resource shows changes, and never uses escape codes.
final class WatchRenderer {
    let live: Bool
    private var drawnLines = 0
    private var lastLines: [String: String] = [:]
    private let write: (String) -> Void

    init(live: Bool = Console.isTerminal, write: @escaping (String) -> Void = Console.write) {
        self.live = live
        self.write = write
    }

    /// Shows the current state of `resources` (in the given order).
    func show(_ resources: [WatchedResource]) {
        let lines = resources.filter(\.exists).map { ($0.label, Self.summary($0.view)) }
        if live {
            let width = Self.terminalWidth
            var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A\r\u{1B}[J" : ""
            for (_, line) in lines {
                text += Self.truncate(line, to: width) + "\n"
            }
            drawnLines = lines.count
            write(text)
            return
        }
        for (label, line) in lines where lastLines[label] != line {
            lastLines[label] = line
            write(Self.clock() + "  " + line + "\n")
        }
    }

    /// A line that stays (above the live block on a terminal).
    func note(_ text: String) {
        if live, drawnLines > 0 {
            write("\u{1B}[\(drawnLines)A\r\u{1B}[J" + text + "\n")
            drawnLines = 0
        } else {
            write(text + "\n")
        }
    }

    /// Leaves the live block as it is and prints the final line under it.
    func finish(_ text: String) {
        drawnLines = 0
        write(text + "\n")
    }

    // MARK: - One resource on one line

    /// `public/pipeline-01  active  inprogress  run 500002 processing  [######------]  50%  rows 1250/2500`
    static func summary(_ view: ResourceStatusView) -> String {
        var parts = ["\(view.workspace)/\(view.name)", view.status, view.runtime]
        if let command = view.activeCommand {
            parts.append("\(command.operation) command: \(command.stage ?? "received")")
        }
        if let run = view.currentRun {
            parts.append("run \(run.id) \(run.status)")
            // Queued runs have no progress yet: no bar rather than an empty one.
            if run.progress != nil {
                parts.append(ProgressBar.line(run))
            } else if let summary = run.summary {
                parts.append(summary)
            }
        } else if let run = view.lastRun {
            parts.append("last run \(run.id) \(run.status)")
            if let summary = run.summary { parts.append(summary) }
        }
        if let error = view.lastError, view.status == "error" || view.activeCommand != nil {
            parts.append("\(error.reason): \(error.message)")
        }
        return parts.joined(separator: "  ")
    }

    // MARK: - Terminal

    /// Local wall-clock time, `HH:MM:SS`.
    private static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    private static var terminalWidth: Int {
        var size = winsize()
        #if os(Linux)
        let request = UInt(TIOCGWINSZ)
        #else
        let request = TIOCGWINSZ
        #endif
        if ioctl(STDOUT_FILENO, request, &size) == 0, size.ws_col > 0 {
            return Int(size.ws_col)
        }
        return 120
    }

    /// Cuts a line to the terminal's width so that no line wraps (a wrapped line would break
    /// the count of lines to redraw).
    private static func truncate(_ line: String, to width: Int) -> String {
        guard line.count >= width else { return line }
        return String(line.prefix(max(1, width - 2))) + "…"
    }
}
