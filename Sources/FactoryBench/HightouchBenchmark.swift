import ArgumentParser
import Foundation
import Hightouch
import HightouchSimulator
import Logging

// MARK: - HightouchBenchmark

/// `factory-bench hightouch`: requests per second of the production client against an in-process
/// simulator with zero latency and no rate limits, next to floors measured in the same run (the
/// same HTTP requests through `VendorHTTPExecutor` alone: no JSON decoding, no model types).
/// Client and simulator share the machine's cores, so the figures bound both together.
/// Figures, not assertions; build with `swift build -c release --product factory-bench`.
struct HightouchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hightouch",
        abstract: "Requests per second of the Hightouch client against an in-process simulator."
    )

    @Option(help: "Seconds per measurement.")
    var seconds = 3.0

    @Option(help: "Concurrency levels, comma-separated.")
    var concurrency = "1,16"

    func validate() throws {
        guard self.seconds > 0 else { throw ValidationError("--seconds must be positive; got \(self.seconds).") }
        guard !self.levels.isEmpty, self.levels.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--concurrency must list positive integers such as 1,16; got '\(self.concurrency)'.")
        }
    }

    private var levels: [Int] { self.concurrency.split(separator: ",").compactMap { Int($0) } }

    func run() async throws {
        var configuration = HightouchSimulator.Configuration(tokens: ["bench-token"])
        configuration.knobs.rateLimit = nil
        configuration.knobs.runDuration = .seconds(3_600)
        let logger = Logger(label: "hightouch-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let levels = self.levels
        let duration = Duration.milliseconds(Int64(self.seconds * 1_000))

        try await withHightouchSimulator(configuration: configuration) { simulator in
            let port = simulator.port ?? 0
            let client = HightouchClient(
                configuration: .init(
                    token: VendorSecret("bench-token"),
                    baseURL: "http://127.0.0.1:\(port)",
                    retryPolicy: .none,
                    rateLimit: nil
                ),
                logger: logger
            )
            let floor = VendorHTTPExecutor(
                configuration: .init(
                    vendor: "hightouch",
                    baseURL: "http://127.0.0.1:\(port)",
                    basePath: "/api/v1",
                    credential: VendorSecret("bench-token"),
                    retryPolicy: .none
                ),
                rateLimiter: nil,
                logger: logger,
                parseErrorBody: { _, _ in VendorErrorBody() }
            )

            let model = try await client.createModel(
                .rawSQL(name: "bench", slug: "bench", sourceID: 23474, primaryKey: "id", sql: "select 1")
            )
            func sync(_ slug: String) async throws -> HightouchSync {
                try await client.createSync(
                    HightouchSyncCreate(slug: slug, configuration: [:], destinationID: 80565, modelID: model.id, schedule: nil, disabled: false)
                )
            }
            let readSync = try await sync("bench-read")
            let triggerSync = try await sync("bench-trigger")
            let runsSync = try await sync("bench-runs")
            for _ in 0..<100 {
                _ = try await client.triggerRun(syncID: runsSync.id, options: .init(fullResync: false, resetCDC: false))
            }
            let options = HightouchTriggerOptions(fullResync: false, resetCDC: false)
            let rawGet = VendorRequest.get(route: "/syncs/{syncId}", pathSegments: ["syncs", readSync.id.rawValue])
            let rawRuns = VendorRequest.get(
                route: "/syncs/{syncId}/runs",
                pathSegments: ["syncs", runsSync.id.rawValue, "runs"],
                query: [.init("limit", "100"), .init("offset", "0")]
            )

            // Each typed case is compared with the floor row above it.
            let cases: [(name: String, isFloor: Bool, operation: @Sendable () async throws -> Void)] = [
                ("floor: raw GET /syncs/{id}", true, { _ = try await floor.send(rawGet) }),
                ("GET /syncs/{id}", false, { _ = try await client.sync(id: readSync.id) }),
                ("POST /syncs/{id}/trigger", false, { _ = try await client.triggerRun(syncID: triggerSync.id, options: options) }),
                ("GET /syncs/{id}/runs?runId=", false, { _ = try await client.run(syncID: runsSync.id, runID: "500050") }),
                ("floor: raw GET 100 runs", true, { _ = try await floor.send(rawRuns) }),
                ("GET /syncs/{id}/runs (100 runs)", false, { _ = try await client.listSyncRunsPage(syncID: runsSync.id, limit: 100) }),
            ]

            print("Hightouch client against the in-process simulator (zero latency, no rate limits), \(self.seconds) s per case")
            print(Self.row("operation", "conc.", "req/s", "p50 ms", "p99 ms", "vs floor"))
            for level in levels {
                // Warm the connection pool so the first case does not pay for connection setup.
                _ = try await Self.measure(concurrency: level, duration: .milliseconds(300), operation: cases[0].operation)
                var floorRate = 0.0
                for benchmark in cases {
                    let result = try await Self.measure(concurrency: level, duration: duration, operation: benchmark.operation)
                    if benchmark.isFloor { floorRate = result.rate }
                    let ratio = benchmark.isFloor || floorRate == 0 ? "floor" : String(format: "%.2fx", result.rate / floorRate)
                    print(
                        Self.row(
                            benchmark.name,
                            String(level),
                            String(format: "%.0f", result.rate),
                            String(format: "%.2f", result.p50 * 1_000),
                            String(format: "%.2f", result.p99 * 1_000),
                            ratio
                        )
                    )
                }
            }
            let counters = simulator.counters()
            print("simulator: \(counters.totalRequests) requests, \(counters.totalTriggers) triggers, non-2xx: \(counters.totalRequests - counters.responses(status: 200))")
        }
    }

    // MARK: - Measuring

    private struct Result {
        var rate: Double
        var p50: Double
        var p99: Double
    }

    /// Runs `operation` in `concurrency` loops for `duration`; requests per second and latency quantiles.
    private static func measure(
        concurrency: Int,
        duration: Duration,
        operation: @escaping @Sendable () async throws -> Void
    ) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var samples: [Double] = []
                    while clock.now < deadline {
                        let begin = clock.now
                        try await operation()
                        let elapsed = clock.now - begin
                        samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                    }
                    return samples
                }
            }
            var all: [Double] = []
            for try await samples in group { all.append(contentsOf: samples) }
            return all.sorted()
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func quantile(_ q: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]
        }
        return Result(rate: Double(latencies.count) / seconds, p50: quantile(0.5), p99: quantile(0.99))
    }

    private static func row(_ columns: String...) -> String {
        let widths = [34, 6, 10, 9, 9, 9]
        return zip(columns, widths).enumerated().map { index, pair in
            let (text, width) = pair
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return index == 0 ? text + padding : padding + text
        }.joined(separator: " ")
    }
}
