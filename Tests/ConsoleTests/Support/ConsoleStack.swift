import AsyncHTTPClient
import BrowserKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import NATSKit
import NATSTestKit
import NIOCore
import NIOHTTP1
import Pipelines
import SimulatorKit

/// What the console tests run against: a real nats-server, the HTTP task target, one
/// `factory-operator` process hosting `http` and `pipeline`, and `factoryctl console` processes.
final class ConsoleStack: @unchecked Sendable {
    // @unchecked: the processes are started by the test's own task, then only signalled.
    let server: NATSServerProcess
    let client: NATSConnection
    let jetStream: JetStreamContext
    let target = HTTPTaskTarget()
    private(set) var targetURL = ""
    private(set) var processes: [Process] = []
    let directory: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-tests-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }()

    static let targetToken = "task-target-token-console"
    static let consoleToken = "console-token-7d41e2"

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func binary(_ name: String) -> String {
        for configuration in ["debug", "release"] {
            let candidate = root.appendingPathComponent(".build/\(configuration)/\(name)").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return root.appendingPathComponent(".build/debug/\(name)").path
    }

    private init(server: NATSServerProcess, client: NATSConnection, jetStream: JetStreamContext) {
        self.server = server
        self.client = client
        self.jetStream = jetStream
    }

    static func start() async throws -> ConsoleStack {
        let server = try await NATSServerProcess.start(.init())
        let client = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "console-test-client"))
        let stack = ConsoleStack(server: server, client: client, jetStream: try await client.jetStream())
        stack.targetURL = try await stack.target.start()
        try stack.startOperator()
        try await stack.waitUntilProvisioned()
        return stack
    }

    private func startOperator() throws {
        let environment = [
            "NATS_URL": server.url,
            "OPERATOR_DRIVERS": "http,pipeline",
            "OPERATOR_MAX_WORKERS": "4",
            "OPERATOR_RECONCILE_WORKERS_INTERVAL": "200ms",
            "OPERATOR_MAINTENANCE_INTERVAL": "1s",
            "OPERATOR_ACK_WAIT": "2s",
            "PIPELINE_REPUBLISH_AFTER": "2s",
            "LOG_LEVEL": "info",
            "LOG_FORMAT": "json",
            "METRIC_PORT": "\(try FreePort.pick())",
            "HTTP_TASK_SECRET_ENV": "TARGET_TOKEN",
            "TARGET_TOKEN": Self.targetToken,
            "OPERATOR_INSTANCE_ID": "console-replica",
        ]
        try launch("factory-operator", ["operator", "sync", "--electionStateFile", directory.appendingPathComponent("election.json").path], environment: environment, log: "operator.log")
    }

    @discardableResult
    private func launch(_ binary: String, _ arguments: [String], environment: [String: String] = [:], log: String) throws -> Process {
        let logFile = directory.appendingPathComponent(log)
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary(binary))
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.append(process)
        return process
    }

    func waitUntilProvisioned(timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            var ready = true
            for type in ["http", "pipeline"] {
                let names = DeploymentNames.builtIn(type: type)
                do {
                    _ = try await jetStream.streamInfo(names.commandStream)
                    _ = try await jetStream.keyValue(names.stateBucket)
                } catch {
                    ready = false
                }
            }
            if ready { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw WebDriver.Failure(description: "the operator did not provision http and pipeline in time:\n\(log("operator.log"))")
    }

    /// Starts `factoryctl console` on a free port; returns its address.
    func startConsole(allowActions: Bool, name: String) async throws -> String {
        var arguments = ["console", "--port", "0", "--host", "127.0.0.1", "-s", server.url]
        if allowActions { arguments += ["--allow-actions", "--console-token", Self.consoleToken] }
        let process = try launch("factoryctl", arguments, log: "\(name).log")
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            let text = log("\(name).log")
            if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { return String(text[range]) }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw WebDriver.Failure(description: "factoryctl console did not print its address:\n\(log("\(name).log"))")
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    var logs: String {
        ["operator.log", "console.log", "readonly.log"].map { "--- \($0)\n\(log($0).suffix(5000))" }.joined(separator: "\n")
    }

    func stop() async {
        for process in processes where process.isRunning {
            process.terminate()
        }
        for process in processes {
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        processes.removeAll()
        await client.close()
        await target.stop()
        await server.stop()
    }

    // MARK: - Resources

    /// An HTTP task's parameters against the target (a job polled until done).
    func httpSpec(_ index: Int) -> JSONValue {
        [
            "baseUrl": .string(targetURL), "method": "POST", "endpoint": "/jobs", "body": ["target": .number(JSONNumber(index))],
            "headers": ["Authorization": ["secretEnv": "TARGET_TOKEN"]],
            "poll": [
                "endpoint": "/jobs/${response./id}", "interval": "200ms",
                "successWhen": ["pointer": "/state", "equals": "done"], "failureWhen": ["pointer": "/state", "equals": "failed"],
            ],
        ]
    }

    /// The same inside a pipeline task (a pipeline fills `${…}` first: `$${` keeps it).
    func pipelineTaskParameters(_ index: Int) -> JSONValue {
        let text = String(decoding: httpSpec(index).serializedBytes(sortedKeys: true), as: UTF8.self).replacingOccurrences(of: "${", with: "$${")
        return (try? JSONValue(parsing: Array(text.utf8))) ?? httpSpec(index)
    }

    func apply(_ name: String, type: String, spec: JSONValue, workspace: String = "public") async throws {
        let manifest = ResourceManifest(name: try ResourceName(name), version: "v1beta", resource: .init(operator: "factory", type: type, spec: spec))
        let envelope = CommandEnvelope.apply(manifest, workspace: try WorkspaceName(workspace))
        try await jetStream.publish(envelope.encoded(), to: DeploymentNames.builtIn(type: type).commandSubject, options: JetStreamPublishOptions(messageID: envelope.deduplicationID))
    }

    func bucket(_ type: String) async throws -> KeyValueBucket {
        try await jetStream.keyValue(DeploymentNames.builtIn(type: type).stateBucket)
    }

    func status(_ name: String, type: String) async throws -> StatusRecord? {
        guard let entry = try await bucket(type).get(StateKeys.status(workspace: "public", name: name)), entry.operation == .put else { return nil }
        return try StateCodec.decode(StatusRecord.self, entry.value, key: entry.key)
    }

    func waitForStatus(_ name: String, type: String, timeout: Duration = .seconds(60), _ condition: (StatusRecord) -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if let status = try? await status(name, type: type), condition(status) { return }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw WebDriver.Failure(description: "\(type) \(name) did not reach the expected state:\n\(log("operator.log").suffix(4000))")
    }

    func runs(_ pipeline: String) async throws -> [PipelineRun] {
        let bucket = try await bucket("pipeline")
        var runs: [PipelineRun] = []
        for key in try await bucket.keys() where key.hasPrefix("run.public.\(pipeline).") {
            if let entry = try await bucket.get(key), entry.operation == .put, let document = try? PipelineRunDocument.decode(entry.value, key: key) {
                runs.append(document.run)
            }
        }
        return runs.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    // MARK: - HTTP

    func post(_ url: String, body: String, headers: [(String, String)]) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1024 * 1024)
        return (Int(response.status.code), String(buffer: bytes))
    }

    func get(_ url: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), String(buffer: bytes))
    }
}

/// Runs `body` with a started stack and a browser, printing the processes' logs when it fails.
func withConsoleStack(_ body: (ConsoleStack, WebDriver) async throws -> Void) async throws {
    let stack = try await ConsoleStack.start()
    let driver: WebDriver
    do {
        driver = try await WebDriver.start()
    } catch {
        await stack.stop()
        throw error
    }
    do {
        try await body(stack, driver)
    } catch {
        print(stack.logs)
        await driver.close()
        await stack.stop()
        throw error
    }
    await driver.close()
    await stack.stop()
}
