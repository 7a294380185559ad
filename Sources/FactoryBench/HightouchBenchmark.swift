import ArgumentParser
import Foundation
import Hightouch
import HightouchSimulator
import Logging
import NIOCore
import NIOHTTP1

// MARK: - HightouchBenchmark

/// `factory-bench hightouch`: requests per second of the production client against an in-process
/// simulator with zero latency and no rate limits, each beside its floor measured in the same
/// round (the same HTTP request through `VendorHTTPExecutor` alone: no JSON decoding, no model
/// types), and a plain HTTP row (the same GET with AsyncHTTPClient alone) that shows what
/// VendorHTTP itself adds. Client and simulator share the machine's cores, so the figures bound
/// both together. Figures, not assertions; build with `swift build -c release --product factory-bench`.
struct HightouchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hightouch",
        abstract: "Requests per second of the Hightouch client against its in-process simulator, beside their floors."
    )

    @OptionGroup var options: VendorBenchmarkOptions

    func run() async throws {
        var configuration = HightouchSimulator.Configuration(tokens: ["bench-token"])
        configuration.knobs.rateLimit = nil
        configuration.knobs.runDuration = .seconds(3_600)
        let logger = Logger(label: "hightouch-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let options = self.options

        try await withHightouchSimulator(configuration: configuration) { simulator in
            let baseURL = "http://127.0.0.1:\(simulator.port ?? 0)"
            let client = HightouchClient(
                configuration: .init(token: VendorSecret("bench-token"), baseURL: baseURL, retryPolicy: .none, rateLimit: nil),
                logger: logger
            )
            let floor = VendorHTTPExecutor(
                configuration: .init(vendor: "hightouch", baseURL: baseURL, basePath: "/api/v1", credential: VendorSecret("bench-token"), retryPolicy: .none),
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
            let triggerOptions = HightouchTriggerOptions(fullResync: false, resetCDC: false)
            var lookedAt = HightouchID("0")
            for _ in 0..<100 {
                lookedAt = try await client.triggerRun(syncID: runsSync.id, options: triggerOptions)
            }
            let runID = lookedAt

            // The floor sends the bytes the client encodes (sorted keys).
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let triggerBody = ByteBuffer(bytes: try encoder.encode(triggerOptions))
            let plain = PlainHTTPGet(url: "\(baseURL)/api/v1/syncs/\(readSync.id.rawValue)", authorization: "Bearer bench-token")
            let readRequest = VendorRequest.get(route: "/syncs/{syncId}", pathSegments: ["syncs", readSync.id.rawValue])
            let triggerRequest = VendorRequest(
                method: .POST, route: "/syncs/{syncId}/trigger", pathSegments: ["syncs", triggerSync.id.rawValue, "trigger"], body: triggerBody
            )
            func runs(_ query: [VendorRequest.QueryItem]) -> VendorRequest {
                .get(route: "/syncs/{syncId}/runs", pathSegments: ["syncs", runsSync.id.rawValue, "runs"], query: query + [.init("limit", "100"), .init("offset", "0")])
            }
            let runRequest = runs([.init("runId", runID.rawValue)])
            let listRequest = runs([])

            let plan = VendorBenchmarkPlan(
                vendor: "Hightouch",
                plain: { try await plain.send() },
                cases: [
                    VendorRequestCase(
                        request: "GET /api/v1/syncs/{id}", call: "sync(id:)",
                        floor: { _ = try await floor.send(readRequest) }, client: { _ = try await client.sync(id: readSync.id) }
                    ),
                    VendorRequestCase(
                        request: "POST /api/v1/syncs/{id}/trigger", call: "triggerRun(syncID:options:)",
                        floor: { _ = try await floor.send(triggerRequest) },
                        client: { _ = try await client.triggerRun(syncID: triggerSync.id, options: triggerOptions) }
                    ),
                    VendorRequestCase(
                        request: "GET /api/v1/syncs/{id}/runs?runId=", call: "run(syncID:runID:)",
                        floor: { _ = try await floor.send(runRequest) }, client: { _ = try await client.run(syncID: runsSync.id, runID: runID) }
                    ),
                    VendorRequestCase(
                        request: "GET /api/v1/syncs/{id}/runs (100 runs)", call: "listSyncRunsPage(syncID:limit:)",
                        weight: 0.25,
                        floor: { _ = try await floor.send(listRequest) },
                        client: { _ = try await client.listSyncRunsPage(syncID: runsSync.id, limit: 100) }
                    ),
                ],
                summary: {
                    let counters = simulator.counters()
                    return "simulator: \(counters.totalRequests) requests answered, \(counters.totalTriggers) triggers, "
                        + "\(counters.totalRequests - counters.responses(status: 200)) outside 200"
                }
            )
            try await VendorBenchmark.run(plan, options: options)
        }
    }
}
