import Foundation
import NATSTestKit

/// What the figures were measured on: every benchmark prints it first.
enum MachineDescription {
    static func current(serverExecutable: String? = nil) -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        let server = (try? NATSServerProcess.version(executable: serverExecutable)) ?? "nats-server: unknown"
        return "machine: \(cores) cores (\(model)), \(String(format: "%.0f", memory)) GiB, Linux \(kernel); \(server); client and server share the cores over loopback"
    }
}

/// A plain-text table with aligned columns.
struct TextTable {
    let columns: [String]
    private var rows: [[String]] = []

    init(columns: [String]) {
        self.columns = columns
    }

    mutating func add(_ row: [String]) {
        rows.append(row)
    }

    func render() -> String {
        var widths = columns.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: " | ")
        }
        var lines = [line(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}

/// The raw cnats floor (scripts/bench/raw_cnats.c): the same NATS operations in C, on a fresh
/// server, so every benchmark can print its figures beside what the machine does without us.
enum RawFloor {
    static func compile(source: String) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("factory-bench-raw-cnats-\(getpid())").path
        let result = try Shell.run("/usr/bin/cc", ["-O2", "-o", output, source, "-lnats"])
        guard result.status == 0 else {
            throw BenchmarkFailure("cannot compile \(source) (install libnats-dev: scripts/bootstrap):\n\(result.output)")
        }
        return output
    }

    static func measure(binary: String, count: Int, server: String? = nil) async throws -> [Figure] {
        let serverProcess = try await NATSServerProcess.start(.init(executable: server))
        let result = try Shell.run(binary, [serverProcess.url, "\(count)"])
        await serverProcess.stop()
        guard result.status == 0 else { throw BenchmarkFailure("raw cnats benchmark failed:\n\(result.output)") }
        return try result.output.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{") else { return nil }
            return try JSONDecoder().decode(Figure.self, from: Data(line.utf8))
        }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
