import ArgumentParser
import DBTCloud
import DBTCloudSimulator
import Foundation
import Logging
import NIOCore
import NIOHTTP1

// MARK: - DBTCloudBenchmark

/// `factory-bench dbtcloud`: the requests the `dbtcloud` driver makes on each run (the job read
/// by ensure, the trigger, each look at the run with its steps, the page of the job's runs the
/// resume check reads), sent by the production client against an in-process simulator with zero
/// latency and no rate limit, each beside its floor: the same request through
/// `VendorHTTPExecutor` with a do-nothing error parser and no decoding. A plain HTTP row (the
/// same GET with AsyncHTTPClient alone) shows what VendorHTTP itself adds.
/// Figures, not assertions; build with `swift build -c release --product factory-bench`.
struct DBTCloudBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbtcloud",
        abstract: "Requests per second of the dbt Cloud client against its in-process simulator, beside their floors."
    )

    @OptionGroup var options: VendorBenchmarkOptions

    static let account = 24_680
    /// The jobs: read, triggered, and holding the runs that are looked at and listed.
    static let readJob = 50_001
    static let triggerJob = 50_002
    static let runsJob = 50_003

    func run() async throws {
        var configuration = DBTCloudSimulator.Configuration(
            accountID: Self.account, tokens: ["bench-token"],
            jobs: [
                .init(id: Self.readJob, name: "Bench read"), .init(id: Self.triggerJob, name: "Bench trigger"),
                .init(id: Self.runsJob, name: "Bench runs"),
            ]
        )
        configuration.knobs.rateLimit = nil
        // Runs end as they start: a look at one shows every step, as the last look of a run does.
        configuration.knobs.runDuration = .zero
        let logger = Logger(label: "dbtcloud-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let options = self.options
        let tally = SimulatorTally()

        try await withDBTCloudSimulator(configuration: configuration) { simulator in
            let baseURL = "http://127.0.0.1:\(simulator.port ?? 0)"
            let client = try DBTCloudClient(
                configuration: .init(token: VendorSecret("bench-token"), baseURL: baseURL, retryPolicy: .none, rateLimit: nil),
                logger: logger
            )
            let floor = VendorHTTPExecutor(
                configuration: .init(
                    vendor: "dbtcloud", baseURL: baseURL, basePath: DBTCloudClient.basePath, credential: VendorSecret("bench-token"),
                    authorizationScheme: "Token", retryPolicy: .none
                ),
                rateLimiter: nil,
                logger: logger,
                parseErrorBody: { _, _ in VendorErrorBody() }
            )
            let account = String(Self.account)
            let plain = PlainHTTPGet(url: "\(baseURL)/api/v2/accounts/\(account)/jobs/\(Self.readJob)/", authorization: "Token bench-token")

            // The driver's trigger: a cause carrying the command's marker (DBTCloudMarker's form).
            let trigger = DBTCloudTriggerRequest(cause: "Triggered by FactoryOperator [factory:bench-01JBENCHMARK0000000000000]")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let triggerBody = ByteBuffer(bytes: try encoder.encode(trigger))
            // The resume check's page: the job's newest 100 runs with their triggers (causes).
            let listFilter = DBTCloudRunFilter(jobDefinitionID: Self.runsJob, orderBy: "-id", includeRelated: [.trigger])

            // 100 runs of the listed job; the last is the one looked at. Reset and made again
            // before each round: the simulator's run list scans every run of the account.
            @Sendable func seed() async throws -> Int {
                var last = 0
                for _ in 0..<100 {
                    last = try await client.triggerRun(account: Self.account, jobID: Self.runsJob, trigger).id
                }
                return last
            }
            let lookedAt = try await seed()

            let readJob = VendorRequest.get(
                route: "/accounts/{accountId}/jobs/{jobId}/", pathSegments: ["accounts", account, "jobs", String(Self.readJob), ""]
            )
            let triggerRun = VendorRequest(
                method: .POST, route: "/accounts/{accountId}/jobs/{jobId}/run/",
                pathSegments: ["accounts", account, "jobs", String(Self.triggerJob), "run", ""], body: triggerBody
            )
            let readRun = VendorRequest.get(
                route: "/accounts/{accountId}/runs/{runId}/", pathSegments: ["accounts", account, "runs", String(lookedAt), ""],
                query: [.init("include_related", "[\"run_steps\"]")]
            )
            let listRuns = VendorRequest.get(
                route: "/accounts/{accountId}/runs/", pathSegments: ["accounts", account, "runs", ""],
                query: [
                    .init("job_definition_id", String(Self.runsJob)), .init("order_by", "-id"), .init("include_related", "[\"trigger\"]"),
                    .init("limit", "100"), .init("offset", "0"),
                ]
            )

            let plan = VendorBenchmarkPlan(
                vendor: "dbt Cloud",
                plain: { try await plain.send() },
                // The trigger last: each round's list then reads the same 100 runs of the account.
                cases: [
                    VendorRequestCase(
                        request: "GET …/jobs/{id}/", call: "job(account:id:)",
                        floor: { _ = try await floor.send(readJob) }, client: { _ = try await client.job(account: Self.account, id: Self.readJob) }
                    ),
                    VendorRequestCase(
                        request: "GET …/runs/{id}/?include_related=[\"run_steps\"]", call: "run(account:id:including:)",
                        floor: { _ = try await floor.send(readRun) },
                        client: { _ = try await client.run(account: Self.account, id: lookedAt, including: [.runSteps]) }
                    ),
                    VendorRequestCase(
                        request: "GET …/runs/?job_definition_id=…&limit=100 (100 runs)", call: "listRunsPage(account:_:limit:offset:)",
                        weight: 0.25,
                        floor: { _ = try await floor.send(listRuns) },
                        client: { _ = try await client.listRunsPage(account: Self.account, listFilter, limit: 100, offset: 0) }
                    ),
                    VendorRequestCase(
                        request: "POST …/jobs/{id}/run/", call: "triggerRun(account:jobID:_:)",
                        floor: { _ = try await floor.send(triggerRun) },
                        client: { _ = try await client.triggerRun(account: Self.account, jobID: Self.triggerJob, trigger) }
                    ),
                ],
                prepare: {
                    tally.add(simulator.counters().requests)
                    simulator.resetObjects()
                    let again = try await seed()
                    guard again == lookedAt else {
                        throw BenchmarkFailure("the dbt Cloud simulator numbered runs differently after a reset (\(again), not \(lookedAt))")
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
