import ArgumentParser
import FactoryModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JSONSchema
import NATSKit
import NATSTestKit
import SimulatorKit
import Synchronization

/// `factory-bench pipelines`: the pipeline runtime with real `factory-operator` processes hosting
/// `http` and `pipeline`, a real nats-server and the in-process HTTP task target (which answers
/// at once, so what is measured is the engine), beside raw KV and JetStream round trips measured
/// in the same run (docs/benchmarks.md, issue 15).
///
/// - scheduling overhead: from a task's end recorded in KV (the server's timestamp of the status
///   write) to the next task's command seen on its subject (by this process, on the same clock),
///   over every edge of `--concurrent` chains run at once;
/// - a fan-out of `--fan-out` tasks in one stage and a chain of `--chain` stages: wall time and the
///   replicas' CPU per task;
/// - memory per active run: resident memory of the replicas with `--active` runs held running
///   (cancelled before the next phase).
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipelines",
        abstract: "Pipeline scheduling overhead, fan-out and chain CPU per task, memory per active run."
    )

    @Option(help: "Pipelines run at once in the overhead phase, each a chain of --chain-length tasks.")
    var concurrent = 100

    @Option(help: "Tasks in each chain of the overhead phase.")
    var chainLength = 5

    @Option(help: "Tasks in the fan-out pipeline's one stage (0 skips it).")
    var fanOut = 1000

    @Option(help: "Stages in the chain pipeline (0 skips it).")
    var chain = 200

    @Option(help: "Runs held running for the memory phase (0 skips it).")
    var active = 100

    @Option(help: "Operator replica processes (hosting `http,pipeline`, or `pipeline` alone with --task-replicas).")
    var replicas = 2

    @Option(help: "Replicas hosting `http` alone, beside --replicas hosting `pipeline` alone (0: every replica hosts both). With them the pipeline engine's CPU is measured apart from the HTTP tasks' own.")
    var taskReplicas = 0

    @Option(help: "OPERATOR_MAX_WORKERS of each replica.")
    var workers = 32

    @Option(help: "The factory-operator binary (default: beside this one).")
    var operatorBinary: String?

    @Option(help: "The nats-server binary (default: NATSTestKit's lookup).")
    var natsServer: String?

    func run() async throws {
        let binary = operatorBinary ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("factory-operator").path
        print(MachineDescription.current(serverExecutable: natsServer))
        let stack = try await PipelineStack.start(replicas: replicas, taskReplicas: taskReplicas, workers: workers, binary: binary, server: natsServer)
        do {
            let floor = try await stack.floor()
            print("floor (this client, idle): KV update p50 \(Self.ms(floor.kvUpdate.p50)), JetStream publish p50 \(Self.ms(floor.publish.p50)), KV write seen by a watch p50 \(Self.ms(floor.watch.p50)); one scheduling step's round trips (watch + run-document update + publish) \(Self.ms(floor.step))")

            // First, while the replicas' memory is still their start-up's (RSS only grows).
            if active > 0 {
                let bytes = try await stack.memoryPhase(runs: active)
                print("memory per active run (\(active) runs held running): \(String(format: "%.1f", Double(bytes) / Double(active) / 1024)) KB of replica RSS")
            }
            let overhead = try await stack.overheadPhase(pipelines: concurrent, length: chainLength)
            print("scheduling overhead, \(concurrent) chains of \(chainLength) at once (\(overhead.edges.count) edges, \(String(format: "%.1f", overhead.wall)) s): p50 \(Self.ms(overhead.edges.p50)), p90 \(Self.ms(overhead.edges.p90)), p99 \(Self.ms(overhead.edges.p99)), max \(Self.ms(overhead.edges.max))  (goal p50 ≤ 20 ms, p99 ≤ 100 ms; p50 / floor step \(String(format: "%.1fx", overhead.edges.p50 / floor.step)))")

            if fanOut > 0 {
                let result = try await stack.shapePhase(name: "bench-fanout", stages: [(name: "all", tasks: fanOut, dependsOn: nil)])
                print("fan-out of \(fanOut) tasks: \(String(format: "%.1f", result.wall)) s, \(String(format: "%.0f", Double(fanOut) / result.wall)) tasks/s; CPU per task: \(result.cpuText(tasks: fanOut))  (goal: engine ≤ 2 ms)")
            }
            if chain > 0 {
                let stages = (0..<chain).map { index in (name: "s\(index)", tasks: 1, dependsOn: index == 0 ? nil : "s\(index - 1)") }
                let result = try await stack.shapePhase(name: "bench-chain", stages: stages)
                print("chain of \(chain) tasks: \(String(format: "%.1f", result.wall)) s, \(Self.ms(result.wall / Double(chain))) per task end to end; CPU per task: \(result.cpuText(tasks: chain))  (goal: engine ≤ 2 ms)")
            }
        } catch {
            print("failed: \(error); replica logs in \(stack.directory.path)")
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }
}

/// Percentiles of durations in seconds.
struct Durations {
    var values: [Double]
    var count: Int { values.count }
    init(_ values: [Double]) { self.values = values.sorted() }
    func quantile(_ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        return values[min(values.count - 1, Int((Double(values.count - 1) * q).rounded()))]
    }
    var p50: Double { quantile(0.5) }
    var p90: Double { quantile(0.9) }
    var p99: Double { quantile(0.99) }
    var max: Double { values.last ?? .nan }
}

/// nats-server, the HTTP task target, and `factory-operator` replicas hosting `http,pipeline`.
final class PipelineStack: @unchecked Sendable {
    // @unchecked: the fields are set once; the benchmark's one task uses them.
    let server: NATSServerProcess
    let target: HTTPTaskTarget
    let targetURL: String
    let client: NATSConnection
    let jetStream: JetStreamContext
    let processes: [Process]
    let directory: URL
    let httpNames = DeploymentNames.builtIn(type: "http")
    let pipelineNames = DeploymentNames.pipeline

    /// How many of ``processes`` (the first ones) host `pipeline` alone; nil: every one hosts both.
    let pipelineReplicas: Int?

    private init(
        server: NATSServerProcess, target: HTTPTaskTarget, targetURL: String, client: NATSConnection, jetStream: JetStreamContext, processes: [Process],
        pipelineReplicas: Int?, directory: URL
    ) {
        self.pipelineReplicas = pipelineReplicas
        self.server = server
        self.target = target
        self.targetURL = targetURL
        self.client = client
        self.jetStream = jetStream
        self.processes = processes
        self.directory = directory
    }

    static func start(replicas: Int, taskReplicas: Int, workers: Int, binary: String, server executable: String?) async throws -> PipelineStack {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchmarkFailure("no factory-operator at \(binary): swift build -c release --product factory-operator, or pass --operator-binary")
        }
        let server = try await NATSServerProcess.start(.init(executable: executable))
        let target = HTTPTaskTarget()
        let targetURL = try await target.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factory-bench-pipelines-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var processes: [Process] = []
        var metricPorts: [Int] = []
        // The pipeline replicas first: `processes[..<replicas]` are the pipeline engine's.
        let drivers = Array(repeating: taskReplicas > 0 ? "pipeline" : "http,pipeline", count: replicas) + Array(repeating: "http", count: taskReplicas)
        for (index, hosted) in drivers.enumerated() {
            let metricPort = try FreePort.pick()
            let process = try ReplicaProcesses.launch(
                binary: binary, index: index,
                environment: [
                    "NATS_URL": server.url, "OPERATOR_DRIVERS": hosted, "OPERATOR_MAX_WORKERS": "\(workers)",
                    "OPERATOR_RECONCILE_WORKERS_INTERVAL": "1s", "METRIC_PORT": "\(metricPort)", "LOG_LEVEL": "warning",
                    "OPERATOR_INSTANCE_ID": "bench-\(index)", "ELECTION_CLUSTER_SIZE": "\(drivers.count)", "LINEAGE_ENABLED": "false",
                    "PIPELINE_WORKERS": "32",
                ],
                directory: directory)
            processes.append(process)
            metricPorts.append(metricPort)
        }
        let client = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "bench-pipelines"))
        let stack = PipelineStack(
            server: server, target: target, targetURL: targetURL, client: client, jetStream: try await client.jetStream(), processes: processes,
            pipelineReplicas: taskReplicas > 0 ? replicas : nil, directory: directory)
        try await ReplicaProcesses.waitReady(metricPorts: metricPorts, timeout: .seconds(90), directory: directory)
        return stack
    }

    // MARK: - Floor

    struct Floor {
        var kvUpdate: Durations
        var publish: Durations
        var watch: Durations
        /// What one scheduling step needs at the least: the task's status write seen by a watch,
        /// the run document's compare-and-set, the next command's publish.
        var step: Double { watch.p50 + kvUpdate.p50 + publish.p50 }
    }

    func floor(rounds: Int = 300) async throws -> Floor {
        let bucket = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: "bench-floor", history: 1))
        try await jetStream.createOrUpdateStream(StreamConfiguration(name: "bench-floor", subjects: ["bench.floor"]))
        var revision = try await bucket.put("k", Array("0".utf8))
        var updates: [Double] = []
        var publishes: [Double] = []
        for index in 0..<rounds {
            var started = ContinuousClock.now
            revision = try await bucket.update("k", Array("\(index)".utf8), expectedRevision: revision)
            updates.append((ContinuousClock.now - started).seconds)
            started = ContinuousClock.now
            _ = try await jetStream.publish(Array("\(index)".utf8), to: "bench.floor", options: JetStreamPublishOptions(messageID: "floor-\(index)"))
            publishes.append((ContinuousClock.now - started).seconds)
        }
        // A write seen by a watch: the put's round trip until the watch delivers it.
        let seen = Mutex<[String: ContinuousClock.Instant]>([:])
        let watch = try await bucket.watch("w.>") { event in
            if case .success(.entry(let entry)) = event { seen.withLock { $0[entry.key] = ContinuousClock.now } }
        }
        var watches: [Double] = []
        for index in 0..<rounds {
            let key = "w.\(index)"
            let started = ContinuousClock.now
            _ = try await bucket.put(key, Array("x".utf8))
            while seen.withLock({ $0[key] }) == nil { try await Task.sleep(for: .microseconds(50)) }
            if let at = seen.withLock({ $0[key] }) { watches.append((at - started).seconds) }
        }
        watch.stop()
        return Floor(kvUpdate: Durations(updates), publish: Durations(publishes), watch: Durations(watches))
    }

    // MARK: - Phases

    /// An HTTP task's parameters: one POST to the target, answered at once.
    func task(_ name: String) -> JSONValue {
        ["name": .string(name), "integration": "http", "job": "http_request",
         "parameters": ["baseUrl": .string(targetURL), "method": "POST", "endpoint": "/jobs", "body": ["task": .string(name)]]]
    }

    func apply(_ name: String, spec: JSONValue) async throws {
        let manifest = ResourceManifest(name: try ResourceName(name), version: "v1beta", resource: .init(operator: "factory", type: "pipeline", spec: spec))
        let envelope = CommandEnvelope.apply(manifest, workspace: try WorkspaceName("public"))
        _ = try await jetStream.publish(envelope.encoded(), to: pipelineNames.commandSubject, options: JetStreamPublishOptions(messageID: envelope.deduplicationID))
    }

    func run(_ name: String) async throws {
        let envelope = CommandEnvelope.run(ResourceReference(name: try ResourceName(name), type: "pipeline"), workspace: try WorkspaceName("public"), input: nil, event: nil)
        _ = try await jetStream.publish(envelope.encoded(), to: pipelineNames.commandSubject, options: JetStreamPublishOptions(messageID: "bench-run-\(name)-\(UUID().uuidString)"))
    }

    /// Cancels pipeline `name`'s oldest run in progress (terminate: `finally` does not run either).
    func cancel(_ name: String) async throws {
        let envelope = CommandEnvelope.cancel(ResourceReference(name: try ResourceName(name), type: "pipeline"), workspace: try WorkspaceName("public"), mode: .terminate, run: nil)
        _ = try await jetStream.publish(envelope.encoded(), to: pipelineNames.commandSubject, options: JetStreamPublishOptions(messageID: "bench-cancel-\(name)-\(UUID().uuidString)"))
    }

    /// Waits until pipeline `name`'s status says it is active (applied, owned resources made).
    func waitApplied(_ names: [String], timeout: Duration = .seconds(300)) async throws {
        let bucket = try await jetStream.keyValue(pipelineNames.stateBucket)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var pending = Set(names)
        while !pending.isEmpty {
            for name in pending {
                if let entry = try await bucket.get("status.public.\(name)"), let status = try? JSONValue(parsing: entry.value),
                    status["phase"]?.stringValue == "active"
                {
                    pending.remove(name)
                }
            }
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("pipelines not applied in time: \(pending.sorted().prefix(5))") }
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// The run documents of the pipelines, once every one has a finished run; throws after `timeout`.
    func waitFinished(_ names: Set<String>, timeout: Duration) async throws -> [String: JSONValue] {
        let bucket = try await jetStream.keyValue(pipelineNames.stateBucket)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            var finished: [String: JSONValue] = [:]
            for key in try await bucket.keys(timeout: .seconds(30)) where key.hasPrefix("run.public.") {
                let parts = key.split(separator: ".")
                guard parts.count == 4, names.contains(String(parts[2])), let entry = try await bucket.get(key),
                    let document = try? JSONValue(parsing: entry.value), let run = document["run"],
                    ["succeeded", "warning", "failed", "cancelled"].contains(run["state"]?.stringValue ?? "")
                else { continue }
                finished[String(parts[2])] = run
            }
            if finished.count == names.count { return finished }
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("\(names.count - finished.count) pipeline runs not finished in time; logs in \(directory.path)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    struct Overhead {
        var edges: Durations
        var wall: Double
    }

    /// `pipelines` chains of `length` HTTP tasks run at once; each edge's overhead from the server's
    /// timestamps.
    func overheadPhase(pipelines: Int, length: Int) async throws -> Overhead {
        let names = (0..<pipelines).map { "bench-edge-\($0)" }
        for name in names {
            let stages: [JSONValue] = (0..<length).map { index in
                var stage: JSONObject = ["name": .string("s\(index)"), "tasks": [task("t\(index)")]]
                if index > 0 { stage["dependsOn"] = [.string("s\(index - 1)")] }
                return .object(stage)
            }
            try await apply(name, spec: ["concurrency": ["limit": 1, "onOverlap": "parallel"], "stages": .array(stages)])
        }
        try await waitApplied(names)

        // The task statuses' writes, as the server stamps them, while the runs go.
        let statusBucket = try await jetStream.keyValue(httpNames.stateBucket)
        let ends = Mutex<[String: Date]>([:])
        let watch = try await statusBucket.watch("status.>") { event in
            guard case .success(.entry(let entry)) = event, entry.operation == .put, let status = try? JSONValue(parsing: entry.value) else { return }
            for run in [status["lastRun"], status["currentRun"]].compactMap({ $0 }) {
                guard let key = run["key"]?.stringValue, ["succeeded", "warning", "failed", "cancelled", "timed_out"].contains(run["phase"]?.stringValue ?? "") else { continue }
                ends.withLock { if $0[key] == nil { $0[key] = entry.created } }
            }
        }
        // Each task command as it is published (`Nats-Msg-Id` `<runId>/<task>/<attempt>`): the
        // command stream is a work queue, so a command is gone once handled; a plain subscriber
        // on its subject sees it within microseconds, stamped by this process's clock, which is
        // the server's (same machine).
        let commands = try await client.subscribe(to: httpNames.commandSubject)
        let published = Mutex<[String: Date]>([:])
        let listener = Task {
            for await message in commands {
                let at = Date()
                if let id = message.headers["Nats-Msg-Id"] { published.withLock { if $0[id] == nil { $0[id] = at } } }
            }
        }
        let started = ContinuousClock.now
        for name in names { try await run(name) }
        let runs = try await waitFinished(Set(names), timeout: .seconds(600))
        let wall = (ContinuousClock.now - started).seconds
        try await Task.sleep(for: .milliseconds(500))
        watch.stop()

        try? commands.unsubscribe()
        listener.cancel()
        let publishedTimes = published.withLock { $0 }
        let endTimes = ends.withLock { $0 }
        var edges: [Double] = []
        for (_, run) in runs {
            guard let id = run["id"]?.stringValue else { continue }
            for index in 1..<length {
                guard let ended = endTimes["\(id)/t\(index - 1)/1"], let next = publishedTimes["\(id)/t\(index)/1"] else { continue }
                edges.append(next.timeIntervalSince(ended))
            }
        }
        guard !edges.isEmpty else { throw BenchmarkFailure("no edge measured: no task end or command found; logs in \(directory.path)") }
        return Overhead(edges: Durations(edges), wall: wall)
    }

    struct Shape {
        var wall: Double
        var replicaCPU: Double
        var serverCPU: Double
        /// Of ``replicaCPU``, the replicas hosting `pipeline` alone (nil: every replica hosts both).
        var pipelineCPU: Double?

        func cpuText(tasks: Int) -> String {
            let per = { (seconds: Double) in PipelineBenchmark.ms(seconds / Double(tasks)) }
            guard let pipelineCPU else { return "replicas \(per(replicaCPU)), nats-server \(per(serverCPU))" }
            return "pipeline engine (its replicas) \(per(pipelineCPU)), HTTP task replicas \(per(replicaCPU - pipelineCPU)), nats-server \(per(serverCPU))"
        }
    }

    /// One pipeline of the given stages, applied then run once: wall time from the run command to
    /// its end, and the CPU the replicas and nats-server spent meanwhile.
    func shapePhase(name: String, stages: [(name: String, tasks: Int, dependsOn: String?)]) async throws -> Shape {
        let spec: [JSONValue] = stages.map { stage in
            var object: JSONObject = ["name": .string(stage.name), "tasks": .array((0..<stage.tasks).map { task("\(stage.name)-\($0)") })]
            if let dependsOn = stage.dependsOn { object["dependsOn"] = [.string(dependsOn)] }
            return .object(object)
        }
        try await apply(name, spec: ["stages": .array(spec), "timeout": "2h"])
        try await waitApplied([name], timeout: .seconds(900))
        let before = cpuSeconds()
        let started = ContinuousClock.now
        try await run(name)
        let runs = try await waitFinished([name], timeout: .seconds(1800))
        let wall = (ContinuousClock.now - started).seconds
        let after = cpuSeconds()
        guard runs[name]?["state"]?.stringValue == "succeeded" else { throw BenchmarkFailure("\(name) ended \(runs[name]?["state"]?.stringValue ?? "?")") }
        return Shape(wall: wall, replicaCPU: after.replicas - before.replicas, serverCPU: after.server - before.server, pipelineCPU: after.pipeline.map { $0 - (before.pipeline ?? 0) })
    }

    /// Resident memory the replicas gain per run held running (an HTTP task polling a job that
    /// never ends).
    func memoryPhase(runs: Int) async throws -> Int {
        let polls = target.state.withLock { state in
            defer { state.pollsBeforeDone = .max }
            return state.pollsBeforeDone
        }
        let names = (0..<runs).map { "bench-held-\($0)" }
        for name in names {
            let polled: JSONValue = ["name": "held", "integration": "http", "job": "http_request",
                "parameters": ["baseUrl": .string(targetURL), "method": "POST", "endpoint": "/jobs", "timeout": "1h",
                    "poll": ["endpoint": "/jobs/$${response./id}", "interval": "5s", "successWhen": ["pointer": "/state", "equals": "done"]]]]
            try await apply(name, spec: ["stages": [["name": "only", "tasks": [polled]]]])
        }
        try await waitApplied(names)
        try await Task.sleep(for: .seconds(3))
        let before = residentBytes()
        for name in names { try await run(name) }
        // Held once every run has its task running.
        let bucket = try await jetStream.keyValue(pipelineNames.stateBucket)
        let deadline = ContinuousClock.now.advanced(by: .seconds(300))
        while true {
            var running = 0
            for key in try await bucket.keys(timeout: .seconds(30)) where key.hasPrefix("run.public.bench-held-") {
                if let entry = try await bucket.get(key), let document = try? JSONValue(parsing: entry.value),
                    document["run"]?["tasks"]?["held"]?["state"]?.stringValue == "running"
                {
                    running += 1
                }
            }
            if running == runs { break }
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("only \(running) of \(runs) held runs running; logs in \(directory.path)") }
            try await Task.sleep(for: .milliseconds(250))
        }
        try await Task.sleep(for: .seconds(3))
        let bytes = max(0, residentBytes() - before)
        // Ended before the next phase, which measures its own runs alone (held, each polls and
        // is looked at every reconcile interval, a steady background of status writes).
        for name in names { try await cancel(name) }
        _ = try await waitFinished(Set(names), timeout: .seconds(300))
        target.state.withLock { $0.pollsBeforeDone = polls }
        return bytes
    }

    // MARK: - Processes

    func cpuSeconds() -> (replicas: Double, server: Double, pipeline: Double?) {
        let each = processes.map { ReplicaProcesses.cpuSeconds($0.processIdentifier) }
        return (each.reduce(0, +), server.processIdentifier.map(ReplicaProcesses.cpuSeconds) ?? 0, pipelineReplicas.map { each.prefix($0).reduce(0, +) })
    }

    func residentBytes() -> Int { ReplicaProcesses.residentBytes(processes) }

    func stop() async {
        await ReplicaProcesses.stop(processes)
        await client.close()
        await target.stop()
        await server.stop()
    }
}
