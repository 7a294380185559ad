import ArgumentParser
import AsyncHTTPClient
import Foundation
import NATSTestKit
import NIOCore
import NIOHTTP1
import Synchronization
import VendorHTTP

/// What the figures were measured on: every benchmark prints it first.
enum MachineDescription {
    static func current(serverExecutable: String? = nil) -> String {
        let server = (try? NATSServerProcess.version(executable: serverExecutable)) ?? "nats-server: unknown"
        return "machine: \(hardware()); \(server); client and server share the cores over loopback"
    }

    /// Cores, CPU model, memory and kernel.
    static func hardware() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        return "\(cores) cores (\(model)), \(String(format: "%.0f", memory)) GiB, Linux \(kernel)"
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

// MARK: - Operator replicas as processes

/// Operator replica processes a benchmark starts, measures and stops.
enum ReplicaProcesses {
    /// Starts `binary operator sync` with `environment` over this process's own, its output in
    /// `directory/replica-<index>.log`.
    static func launch(binary: String, index: Int, environment: [String: String], directory: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["operator", "sync", "--electionStateFile", directory.appendingPathComponent("election-\(index).json").path]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let log = directory.appendingPathComponent("replica-\(index).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Waits until every replica's `/readyz` answers 200.
    static func waitReady(metricPorts: [Int], timeout: Duration, directory: URL) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        for metricPort in metricPorts {
            while (try? await Stack.get("http://127.0.0.1:\(metricPort)/readyz").0) != 200 {
                guard ContinuousClock.now < deadline else { throw BenchmarkFailure("replicas did not become ready; logs in \(directory.path)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// SIGTERM, then SIGKILL after 15 s.
    static func stop(_ processes: [Process]) async {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        for process in processes {
            let deadline = ContinuousClock.now.advanced(by: .seconds(15))
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// CPU seconds (user + system) so far of process `pid`.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields after the command: state is [0]; utime and stime are fields 14 and 15 of the line, [11] and [12] here.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory of `processes`, summed.
    static func residentBytes(_ processes: [Process]) -> Int {
        processes.reduce(0) { total, process in
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let kilobytes = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
                .split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return total + kilobytes * 1024
        }
    }
}

// MARK: - Vendor clients: requests measured in rounds beside their floors

/// The options every vendor client benchmark takes (`factory-bench hightouch`, `fivetran`, …).
struct VendorBenchmarkOptions: ParsableArguments {
    @Option(help: "Requests per row in each round and concurrency level (a page of 100 runs sends a quarter as many).")
    var requests = 2_000

    @Option(help: "Rounds; the table shows each figure's median over the rounds and their range.")
    var rounds = 5

    @Option(help: "Concurrency levels (requests in flight), comma-separated.")
    var concurrency = "1,16"

    func validate() throws {
        guard self.requests >= 1 else { throw ValidationError("--requests must be at least 1; got \(self.requests).") }
        guard self.rounds >= 1 else { throw ValidationError("--rounds must be at least 1; got \(self.rounds).") }
        let items = self.concurrency.split(separator: ",", omittingEmptySubsequences: false)
        guard !items.isEmpty, items.allSatisfy({ Int($0).map { $0 >= 1 } ?? false }) else {
            throw ValidationError("--concurrency must list positive integers such as 1,16; got '\(self.concurrency)'.")
        }
    }

    var levels: [Int] { self.concurrency.split(separator: ",").compactMap { Int($0) } }
}

/// One vendor request as the driver makes it: sent by the production client, and by the floor
/// (the same method, path, query, headers and body through `VendorHTTPExecutor`, whose answer
/// is not decoded).
struct VendorRequestCase: Sendable {
    /// The request, e.g. `GET /v1/connectors/{id}`.
    var request: String
    /// The client's call, e.g. `connector(id:)`.
    var call: String
    /// Share of `--requests` this row sends: a page of 100 runs is several times the work of a
    /// single object, and would otherwise dominate the run's length.
    var weight: Double = 1
    var floor: @Sendable () async throws -> Void
    var client: @Sendable () async throws -> Void
}

/// A vendor client's rows: a plain HTTP floor (the first case's GET through AsyncHTTPClient
/// alone, no VendorHTTP), then each case's floor and client.
struct VendorBenchmarkPlan: Sendable {
    /// `Fivetran`.
    var vendor: String
    /// The plain HTTP floor: `cases[0]`'s request sent with AsyncHTTPClient alone.
    var plain: @Sendable () async throws -> Void
    var cases: [VendorRequestCase]
    /// Run before each round at each concurrency level, not measured: brings the simulator back
    /// to the same state (its lists and trigger paths scan what earlier rounds created).
    var prepare: @Sendable () async throws -> Void = {}
    /// A line on what the simulator saw, printed under the table.
    var summary: @Sendable () -> String = { "" }
}

/// What one row measured in one round.
struct RequestSample {
    var rate: Double
    var meanMicroseconds: Double
    var p99Microseconds: Double
}

/// Runs a ``VendorBenchmarkPlan`` and renders its table.
enum VendorBenchmark {
    /// Each round and concurrency level: `prepare`, a warm-up of the connection pool, the plain
    /// floor, then each case's floor and client one after the other (the floor first in odd
    /// rounds, the client first in even ones, so that a neighbour's burst or a warming cache
    /// falls on both sides alike). Ratios are taken within a round, then their median.
    static func run(_ plan: VendorBenchmarkPlan, options: VendorBenchmarkOptions) async throws {
        let levels = options.levels
        let lists = plan.cases.filter { $0.weight != 1 }.map { max(1, Int((Double(options.requests) * $0.weight).rounded())) }
        print(
            "\(plan.vendor) client against its in-process simulator (latency 0, no rate limit, no retries): "
                + "\(options.requests) requests per row\(lists.first.map { " (pages of 100 runs: \($0))" } ?? ""), \(options.rounds) rounds, "
                + "concurrency \(levels.map(String.init).joined(separator: " and "))"
        )
        print("machine: \(MachineDescription.hardware()); client and simulator in one process, sharing the cores over loopback")
        print(
            "req/s: median over the rounds (range: lowest–highest); µs/req: mean time per request, p99 µs: its 99th percentile "
                + "(medians over the rounds); ratios: requests per second against the floor's in the same round, median (range) over the rounds"
        )
        // [level][row] → samples over the rounds; row 0 is the plain floor, then floor and client per case.
        var samples = [[[RequestSample]]](repeating: [[RequestSample]](repeating: [], count: 1 + 2 * plan.cases.count), count: levels.count)
        for round in 1...options.rounds {
            for (levelIndex, level) in levels.enumerated() {
                FileHandle.standardError.write(Data("\(plan.vendor): round \(round)/\(options.rounds), concurrency \(level)…\n".utf8))
                try await plan.prepare()
                _ = try await measure(requests: 20 * level, concurrency: level, operation: plan.plain)
                samples[levelIndex][0].append(try await measure(requests: options.requests, concurrency: level, operation: plan.plain))
                for (caseIndex, request) in plan.cases.enumerated() {
                    let count = max(1, Int((Double(options.requests) * request.weight).rounded()))
                    let floorFirst = round % 2 == 1
                    for side in floorFirst ? [0, 1] : [1, 0] {
                        let sample = try await measure(requests: count, concurrency: level, operation: side == 0 ? request.floor : request.client)
                        samples[levelIndex][1 + 2 * caseIndex + side].append(sample)
                    }
                }
            }
        }

        var table = TextTable(columns: ["request", "conc.", "req/s", "range", "µs/req", "p99 µs", "client / floor", "vs plain HTTP"])
        for (levelIndex, level) in levels.enumerated() {
            let rows = samples[levelIndex]
            let plain = rows[0]
            let conc = String(level)
            table.add(["plain HTTP: " + plan.cases[0].request, conc] + figures(plain) + ["", "1.00x"])
            for (caseIndex, request) in plan.cases.enumerated() {
                let floor = rows[1 + 2 * caseIndex]
                let client = rows[2 + 2 * caseIndex]
                // Only the first request is also sent as plain HTTP.
                let againstPlain = caseIndex == 0
                table.add(
                    ["  VendorHTTP: " + request.request, conc] + figures(floor) + ["floor", againstPlain ? ratio(floor, plain, range: false) : ""]
                )
                table.add(
                    ["  client: " + request.call, conc] + figures(client)
                        + [ratio(client, floor, range: true), againstPlain ? ratio(client, plain, range: false) : ""]
                )
            }
        }
        print(table.render())
        let summary = plan.summary()
        if !summary.isEmpty { print(summary) }
    }

    /// Sends `operation` `requests` times over `concurrency` tasks; the rate over the whole and
    /// each request's time.
    static func measure(requests: Int, concurrency: Int, operation: @escaping @Sendable () async throws -> Void) async throws -> RequestSample {
        let lanes = max(1, min(concurrency, requests))
        let clock = ContinuousClock()
        let start = clock.now
        var latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for lane in 0..<lanes {
                let share = requests / lanes + (lane < requests % lanes ? 1 : 0)
                group.addTask {
                    var lane: [Double] = []
                    lane.reserveCapacity(share)
                    for _ in 0..<share {
                        let begin = clock.now
                        try await operation()
                        lane.append((clock.now - begin).microseconds)
                    }
                    return lane
                }
            }
            var all: [Double] = []
            all.reserveCapacity(requests)
            for try await lane in group { all.append(contentsOf: lane) }
            return all
        }
        let seconds = (clock.now - start).seconds
        latencies.sort()
        let mean = latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count)
        let p99 = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        return RequestSample(rate: Double(latencies.count) / seconds, meanMicroseconds: mean, p99Microseconds: p99)
    }

    /// Median rate, its range, median time per request and median p99.
    private static func figures(_ samples: [RequestSample]) -> [String] {
        let rates = samples.map(\.rate)
        return [
            rateText(median(rates)), rateText(rates.min() ?? 0) + "–" + rateText(rates.max() ?? 0),
            String(format: "%.0f", median(samples.map(\.meanMicroseconds))), String(format: "%.0f", median(samples.map(\.p99Microseconds))),
        ]
    }

    /// The median over the rounds of `measured`'s rate over `base`'s in the same round.
    private static func ratio(_ measured: [RequestSample], _ base: [RequestSample], range: Bool) -> String {
        let ratios = zip(measured, base).map { $0.rate / max($1.rate, .leastNonzeroMagnitude) }
        guard !ratios.isEmpty else { return "" }
        let text = String(format: "%.2fx", median(ratios))
        guard range, ratios.count > 1, let low = ratios.min(), let high = ratios.max() else { return text }
        return text + String(format: " (%.2f–%.2f)", low, high)
    }

    /// The middle value (the upper one of the two middles), as `Figure.median` takes it.
    static func median(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.sorted()[values.count / 2]
    }

    private static func rateText(_ rate: Double) -> String {
        rate >= 10_000 ? String(format: "%.1fk", rate / 1_000) : String(format: "%.0f", rate)
    }
}

/// The plain HTTP floor: a GET sent with AsyncHTTPClient alone, with the headers the vendor
/// client sends, its answer collected and not read. No VendorHTTP: no rate limiter, retry loop,
/// typed errors or metrics.
struct PlainHTTPGet: Sendable {
    let url: String
    let headers: HTTPHeaders
    let httpClient: HTTPClient

    /// `authorization` is the whole header value (`Bearer …`, `Basic …`, `Token …`).
    init(url: String, authorization: String, accept: String = "application/json", httpClient: HTTPClient = .shared) {
        self.url = url
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: accept)
        headers.add(name: "User-Agent", value: VendorUserAgent.factoryOperator)
        headers.add(name: "Authorization", value: authorization)
        self.headers = headers
        self.httpClient = httpClient
    }

    func send() async throws {
        var request = HTTPClientRequest(url: self.url)
        request.method = .GET
        request.headers = self.headers
        let response = try await self.httpClient.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 16 << 20)
        guard (200...299).contains(response.status.code) else {
            throw BenchmarkFailure("plain HTTP GET \(self.url) answered \(response.status.code)")
        }
    }
}

/// The simulator's answers over a run whose state is reset between rounds: requests and those
/// outside 2xx, added up before each reset.
final class SimulatorTally: Sendable {
    private let counts = Mutex<(requests: Int, failures: Int)>((0, 0))

    /// Adds a simulator's `requests` counters (route → status → count).
    func add(_ requests: [String: [Int: Int]]) {
        var total = 0
        var failures = 0
        for statuses in requests.values {
            for (status, count) in statuses {
                total += count
                if !(200...299).contains(status) { failures += count }
            }
        }
        self.counts.withLock {
            $0.requests += total
            $0.failures += failures
        }
    }

    var line: String {
        let (requests, failures) = self.counts.withLock { $0 }
        return "simulator: \(requests) requests answered, \(failures) outside 2xx"
    }
}
