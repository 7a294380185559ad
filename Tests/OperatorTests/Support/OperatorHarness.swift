import FactoryModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HightouchDriver
import HightouchSimulator
import JSONSchema
import Logging
import NATSKit
import NATSTestKit
@testable import FactoryEngine
import FactoryState
import Testing

/// A real nats-server, the Hightouch simulator and operator replicas (in this process), with
/// settings that make failures heal in seconds instead of minutes.
final class OperatorHarness: DeploymentHarness, @unchecked Sendable {
    // @unchecked: `replicas` is only changed by the test's own task.
    let server: NATSServerProcess
    let simulator: HightouchSimulator
    let client: NATSConnection
    let jetStream: JetStreamContext
    var replicas: [OperatorRuntime] = []
    private var runs: [Task<Void, Never>] = []
    let baseConfiguration: OperatorConfiguration
    /// The Hightouch deployment's names (the seed operator's, unless `configure` changed them).
    let names: DeploymentNames
    let hightouch: HightouchDriver.Configuration

    static let seedResource = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/resource.yaml")

    private init(
        server: NATSServerProcess, simulator: HightouchSimulator, client: NATSConnection, jetStream: JetStreamContext, configuration: OperatorConfiguration,
        names: DeploymentNames, hightouch: HightouchDriver.Configuration
    ) {
        self.server = server
        self.simulator = simulator
        self.client = client
        self.jetStream = jetStream
        self.baseConfiguration = configuration
        self.names = names
        self.hightouch = hightouch
    }

    static func start(
        replicas count: Int = 1,
        workers: Int = 4,
        runDuration: Duration = .milliseconds(600),
        ackWait: Duration = .seconds(3),
        simulatorRateLimit: HightouchSimulator.RateLimit? = nil,
        server serverConfiguration: NATSServerProcess.Configuration = .init(),
        secure: (inout NATSConfiguration) -> Void = { _ in },
        environment extra: [String: String] = [:],
        configure: (inout OperatorConfiguration) -> Void = { _ in }
    ) async throws -> OperatorHarness {
        let server = try await NATSServerProcess.start(serverConfiguration)
        let simulator = HightouchSimulator(
            configuration: .init(tokens: ["test-secret-token"], knobs: .init(runDuration: runDuration, rateLimit: simulatorRateLimit))
        )
        let port = try await simulator.start()
        var environment = [
            "NATS_URL": server.url,
            "HIGHTOUCH_SERVICE_URL": "http://127.0.0.1:\(port)",
            "HIGHTOUCH_SERVICE_SECRET": "test-secret-token",
            "OPERATOR_MAX_WORKERS": "\(workers)",
            "OPERATOR_RECONCILE_WORKERS_INTERVAL": "200ms",
            "OPERATOR_MAINTENANCE_INTERVAL": "1s",
            "OPERATOR_ACK_WAIT": DurationParser.format(ackWait),
            "HIGHTOUCH_RATE_LIMIT": "100000",
        ]
        environment.merge(extra) { _, new in new }
        var configuration = try OperatorConfiguration(environment: environment, defaults: .hightouchOperator)
        let names = try DeploymentNames.read(from: environment, defaults: HightouchDriver.descriptor.names)
        let hightouch = try HightouchDriver.Configuration(environment: environment)
        secure(&configuration.nats)
        configure(&configuration)
        var clientConfiguration = NATSConfiguration(servers: configuration.nats.servers, name: "test-client")
        secure(&clientConfiguration)
        let client = try await NATSConnection.connect(clientConfiguration)
        let jetStream = try await client.jetStream()
        let harness = OperatorHarness(
            server: server, simulator: simulator, client: client, jetStream: jetStream, configuration: configuration, names: names, hightouch: hightouch
        )
        for index in 0..<count {
            try await harness.addReplica(named: "replica-\(index)")
        }
        return harness
    }

    /// Starts a replica in this process; `driver` may wrap the real Hightouch driver (fault tests).
    func addReplica(
        named name: String, alongside others: [HostedDriver] = [], driver wrap: (@Sendable (HightouchDriver) -> AnyResourceDriver)? = nil
    ) async throws {
        var configuration = baseConfiguration
        configuration.instanceID = name
        var logger = Logger(label: "operator.\(name)")
        logger.logLevel = ProcessInfo.processInfo.environment["OPERATOR_TEST_LOG"] == "1" ? .debug : .critical
        let real = try HightouchDriver(configuration: hightouch, logger: logger)
        let driver = wrap.map { $0(real) } ?? AnyResourceDriver(real)
        let runtime = try await OperatorRuntime.start(configuration: configuration, drivers: [HostedDriver(driver: driver, names: names)] + others, logger: logger)
        replicas.append(runtime)
        runs.append(Task { try? await runtime.run() })
    }

    /// The state store of the first replica.
    var store: StateStore {
        get throws { try #require(replicas.first?.store()) }
    }

    /// The environment for a replica process talking to this harness's server and simulator.
    func processEnvironment(_ extra: [String: String] = [:]) throws -> [String: String] {
        var environment = [
            "NATS_URL": baseConfiguration.nats.servers.joined(separator: ","),
            "HIGHTOUCH_SERVICE_URL": hightouch.serviceURL,
            "HIGHTOUCH_SERVICE_SECRET": "test-secret-token",
            "OPERATOR_MAX_WORKERS": "\(baseConfiguration.maxWorkers)",
            "OPERATOR_RECONCILE_WORKERS_INTERVAL": DurationParser.format(baseConfiguration.reconcileInterval),
            "OPERATOR_MAINTENANCE_INTERVAL": "1s",
            "OPERATOR_ACK_WAIT": DurationParser.format(baseConfiguration.ackWait),
            "HIGHTOUCH_RATE_LIMIT": "100000",
            "METRIC_PORT": "\(try FreePort.pick())",
            "LOG_LEVEL": "info",
        ]
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    let processDirectory: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("operator-processes-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }()

    func startProcess(named name: String, _ extra: [String: String] = [:], arguments: [String] = [], executable: String = "hightouch-operator") throws -> OperatorProcess {
        try OperatorProcess(name: name, environment: processEnvironment(extra), directory: processDirectory, arguments: arguments, executable: executable)
    }

    func stop() async {
        for replica in replicas { replica.shutdown() }
        for run in runs { await run.value }
        await client.close()
        await simulator.stop()
        await server.stop()
    }

    // MARK: - Commands

    static func seedManifest(name: String = "pipeline-01", modelSlug: String? = nil, syncSlug: String? = nil) throws -> ResourceManifest {
        var text = try String(contentsOf: seedResource, encoding: .utf8)
        text = text.replacingOccurrences(of: "name: pipeline-01", with: "name: \(name)")
        if let modelSlug {
            text = text.replacingOccurrences(of: #"slug: "city-retail-01""#, with: #"slug: "\#(modelSlug)""#)
        }
        if let syncSlug {
            text = text.replacingOccurrences(of: #"slug: "icebase-excel-01""#, with: #"slug: "\#(syncSlug)""#)
        }
        return try ResourceManifest.load(from: text)
    }

    // MARK: - Status

    struct SimulatedSync: Decodable {
        var id: Int
        var slug: String
        var disabled: Bool
    }

    /// The simulator's syncs by slug, read through its API.
    func simulatorSyncs() async throws -> [String: SimulatedSync] {
        struct Page: Decodable { var data: [SimulatedSync] }
        var request = URLRequest(url: URL(string: "\(hightouch.serviceURL)/api/v1/syncs?limit=100")!)
        request.setValue("Bearer test-secret-token", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        let page = try JSONDecoder().decode(Page.self, from: data)
        return Dictionary(page.data.map { ($0.slug, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func triggers(syncSlug: String) -> Int {
        simulator.counters().triggersBySyncSlug[syncSlug] ?? 0
    }

}

struct HarnessTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` with a started harness and stops it afterwards.
func withOperator(
    replicas: Int = 1,
    workers: Int = 4,
    runDuration: Duration = .milliseconds(600),
    ackWait: Duration = .seconds(3),
    environment: [String: String] = [:],
    configure: (inout OperatorConfiguration) -> Void = { _ in },
    _ body: (OperatorHarness) async throws -> Void
) async throws {
    let harness = try await OperatorHarness.start(replicas: replicas, workers: workers, runDuration: runDuration, ackWait: ackWait, environment: environment, configure: configure)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}
