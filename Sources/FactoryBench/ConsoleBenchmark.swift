import ArgumentParser
import BrowserKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import NATSKit
import NATSTestKit
import Pipelines

/// `factory-bench console`: the web console holding `--resources` resources and a pipeline run of
/// `--tasks` tasks, in headless Chromium (1280x800): the time from asking for a page to its
/// table or DAG drawn in full, and the latency from a KV write to the page showing it (through
/// the console's shared watch, its Server-Sent Events and the page's fetch).
///
/// The documents are written straight into the state buckets (the console reads only KV and
/// does not care who wrote them), so no operator runs; `factoryctl console` runs as a process
/// (the one built beside this executable). Needs Debian's chromium and chromium-driver.
struct ConsoleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The web console with many resources and a large pipeline run: first render and update latency in Chromium.")

    @Option(help: "Resources in the http bucket.")
    var resources = 1000

    @Option(help: "Tasks of the pipeline run (in stages of 100).")
    var tasks = 500

    @Option(help: "Updates measured on each page.")
    var updates = 10

    func run() async throws {
        let server = try await NATSServerProcess.start(.init())
        var console: Process?
        var driver: WebDriver?
        defer {
            if let console, console.isRunning { kill(console.processIdentifier, SIGKILL) }
            driver?.stop()
        }
        do {
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "console-bench"))
            let jetStream = try await connection.jetStream()
            let http = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: DeploymentNames.builtIn(type: "http").stateBucket, history: 1))
            let pipelines = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: DeploymentNames.pipeline.stateBucket, history: 1))

            let seeding = ContinuousClock.now
            for index in 0..<resources {
                try await putResource(index, phase: .active, into: http)
            }
            let (runKey, spec, run) = try makeRun()
            _ = try await pipelines.put(runKey, PipelineRunDocument(run: run, spec: spec).encoded())
            print("seeded \(resources) resources and a run of \(tasks) tasks in \(format(ContinuousClock.now - seeding))")

            let (process, address) = try await startConsole(server.url)
            console = process
            let browser = try await WebDriver.start()
            driver = browser

            // The resources page.
            var start = ContinuousClock.now
            try await browser.open(address + "/")
            try await browser.wait("\(resources) rows", timeout: .seconds(120), "return document.querySelectorAll('tbody tr[data-resource]').length === \(resources)")
            let firstResources = ContinuousClock.now - start
            var resourceLatencies: [Double] = []
            for round in 0..<updates {
                let index = (round * 97) % resources
                try await observe(browser, selector: "[data-resource=\"\(Self.workspace(index))/http/r-\(index)\"]", contains: "error")
                let written = Date().timeIntervalSince1970 * 1000
                try await putResource(index, phase: .error, into: http)
                resourceLatencies.append(try await seen(browser) - written)
                try await Task.sleep(for: .milliseconds(300))
            }

            // The run's DAG.
            start = ContinuousClock.now
            try await browser.open(address + "/pipelines/public/big/runs/\(run.id)")
            try await browser.wait("\(tasks) boxes", timeout: .seconds(120), "return document.querySelectorAll('#dag .task').length === \(tasks)")
            let firstRun = ContinuousClock.now - start
            var runLatencies: [Double] = []
            var current = run
            for round in 0..<updates {
                let task = "t-\((round * 37) % tasks)"
                current.tasks[task]?.state = .running
                try await observe(browser, selector: "[data-task=\"\(task)\"]", contains: "running")
                let written = Date().timeIntervalSince1970 * 1000
                _ = try await pipelines.put(runKey, PipelineRunDocument(run: current, spec: spec).encoded())
                runLatencies.append(try await seen(browser) - written)
                try await Task.sleep(for: .milliseconds(300))
            }
            let bytes = try await browser.execute("return fetch(arguments[0]).then((r) => r.text()).then((t) => t.length)", [.string("/api/pipelines/public/big/runs/\(run.id)")])

            print("")
            print("resources page, \(resources) resources: first render \(format(firstResources)); update latency (KV write to row changed) \(summary(resourceLatencies))")
            print("run page, \(tasks) tasks: first render \(format(firstRun)); update latency (KV write to box changed) \(summary(runLatencies)); run JSON \(bytes.numberValue.map { "\(Int($0.doubleValue / 1024)) KiB" } ?? "?")")
            print("(the resources page reloads at most once a second, the run page every 250 ms: the latencies include that wait)")
            await browser.close()
            driver = nil
            await connection.close()
        } catch {
            await server.stop()
            throw error
        }
        if let console, console.isRunning {
            console.terminate()
            console.waitUntilExit()
        }
        await server.stop()
    }

    private func putResource(_ index: Int, phase: ResourcePhase, into bucket: KeyValueBucket) async throws {
        let name = "r-\(index)"
        let workspace = Self.workspace(index)
        let now = Date()
        let manifest: JSONValue = ["version": "v1beta", "name": .string(name), "type": "resource", "resource": ["operator": "factory", "type": "http", "spec": ["baseUrl": "http://127.0.0.1:1"]]]
        let entity = EntityRecord(
            workspace: workspace, name: name, type: "http", owner: "bench", manifest: manifest, specDigest: "bench", generation: 1, deleted: false,
            lastCommand: nil, activeCommand: nil, createdAt: now, updatedAt: now)
        let status = StatusRecord(workspace: entity.workspace, name: name, type: "http", phase: phase, at: now)
        _ = try await bucket.put(StateKeys.entity(workspace: entity.workspace, name: name), StateCodec.encode(entity))
        _ = try await bucket.put(StateKeys.status(workspace: entity.workspace, name: name), StateCodec.encode(status))
    }

    static func workspace(_ index: Int) -> String { ["public", "sales", "marketing", "finance"][index % 4] }

    private func makeRun() throws -> (String, JSONValue, PipelineRun) {
        var stages: [JSONValue] = []
        let perStage = 100
        for stage in 0..<max(1, (tasks + perStage - 1) / perStage) {
            let range = (stage * perStage)..<min(tasks, (stage + 1) * perStage)
            var entry: JSONObject = [
                "name": .string("stage-\(stage)"),
                "tasks": .array(range.map { ["name": .string("t-\($0)"), "integration": "http", "job": "http_request", "parameters": ["baseUrl": "http://127.0.0.1:1", "method": "GET", "endpoint": "/"]] }),
            ]
            if stage > 0 { entry["dependsOn"] = [.string("stage-\(stage - 1)")] }
            stages.append(.object(entry))
        }
        let spec: JSONValue = ["stages": .array(stages)]
        let decoded: PipelineSpec
        switch PipelineSpec.decode(spec, context: .structural(pipelineName: "big")) {
        case .success(let value): decoded = value
        case .failure(let errors): throw ValidationError("the benchmark's pipeline spec: \(errors)")
        }
        var run = PipelineRun.new(
            id: "20261205-000000-bench0", workspace: "public", pipeline: "big", spec: decoded, specDigest: "bench",
            trigger: RunTrigger(kind: .manual, commandID: "bench"), at: Date())
        run.state = .running
        run.startedAt = Date()
        return (PipelineNames.runKey(workspace: "public", pipeline: "big", run: run.id), spec, run)
    }

    private func startConsole(_ url: String) async throws -> (Process, String) {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("factoryctl")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("console-bench-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["console", "--port", "0", "-s", url]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline, process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { return (process, String(text[range])) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("\(executable.path) console did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    /// Notes (in the page) the wall-clock time `selector`'s element first contains `text`.
    private func observe(_ browser: WebDriver, selector: String, contains text: String) async throws {
        try await browser.execute("""
            window.__seenAt = null;
            const check = () => { const node = document.querySelector(arguments[0]);
              if (!window.__seenAt && node && node.textContent.includes(arguments[1])) window.__seenAt = Date.now(); };
            if (window.__observer) window.__observer.disconnect();
            window.__observer = new MutationObserver(check);
            window.__observer.observe(document.getElementById('main'), { subtree: true, childList: true, characterData: true, attributes: true });
            return true;
            """, [.string(selector), .string(text)])
    }

    private func seen(_ browser: WebDriver) async throws -> Double {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            if let value = try await browser.execute("return window.__seenAt").numberValue { return value.doubleValue }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ValidationError("the page did not show the update within 30 s")
    }

    private func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(Int(Double(seconds) * 1000 + Double(attoseconds) / 1e15)) ms"
    }

    private func summary(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "-" }
        let sorted = values.sorted()
        return "median \(Int(sorted[sorted.count / 2])) ms, max \(Int(sorted.last ?? 0)) ms (\(values.count) updates)"
    }
}
