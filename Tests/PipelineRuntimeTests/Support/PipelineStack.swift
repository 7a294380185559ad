import FactoryModel
import FactoryState
import Foundation
import HightouchSimulator
import JSONSchema
import NATSKit
import NATSTestKit
import Pipelines
import SimulatedVendors
import SimulatorKit

/// Pipelines served the way production serves them: a real nats-server, every vendor's
/// simulator (Fivetran, dbt Cloud, Census, Hightouch) and a target for HTTP tasks, and
/// `factory-operator` processes hosting every type and `pipeline`.
final class PipelineStack: @unchecked Sendable {
    // @unchecked: `replicas` is only changed by the test's own task.
    let server: NATSServerProcess
    let client: NATSConnection
    let jetStream: JetStreamContext
    let fivetran = SimulatedFivetran()
    let dbtCloud = SimulatedDBTCloud()
    let census = SimulatedCensus()
    let http = SimulatedHTTPTarget()
    let hightouch: HightouchSimulator
    private(set) var urls: [String: String] = [:]
    private(set) var replicas: [String: ReplicaProcess] = [:]
    let extraEnvironment: [String: String]
    let directory: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-processes-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }()

    static let hightouchToken = "ht-pipeline-token-5c1"

    private init(server: NATSServerProcess, client: NATSConnection, jetStream: JetStreamContext, hightouch: HightouchSimulator, environment: [String: String]) {
        self.server = server
        self.client = client
        self.jetStream = jetStream
        self.hightouch = hightouch
        self.extraEnvironment = environment
    }

    /// - Parameters:
    ///   - server: the nats-server's configuration (authorization, say).
    ///   - clientAuthentication: how the test's own client connects (the replicas read NATS_* from `environment`).
    static func start(
        replicas: [String] = ["replica-a", "replica-b"], environment: [String: String] = [:], server configuration: NATSServerProcess.Configuration = .init(),
        clientAuthentication: NATSConfiguration.Authentication? = nil
    ) async throws -> PipelineStack {
        let server = try await NATSServerProcess.start(configuration)
        let hightouch = HightouchSimulator(configuration: .init(tokens: [hightouchToken], knobs: .init(runDuration: .milliseconds(600))))
        var clientConfiguration = NATSConfiguration(servers: [server.url], name: "pipeline-test-client")
        if let clientAuthentication { clientConfiguration.authentication = clientAuthentication }
        let client = try await NATSConnection.connect(clientConfiguration)
        let stack = PipelineStack(server: server, client: client, jetStream: try await client.jetStream(), hightouch: hightouch, environment: environment)
        stack.urls["hightouch"] = "http://127.0.0.1:\(try await hightouch.start())"
        stack.urls["fivetran"] = try await stack.fivetran.start()
        stack.urls["dbtcloud"] = try await stack.dbtCloud.start()
        stack.urls["census"] = try await stack.census.start()
        stack.urls["http"] = try await stack.http.start()
        for name in replicas { try stack.startReplica(name) }
        if !replicas.isEmpty { try await stack.waitUntilProvisioned() }
        return stack
    }

    /// Waits until the replicas provisioned every hosted type's command stream and state bucket
    /// (a command published before finds no stream).
    func waitUntilProvisioned(types: [String] = ["hightouch", "http", "fivetran", "dbtcloud", "census", "pipeline"], timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var missing = types
        while ContinuousClock.now < deadline {
            var still: [String] = []
            for type in missing {
                let names = DeploymentNames.builtIn(type: type)
                do {
                    _ = try await jetStream.streamInfo(names.commandStream)
                    _ = try await jetStream.keyValue(names.stateBucket)
                } catch {
                    still.append(type)
                }
            }
            missing = still
            if missing.isEmpty { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw StackTimeout(description: "the replicas did not provision \(missing.joined(separator: ", ")) in time:\n\(logs)")
    }

    /// Starts a `factory-operator` process named `name` (its instance id).
    func startReplica(_ name: String, drivers: String = "hightouch,http,fivetran,dbtcloud,census,pipeline") throws {
        var environment = [
            "NATS_URL": server.url,
            "OPERATOR_DRIVERS": drivers,
            "OPERATOR_MAX_WORKERS": "4",
            "OPERATOR_RECONCILE_WORKERS_INTERVAL": "200ms",
            "OPERATOR_MAINTENANCE_INTERVAL": "1s",
            "OPERATOR_ACK_WAIT": "2s",
            "PIPELINE_REPUBLISH_AFTER": "2s",
            "LOG_LEVEL": "info",
            "LOG_FORMAT": "json",
            "METRIC_PORT": "\(try FreePort.pick())",
            "HIGHTOUCH_SERVICE_URL": urls["hightouch"] ?? "",
            "HIGHTOUCH_SERVICE_SECRET": Self.hightouchToken,
            "HIGHTOUCH_RATE_LIMIT": "100000",
        ]
        for vendor in [fivetran, dbtCloud, census, http] as [any SimulatedVendor] {
            environment.merge(vendor.environment(serviceURL: urls[vendor.type] ?? "")) { _, new in new }
        }
        environment.merge(extraEnvironment) { _, new in new }
        replicas[name] = try ReplicaProcess(name: name, environment: environment, directory: directory)
    }

    /// SIGKILLs the replica `name` and waits until it is gone.
    func kill(_ name: String) async {
        guard let replica = replicas.removeValue(forKey: name) else { return }
        replica.kill()
        _ = await replica.waitForExit()
    }

    var logs: String {
        replicas.sorted { $0.key < $1.key }.map { "--- \($0.key)\n\($0.value.log.suffix(6000))" }.joined(separator: "\n")
    }

    func stop() async {
        for (_, replica) in replicas {
            replica.terminate()
            _ = await replica.waitForExit()
        }
        replicas.removeAll()
        await client.close()
        await hightouch.stop()
        for vendor in [fivetran, dbtCloud, census, http] as [any SimulatedVendor] { await vendor.stop() }
        await server.stop()
    }

    // MARK: - Commands

    @discardableResult
    func apply(_ name: String, type: String, spec: JSONValue, workspace: String = "public") async throws -> JetStreamPublishAck {
        let manifest = ResourceManifest(name: try ResourceName(name), version: "v1beta", resource: .init(operator: "factory", type: type, spec: spec))
        let envelope = CommandEnvelope.apply(manifest, workspace: try WorkspaceName(workspace))
        return try await jetStream.publish(envelope.encoded(), to: DeploymentNames.builtIn(type: type).commandSubject, options: JetStreamPublishOptions(messageID: envelope.deduplicationID))
    }

    /// Publishes a `run` of pipeline `name`; returns the command id.
    @discardableResult
    func run(_ name: String, workspace: String = "public", input: String? = nil, event: JSONValue? = nil, messageID: String? = nil) async throws -> String {
        let id = messageID ?? "run-\(name)-\(UUID().uuidString.lowercased())"
        let envelope = CommandEnvelope.run(ResourceReference(name: try ResourceName(name), type: "pipeline"), workspace: try WorkspaceName(workspace), input: input, event: event)
        try await jetStream.publish(envelope.encoded(), to: DeploymentNames.pipeline.commandSubject, options: JetStreamPublishOptions(messageID: id))
        return id
    }

    func cancel(_ name: String, run: String?, mode: CancelMode, workspace: String = "public") async throws {
        let envelope = CommandEnvelope.cancel(ResourceReference(name: try ResourceName(name), type: "pipeline"), workspace: try WorkspaceName(workspace), mode: mode, run: run)
        try await jetStream.publish(envelope.encoded(), to: DeploymentNames.pipeline.commandSubject, options: JetStreamPublishOptions(messageID: "cancel-\(UUID().uuidString)"))
    }

    // MARK: - State

    var bucket: KeyValueBucket {
        get async throws { try await jetStream.keyValue(DeploymentNames.pipeline.stateBucket) }
    }

    /// Every run of `pipeline`, oldest first.
    func runs(_ pipeline: String, workspace: String = "public") async throws -> [PipelineRun] {
        let bucket = try await self.bucket
        var runs: [PipelineRun] = []
        for key in try await bucket.keys() where key.hasPrefix("run.\(workspace).\(pipeline).") {
            if let entry = try await bucket.get(key), entry.operation == .put {
                runs.append(try PipelineRunDocument.decode(entry.value, key: key).run)
            }
        }
        return runs.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Waits until some run of `pipeline` satisfies `condition`.
    @discardableResult
    func waitForRun(_ pipeline: String, timeout: Duration = .seconds(60), _ condition: (PipelineRun) -> Bool) async throws -> PipelineRun {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last: [PipelineRun] = []
        while ContinuousClock.now < deadline {
            if let runs = try? await runs(pipeline) {
                last = runs
                if let found = runs.first(where: condition) { return found }
            }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw StackTimeout(description: "no run of \(pipeline) reached the expected state; runs: \(last.map { "\($0.id) \($0.state.rawValue) \($0.reason ?? "") tasks: \($0.tasks.map { "\($0.key)=\($0.value.state.rawValue)" }.sorted())" })")
    }

    /// The run started by command `commandID`, once it satisfies `condition`.
    func waitForRun(command commandID: String, of pipeline: String, timeout: Duration = .seconds(90), _ condition: @escaping (PipelineRun) -> Bool = { $0.state.isFinished }) async throws -> PipelineRun {
        try await waitForRun(pipeline, timeout: timeout) { $0.trigger.commandID == commandID && condition($0) }
    }

    /// A resource's status, read from its type's bucket.
    func status(_ name: String, type: String, workspace: String = "public") async throws -> StatusRecord? {
        let bucket = try await jetStream.keyValue(DeploymentNames.builtIn(type: type).stateBucket)
        guard let entry = try await bucket.get(StateKeys.status(workspace: workspace, name: name)), entry.operation == .put else { return nil }
        return try StateCodec.decode(StatusRecord.self, entry.value, key: entry.key)
    }

    /// Waits until a resource's status satisfies `condition`.
    @discardableResult
    func waitForStatus(_ name: String, type: String, timeout: Duration = .seconds(60), _ condition: (StatusRecord) -> Bool) async throws -> StatusRecord {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last: StatusRecord?
        while ContinuousClock.now < deadline {
            if let status = try? await status(name, type: type) {
                last = status
                if condition(status) { return status }
            }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw StackTimeout(description: "\(type) \(name) did not reach the expected state; last: \(String(describing: last))")
    }

    /// Runs the built `factoryctl` against this stack's server.
    func factoryctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ReplicaProcess.binary("factoryctl"))
        process.arguments = arguments + ["-s", server.url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = try await Task.detached { try output.fileHandleForReading.readToEnd() ?? Data() }.value
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The Hightouch spec of a sync with its own slugs.
    static func hightouchSpec(_ slug: String) -> JSONValue {
        [
            "model": ["name": .string(slug), "slug": .string(slug), "queryType": "raw_sql", "sourceId": "23474", "isSchema": false, "primaryKey": "id", "raw": ["sql": "SELECT 1"]],
            "sync": [
                "slug": .string(slug + "-sync"), "destinationId": "80565", "configuration": ["mode": "mirror"], "disabled": false,
            ],
            "trigger": ["resetCDC": false, "fullResync": false],
        ]
    }

    func hightouchRuns(_ slug: String) -> Int { hightouch.counters().triggersBySyncSlug[slug + "-sync"] ?? 0 }
}

struct StackTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` with a started stack, printing the replicas' logs when it fails.
func withPipelineStack(
    replicas: [String] = ["replica-a", "replica-b"], environment: [String: String] = [:], server: NATSServerProcess.Configuration = .init(),
    clientAuthentication: NATSConfiguration.Authentication? = nil, _ body: (PipelineStack) async throws -> Void
) async throws {
    let stack = try await PipelineStack.start(replicas: replicas, environment: environment, server: server, clientAuthentication: clientAuthentication)
    do {
        try await body(stack)
    } catch {
        print(stack.logs)
        await stack.stop()
        throw error
    }
    await stack.stop()
}
