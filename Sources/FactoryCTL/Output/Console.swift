import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Console

/// Where factoryctl writes: results to standard output, errors and progress notes to standard
/// error. Writes go straight to the file descriptors (no buffering), so output interleaves with
/// child processes' in the order it happened.
enum Console {
    /// Writes `text` to standard output as it is.
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes one line to standard output.
    static func line(_ text: String = "") {
        write(text + "\n")
    }

    /// Writes one line to standard error.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// `error: <message>` on standard error: one line, no stack, no type names.
    static func error(_ message: String) {
        note("error: " + message)
    }

    /// Whether standard output is a terminal (live redrawing) or a pipe or file (plain lines).
    static var isTerminal: Bool {
        isatty(STDOUT_FILENO) == 1
    }
}
