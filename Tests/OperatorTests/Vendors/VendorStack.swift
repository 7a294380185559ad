import FactoryModel
import JSONSchema
import Foundation
import SimulatedVendors
import NATSKit
import NATSTestKit
import SimulatorKit

/// One resource type served the way production serves it: a real nats-server, the vendor behind
/// a ``FaultProxy``, and `factory-operator` processes hosting only that type
/// (`OPERATOR_DRIVERS=<type>`), on the type's standard names.
final class VendorStack: DeploymentHarness, @unchecked Sendable {
    // @unchecked: `replicas` is only changed by the test's own task.
    let vendor: any SimulatedVendor
    let server: NATSServerProcess
    let client: NATSConnection
    let jetStream: JetStreamContext
    let names: DeploymentNames
    let proxy: FaultProxy
    /// Where the operator reaches the vendor: the proxy.
    let serviceURL: String
    private(set) var replicas: [String: OperatorProcess] = [:]
    /// Each replica's METRIC_PORT.
    private(set) var metricPorts: [String: Int] = [:]
    /// Every replica's log level (trace for the secret scans).
    let logLevel: String
    /// Variables every replica gets besides the stack's own (they win).
    var extraEnvironment: [String: String] = [:]
    let directory: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vendor-processes-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }()

    private init(vendor: any SimulatedVendor, server: NATSServerProcess, client: NATSConnection, jetStream: JetStreamContext, proxy: FaultProxy, serviceURL: String, logLevel: String) {
        self.vendor = vendor
        self.logLevel = logLevel
        self.server = server
        self.client = client
        self.jetStream = jetStream
        self.names = .standard(type: vendor.type)
        self.proxy = proxy
        self.serviceURL = serviceURL
    }

    static func start(_ vendor: any SimulatedVendor, replicas: [String], logLevel: String = "info") async throws -> VendorStack {
        let server = try await NATSServerProcess.start(.init())
        let upstream = try await vendor.start()
        let proxy = FaultProxy(upstream: upstream)
        let serviceURL = try await proxy.start()
        let client = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "vendor-test-client"))
        let stack = VendorStack(vendor: vendor, server: server, client: client, jetStream: try await client.jetStream(), proxy: proxy, serviceURL: serviceURL, logLevel: logLevel)
        for name in replicas { try stack.startReplica(name) }
        return stack
    }

    /// Starts a `factory-operator` process named `name` (its instance id).
    func startReplica(_ name: String) throws {
        var environment = [
            "NATS_URL": server.url,
            "OPERATOR_DRIVERS": vendor.type,
            "OPERATOR_MAX_WORKERS": "2",
            "OPERATOR_RECONCILE_WORKERS_INTERVAL": "200ms",
            "OPERATOR_MAINTENANCE_INTERVAL": "1s",
            "OPERATOR_ACK_WAIT": "2s",
            "LOG_LEVEL": logLevel,
            "LOG_FORMAT": "json",
        ]
        let metricPort = try FreePort.pick()
        environment["METRIC_PORT"] = "\(metricPort)"
        metricPorts[name] = metricPort
        environment.merge(vendor.environment(serviceURL: serviceURL)) { _, new in new }
        environment.merge(extraEnvironment) { _, new in new }
        replicas[name] = try OperatorProcess(name: name, environment: environment, directory: directory, executable: "factory-operator")
    }

    /// SIGKILLs the replica `name` and waits until it is gone.
    func kill(_ name: String) async {
        metricPorts[name] = nil
        guard let replica = replicas.removeValue(forKey: name) else { return }
        replica.kill()
        _ = await replica.waitForExit()
    }

    /// Every replica's log, for a failing test's output.
    var logs: String {
        replicas.sorted { $0.key < $1.key }.map { "--- \($0.key)\n\($0.value.log.suffix(4000))" }.joined(separator: "\n")
    }

    func apply(_ name: String, spec: JSONValue) async throws {
        let manifest = ResourceManifest(name: try ResourceName(name), version: "v1beta", resource: .init(operator: "factory", type: vendor.type, spec: spec))
        try await publish(.apply(manifest, workspace: try WorkspaceName("public")))
    }

    /// Runs the built `factoryctl` against this stack's server; returns its exit status and output.
    func factoryctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: OperatorProcess.binary("factoryctl"))
        process.arguments = arguments + ["-s", server.url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read before waiting: a full pipe would block the child.
        let data = try await Task.detached { try output.fileHandleForReading.readToEnd() ?? Data() }.value
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func stop() async {
        for (_, replica) in replicas {
            replica.terminate()
            _ = await replica.waitForExit()
        }
        replicas.removeAll()
        await client.close()
        await proxy.stop()
        await vendor.stop()
        await server.stop()
    }
}
