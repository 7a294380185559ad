import ArgumentParser
import Census
import CensusSimulator
import Foundation
import Logging
import NIOHTTP1
import Synchronization

// MARK: - CensusBenchmark

/// `factory-bench census`: the requests the `census` driver makes on each run (the sync read by
/// ensure, the trigger, each look at the sync run, the page of runs the resume check reads),
/// sent by the production client against an in-process simulator with zero latency and no rate
/// limit, each beside its floor: the same request through `VendorHTTPExecutor` with a
/// do-nothing error parser and no decoding. A plain HTTP row (the same GET with AsyncHTTPClient
/// alone) shows what VendorHTTP itself adds.
/// Figures, not assertions; build with `swift build -c release --product factory-bench`.
struct CensusBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "census",
        abstract: "Requests per second of the Census client against its in-process simulator, beside their floors."
    )

    @OptionGroup var options: VendorBenchmarkOptions

    /// The syncs: read, holding the listed runs, and the triggered ones.
    static let readSync = 9_000
    static let runsSync = 9_001
    /// Triggers go round these syncs, one after the other, as an operator triggers many syncs:
    /// the simulator's trigger looks through the sync's earlier runs for one still going.
    static let triggerSyncs = Array(9_100..<9_300)

    func run() async throws {
        let token = "secret-token:bench-token"
        var configuration = CensusSimulator.Configuration(
            tokens: [token],
            syncs: ([Self.readSync, Self.runsSync] + Self.triggerSyncs).map { .init(id: $0, label: "Bench sync \($0)") }
        )
        configuration.knobs.rateLimit = nil
        // Runs end as they start (completed, with their record counts).
        configuration.knobs.runDuration = .zero
        let logger = Logger(label: "census-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let options = self.options
        let tally = SimulatorTally()

        try await withCensusSimulator(configuration: configuration) { simulator in
            let baseURL = "http://127.0.0.1:\(simulator.port ?? 0)"
            let client = try CensusClient(
                configuration: .init(token: VendorSecret(token), baseURL: baseURL, retryPolicy: .none, rateLimit: nil),
                logger: logger
            )
            let floor = VendorHTTPExecutor(
                configuration: .init(vendor: "census", baseURL: baseURL, basePath: "/api/v1", credential: VendorSecret(token), retryPolicy: .none),
                rateLimiter: nil,
                logger: logger,
                parseErrorBody: { _, _ in VendorErrorBody() }
            )
            let plain = PlainHTTPGet(url: "\(baseURL)/api/v1/syncs/\(Self.readSync)", authorization: "Bearer \(token)")

            // 100 earlier runs of the listed sync, a minute apart; the newest is the one looked
            // at. Reset and made again before each round, with the triggered syncs' runs gone.
            @Sendable func seed() throws -> Int {
                var last = 0
                for minutes in (1...100).reversed() {
                    last = try simulator.addPastRun(syncID: Self.runsSync, ago: .seconds(60 * minutes))
                }
                return last
            }
            let lookedAt = try seed()

            let readSync = VendorRequest.get(route: "/syncs/{sync_id}", pathSegments: ["syncs", String(Self.readSync)])
            let readRun = VendorRequest.get(route: "/sync_runs/{sync_run_id}", pathSegments: ["sync_runs", String(lookedAt)])
            let listRuns = VendorRequest.get(
                route: "/syncs/{sync_id}/sync_runs", pathSegments: ["syncs", String(Self.runsSync), "sync_runs"],
                query: [.init("page", "1"), .init("per_page", "100"), .init("order", "desc")]
            )
            let triggers = Self.triggerSyncs.map {
                VendorRequest(method: .POST, route: "/syncs/{sync_id}/trigger", pathSegments: ["syncs", String($0), "trigger"], isIdempotent: false)
            }
            let floorTurn = Turns(count: triggers.count)
            let clientTurn = Turns(count: triggers.count)

            let plan = VendorBenchmarkPlan(
                vendor: "Census",
                plain: { try await plain.send() },
                // The trigger last, as in the other vendors' tables.
                cases: [
                    VendorRequestCase(
                        request: "GET /api/v1/syncs/{id}", call: "sync(id:)",
                        floor: { _ = try await floor.send(readSync) }, client: { _ = try await client.sync(id: CensusID(Self.readSync)) }
                    ),
                    VendorRequestCase(
                        request: "GET /api/v1/sync_runs/{id}", call: "syncRun(id:)",
                        floor: { _ = try await floor.send(readRun) }, client: { _ = try await client.syncRun(id: CensusID(lookedAt)) }
                    ),
                    VendorRequestCase(
                        request: "GET /api/v1/syncs/{id}/sync_runs?per_page=100 (100 runs)", call: "listSyncRunsPage(syncID:page:perPage:order:)",
                        weight: 0.25,
                        floor: { _ = try await floor.send(listRuns) },
                        client: { _ = try await client.listSyncRunsPage(syncID: CensusID(Self.runsSync), page: 1, perPage: 100, order: .descending) }
                    ),
                    VendorRequestCase(
                        request: "POST /api/v1/syncs/{id}/trigger", call: "triggerSync(id:)",
                        floor: { _ = try await floor.send(triggers[floorTurn.next()]) },
                        client: { _ = try await client.triggerSync(id: CensusID(Self.triggerSyncs[clientTurn.next()])) }
                    ),
                ],
                prepare: {
                    tally.add(simulator.counters().requests)
                    simulator.resetObjects()
                    let again = try seed()
                    guard again == lookedAt else {
                        throw BenchmarkFailure("the Census simulator numbered runs differently after a reset (\(again), not \(lookedAt))")
                    }
                },
                summary: {
                    tally.add(simulator.counters().requests)
                    return tally.line
                }
            )
            try await VendorBenchmark.run(plan, options: options)
        }
    }
}

/// Indexes `0..<count` in turn, from any task.
final class Turns: Sendable {
    private let counter = Atomic<Int>(0)
    private let count: Int

    init(count: Int) { self.count = max(1, count) }

    func next() -> Int {
        self.counter.wrappingAdd(1, ordering: .relaxed).oldValue % self.count
    }
}
