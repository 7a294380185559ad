import ArgumentParser
import Fivetran
import FivetranSimulator
import Foundation
import Logging
import NIOCore
import NIOHTTP1

// MARK: - FivetranBenchmark

/// `factory-bench fivetran`: the requests the `fivetran` driver makes on each run (the
/// connector read by ensure and baseline, the PATCH that prepares it, the sync call, the looks
/// while it syncs), sent by the production client against an in-process simulator with zero
/// latency and no rate limit, each beside its floor: the same request through
/// `VendorHTTPExecutor` with a do-nothing error parser and no decoding. A plain HTTP row (the
/// same GET with AsyncHTTPClient alone) shows what VendorHTTP itself adds.
/// Figures, not assertions; build with `swift build -c release --product factory-bench`.
struct FivetranBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fivetran",
        abstract: "Requests per second of the Fivetran client against its in-process simulator, beside their floors."
    )

    @OptionGroup var options: VendorBenchmarkOptions

    /// The connectors: read while idle, read while syncing, PATCHed, asked to sync.
    static let idle = "bench_idle"
    static let syncing = "bench_syncing"
    static let patched = "bench_patched"
    static let triggered = "bench_triggered"

    func run() async throws {
        let credential = FivetranSimulator.Credential(apiKey: "bench-key", apiSecret: "bench-secret")
        var configuration = FivetranSimulator.Configuration(
            credentials: [credential],
            connectors: [Self.idle, Self.syncing, Self.patched, Self.triggered].map { .init(id: $0, scheduleType: "manual") }
        )
        configuration.knobs.rateLimit = nil
        // A sync outlasts the run: the looks read a syncing connector, and the sync call finds
        // its sync running (Fivetran's answer is the same; the simulator changes nothing).
        configuration.knobs.syncDuration = .seconds(3_600)
        let logger = Logger(label: "fivetran-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let options = self.options

        try await withFivetranSimulator(configuration: configuration) { simulator in
            let baseURL = "http://127.0.0.1:\(simulator.port ?? 0)"
            let client = try FivetranClient(
                configuration: .init(
                    apiKey: VendorSecret(credential.apiKey), apiSecret: VendorSecret(credential.apiSecret), baseURL: baseURL,
                    retryPolicy: .none, rateLimit: nil
                ),
                logger: logger
            )
            let basic = Data("\(credential.apiKey):\(credential.apiSecret)".utf8).base64EncodedString()
            let floor = VendorHTTPExecutor(
                configuration: .init(
                    vendor: "fivetran", baseURL: baseURL, basePath: "/v1", credential: VendorSecret(basic), authorizationScheme: "Basic",
                    retryPolicy: .none, accept: FivetranClient.Configuration.mediaType, contentType: FivetranClient.Configuration.mediaType
                ),
                rateLimiter: nil,
                logger: logger,
                parseErrorBody: { _, _ in VendorErrorBody() }
            )
            let plain = PlainHTTPGet(
                url: "\(baseURL)/v1/connectors/\(Self.idle)", authorization: "Basic \(basic)", accept: FivetranClient.Configuration.mediaType
            )

            // What the driver's prepare sends; the floor sends the bytes the client encodes.
            let update = FivetranConnectorUpdate(scheduleType: .manual, runSetupTests: false)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let updateBody = ByteBuffer(bytes: try encoder.encode(update))
            func get(_ id: String) -> VendorRequest {
                .get(route: "/connectors/{connectorId}", pathSegments: ["connectors", id])
            }
            let patch = VendorRequest(method: .PATCH, route: "/connectors/{connectorId}", pathSegments: ["connectors", Self.patched], body: updateBody)
            let sync = VendorRequest(
                method: .POST, route: "/connectors/{connectorId}/sync", pathSegments: ["connectors", Self.triggered, "sync"], body: ByteBuffer(string: "{}")
            )
            let readIdle = get(Self.idle)
            let readSyncing = get(Self.syncing)

            let plan = VendorBenchmarkPlan(
                vendor: "Fivetran",
                plain: { try await plain.send() },
                cases: [
                    VendorRequestCase(
                        request: "GET /v1/connectors/{id} (idle)", call: "connector(id:)",
                        floor: { _ = try await floor.send(readIdle) }, client: { _ = try await client.connector(id: Self.idle) }
                    ),
                    VendorRequestCase(
                        request: "PATCH /v1/connectors/{id}", call: "updateConnector(id:_:)",
                        floor: { _ = try await floor.send(patch) }, client: { _ = try await client.updateConnector(id: Self.patched, update) }
                    ),
                    VendorRequestCase(
                        request: "POST /v1/connectors/{id}/sync", call: "syncConnector(id:)",
                        floor: { _ = try await floor.send(sync) }, client: { try await client.syncConnector(id: Self.triggered) }
                    ),
                    VendorRequestCase(
                        request: "GET /v1/connectors/{id} (syncing)", call: "connector(id:)",
                        floor: { _ = try await floor.send(readSyncing) }, client: { _ = try await client.connector(id: Self.syncing) }
                    ),
                ],
                prepare: {
                    simulator.resetConnectors()
                    try simulator.startScheduledSync(connector: Self.syncing)
                    try simulator.startScheduledSync(connector: Self.triggered)
                },
                summary: {
                    let tally = SimulatorTally()
                    tally.add(simulator.counters().requests)
                    return tally.line
                }
            )
            try await VendorBenchmark.run(plan, options: options)
        }
    }
}
