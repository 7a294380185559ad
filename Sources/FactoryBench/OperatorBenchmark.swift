import ArgumentParser
import FactoryModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HightouchSimulator
import NATSKit
import NATSTestKit

/// `factory-bench operator`: the operator end to end, with real `hightouch-operator` processes,
/// a real nats-server and the in-process Hightouch simulator, beside the raw cnats floor measured
/// in the same run.
///
/// - applies per second: distinct resources published as fast as the publisher can, until every
///   command is acknowledged (the consumer has nothing pending) and every sync triggered once;
/// - NATS round trips per apply, from the replicas' own metrics, and what they imply at the raw
///   serial round-trip rate;
/// - status query latency while the applies run, beside raw request-reply;
/// - resident memory per followed run (runs kept running while the replicas follow them).
struct OperatorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "End-to-end applies per second, status query latency under load, memory per followed run."
    )

    @Option(help: "Applies (distinct resources) in the throughput phase.")
    var applies = 2000

    @Option(help: "Operator replica processes.")
    var replicas = 2

    @Option(help: "OPERATOR_MAX_WORKERS of each replica.")
    var workers = 32

    @Option(help: "Simulated vendor latency per request, e.g. 0ms or 50ms.")
    var latency = "0ms"

    @Option(help: "Runs kept running for the memory phase (0 skips it).")
    var followRuns = 2000

    @Option(help: "Commands published at once by the benchmark's publisher.")
    var publishConcurrency = 64

    @Option(help: "Replica counts for the scaling phase, e.g. 1,2,4 (empty skips it).")
    var scaling = ""

    @Option(help: "Applies per step of the scaling phase.")
    var scalingApplies = 300

    @Option(help: "Vendor latency in the scaling phase.")
    var scalingLatency = "50ms"

    @Option(help: "OPERATOR_MAX_WORKERS in the scaling phase.")
    var scalingWorkers = 8

    @Option(help: "Runs kept running and followed by two replicas for the freshness phase (0 skips it).")
    var manyRuns = 0

    @Option(help: "Seconds the freshness phase samples for.")
    var manySample = 20

    @Flag(help: "Measure throughput at the vendor's rate limit and count 429 answers.")
    var rateLimitCheck = false

    @Option(help: "Applies in the rate-limit phase.")
    var rateLimitApplies = 120

    @Flag(help: "Everything: scaling 1,2,4; 10,000 followed runs; the rate-limit check.")
    var suite = false

    @Option(help: "The hightouch-operator binary (default: next to factory-bench).")
    var operatorBinary: String?

    @Option(help: "The C floor's source.")
    var rawSource = "scripts/bench/raw_cnats.c"

    @Option(help: "nats-server binary (default: NATS_SERVER_BIN, .venv, PATH).")
    var server: String?

    func run() async throws {
        let latency = try parseDuration(self.latency)
        print(MachineDescription.current(serverExecutable: server))
        FileHandle.standardError.write(Data("raw cnats floor…\n".utf8))
        let rawBinary = try RawFloor.compile(source: rawSource)
        let raw = try await RawFloor.measure(binary: rawBinary, count: 3000, server: server)
        let rawRate = { (operation: String) in raw.first { $0.operation == operation }?.rate ?? 0 }
        let rawRequest = raw.first { $0.operation == "request_reply" }

        let stack = try await Stack.start(replicas: replicas, workers: workers, latency: latency, binary: binary(), server: server)
        defer { Task { await stack.stop() } }
        FileHandle.standardError.write(Data("\(replicas) replicas up; publishing \(applies) applies… (client closed: \(stack.client.isClosed), connected: \(stack.client.isConnected))\n".utf8))

        // Phase 1: throughput, with status queries sampled meanwhile.
        let names = (0..<applies).map { String(format: "bench-%05d", $0) }
        let commands = try names.map { try Self.command(name: $0) }
        let sampler = try await LoadedLatencySampler.start(
            binary: rawBinary, url: stack.server.url, subject: "hightouch.pipeline.run.query",
            query: #"{"workspace":"public","name":"\#(names[0])"}"#
        )
        let cpuBefore = stack.cpuSeconds()
        let started = ContinuousClock.now
        try await publish(commands, on: stack.jetStream)
        let published = ContinuousClock.now
        try await stack.waitUntilDrained(timeout: .seconds(600))
        let finished = ContinuousClock.now
        let cpuAfter = stack.cpuSeconds()
        let latencies = try await sampler.finish()
        let elapsed = finished - started
        let triggers = stack.simulator.counters().triggersBySyncSlug
        let exact = names.allSatisfy { triggers["sync-\($0)"] == 1 }
        let metrics = try await stack.scrapeMetrics()
        let kvPerApply = metrics.sum("factory_kv_operations_total") / Double(applies)
        let vendorPerApply = metrics.sum("factory_vendor_requests_total") / Double(applies)
        // Per apply: its KV reads and writes, the follow-up publish, the synchronous ack.
        let roundTrips = kvPerApply + 2
        let serialFloor = rawRate("kv_update") / roundTrips

        // Phase 2: memory per followed run. Two equal batches do the same processing work; the
        // first one's runs end at once, the second one's keep running (an hour) and are followed.
        // The difference in resident memory is what following costs.
        var memoryRow: [String]?
        if followRuns > 0 {
            FileHandle.standardError.write(Data("memory baseline (\(followRuns) instant runs)…\n".utf8))
            let baseline = try (0..<followRuns).map { try Self.command(name: String(format: "short-%05d", $0)) }
            try await publish(baseline, on: stack.jetStream)
            try await stack.waitUntilDrained(timeout: .seconds(600))
            try await Task.sleep(for: .seconds(5))  // follow-ups done, garbage settled
            let before = stack.residentBytes()
            FileHandle.standardError.write(Data("following \(followRuns) long runs…\n".utf8))
            stack.simulator.updateKnobs { $0.runDuration = .seconds(3600) }
            let followed = try (0..<followRuns).map { try Self.command(name: String(format: "long-%05d", $0)) }
            try await publish(followed, on: stack.jetStream)
            try await stack.waitUntilDrained(timeout: .seconds(600))
            try await Task.sleep(for: .seconds(5))  // several reconcile cycles
            let after = stack.residentBytes()
            let inFlight = try await stack.jetStream.streamInfo("dataos-hightouch-followups").state.messages
            let perRun = Double(after - before) / Double(max(1, followRuns))
            memoryRow = [
                "resident memory per followed run", String(format: "%.0f B", perRun),
                "\(inFlight) runs being followed; RSS of \(replicas) replicas \(before / 1_048_576) → \(after / 1_048_576) MiB (same work, runs ended vs running)", "",
            ]
        }

        var table = TextTable(columns: ["figure", "measured", "floor (raw cnats, same run)", "ratio"])
        table.add([
            "end-to-end applies/s (\(replicas) replicas × \(workers) workers, vendor latency \(self.latency))",
            String(format: "%.0f", Double(applies) / elapsed.seconds),
            String(format: "%.0f applies/s if each round trip ran serially at raw speed (%.0f KV/JS round trips per apply at %.0f/s)", serialFloor, roundTrips, rawRate("kv_update")),
            String(format: "%.1fx", Double(applies) / elapsed.seconds / max(serialFloor, 1)),
        ])
        table.add(["  publishing \(applies) commands took", String(format: "%.2f s", (published - started).seconds), "", ""])
        table.add(["  KV operations per apply (from replica metrics)", String(format: "%.1f", kvPerApply), "", ""])
        table.add(["  vendor requests per apply", String(format: "%.1f", vendorPerApply), "", ""])
        table.add(["  exactly one trigger per apply", exact ? "yes" : "NO", "", ""])
        if let rawRequest, let status = latencies.status, let echo = latencies.echo {
            table.add([
                "status query p50 under load (µs, \(status.count) queries, \(status.failures) failed)", String(format: "%.0f", status.p50),
                String(format: "%.0f (raw request-reply, same client, same moments)", echo.p50), String(format: "%.2fx", status.p50 / echo.p50),
            ])
            table.add([
                "status query p99 under load (µs)", String(format: "%.0f", status.p99),
                String(format: "%.0f (raw request-reply, same client, same moments)", echo.p99), String(format: "%.2fx", status.p99 / echo.p99),
            ])
            table.add([
                "  the same against raw request-reply on an idle machine", String(format: "p50 %.0f, p99 %.0f", status.p50, status.p99),
                String(format: "p50 %.0f, p99 %.0f (raw, unloaded)", rawRequest.p50, rawRequest.p99),
                String(format: "%.1fx, %.1fx", status.p50 / rawRequest.p50, status.p99 / rawRequest.p99),
            ])
        }
        let cpu = ["nats-server", "replicas", "benchmark (publisher, simulator)"].map { part in
            String(format: "%@ %.2f ms", part, 1000 * ((cpuAfter[part] ?? 0) - (cpuBefore[part] ?? 0)) / Double(applies))
        }
        table.add(["  CPU per apply", cpu.joined(separator: ", "), String(format: "%.1f CPU-seconds in %.1f s on %d cores", cpuAfter.values.reduce(0, +) - cpuBefore.values.reduce(0, +), elapsed.seconds, ProcessInfo.processInfo.activeProcessorCount), ""])
        if let memoryRow { table.add(memoryRow) }
        await stack.stop()

        var allExact = exact
        let scalingCounts = (suite && scaling.isEmpty ? "1,2,4" : scaling).split(separator: ",").compactMap { Int($0) }
        if !scalingCounts.isEmpty {
            let (rows, exactly) = try await scalingRows(scalingCounts)
            rows.forEach { table.add($0) }
            allExact = allExact && exactly
        }
        let runs = suite && manyRuns == 0 ? 10_000 : manyRuns
        if runs > 0 {
            try await manyRunsRows(runs).forEach { table.add($0) }
        }
        if rateLimitCheck || suite {
            try await rateLimitRows().forEach { table.add($0) }
        }
        print(table.render())
        if !allExact { throw ExitCode(1) }
    }

    // MARK: - Scaling

    private func scalingRows(_ counts: [Int]) async throws -> ([[String]], Bool) {
        let latency = try parseDuration(scalingLatency)
        var rows: [[String]] = []
        var perReplica: Double?
        var allExact = true
        for count in counts {
            FileHandle.standardError.write(Data("scaling: \(count) replica(s)…\n".utf8))
            let stack = try await Stack.start(replicas: count, workers: scalingWorkers, latency: latency, binary: binary(), server: server)
            let names = (0..<scalingApplies).map { String(format: "scale%d-%05d", count, $0) }
            let commands = try names.map { try Self.command(name: $0) }
            let started = ContinuousClock.now
            try await publish(commands, on: stack.jetStream)
            try await stack.waitUntilDrained(timeout: .seconds(900))
            let rate = Double(scalingApplies) / (ContinuousClock.now - started).seconds
            let triggers = stack.simulator.counters().triggersBySyncSlug
            allExact = allExact && names.allSatisfy { triggers["sync-\($0)"] == 1 }
            await stack.stop()
            let linear = (perReplica ?? rate / Double(count)) * Double(count)
            if perReplica == nil { perReplica = rate / Double(count) }
            rows.append([
                "applies/s, \(count) replica(s) × \(scalingWorkers) workers, vendor latency \(scalingLatency)",
                String(format: "%.1f", rate),
                String(format: "%.1f (linear from %d replica(s))", linear, counts[0]),
                String(format: "%.2f", rate / linear),
            ])
        }
        return (rows, allExact)
    }

    // MARK: - Many runs followed

    private func manyRunsRows(_ count: Int) async throws -> [[String]] {
        FileHandle.standardError.write(Data("freshness: applying \(count) resources whose runs keep running…\n".utf8))
        let interval = 10.0
        let stack = try await Stack.start(
            replicas: 2, workers: 32, latency: .zero, binary: binary(), server: server,
            environment: ["OPERATOR_RECONCILE_WORKERS_INTERVAL": "10s"], knobs: { $0.runDuration = .seconds(3600) }
        )
        let commands = try (0..<count).map { try Self.command(name: String(format: "run-%05d", $0)) }
        try await publish(commands, on: stack.jetStream)
        try await stack.waitUntilDrained(timeout: .seconds(900))
        try await Task.sleep(for: .seconds(interval + 2))  // every run has had its first look
        FileHandle.standardError.write(Data("freshness: sampling for \(manySample) s…\n".utf8))
        let cpuBefore = stack.cpuSeconds()
        let started = ContinuousClock.now
        var ages: [Double] = []
        var followed = 0
        var generator = SystemRandomNumberGenerator()
        while ContinuousClock.now - started < .seconds(manySample) {
            // What a user sees: status queries for resources picked at random.
            for _ in 0..<100 {
                let name = String(format: "run-%05d", Int(generator.next(upperBound: UInt64(count))))
                if let age = try await Self.lookAge(stack.client, name: name) {
                    ages.append(age)
                    followed += 1
                }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let elapsed = (ContinuousClock.now - started).seconds
        let cpuAfter = stack.cpuSeconds()
        let resident = stack.residentBytes()
        let inFlight = try await stack.jetStream.streamInfo("dataos-hightouch-followups").state.messages
        await stack.stop()
        ages.sort()
        guard !ages.isEmpty else { return [["\(count) runs followed", "no look recorded", "", ""]] }
        let p50 = ages[ages.count / 2]
        let p99 = ages[min(ages.count - 1, ages.count * 99 / 100)]
        func load(_ part: String) -> String {
            String(format: "%.0f%%", 100 * ((cpuAfter[part] ?? 0) - (cpuBefore[part] ?? 0)) / elapsed)
        }
        return [
            ["\(count) runs running, followed by 2 replicas: status freshness p50 (age of the last look)", String(format: "%.1f s", p50), String(format: "%.0f s (reconcile interval)", interval), String(format: "%.2f", p50 / interval)],
            ["  status freshness p99", String(format: "%.1f s", p99), String(format: "%.0f s", interval), String(format: "%.2f", p99 / interval)],
            ["  CPU (one core = 100%)", "replicas \(load("replicas")), nats-server \(load("nats-server")), simulator \(load("benchmark (publisher, simulator)"))", "", ""],
            ["  resident memory of the 2 replicas", "\(resident / 1_048_576) MiB", "\(followed) samples, \(inFlight) follow-ups queued", ""],
        ]
    }

    /// The age of a resource's current run's last look, as a status query answers it.
    static func lookAge(_ client: NATSConnection, name: String) async throws -> Double? {
        let query = Array(#"{"workspace":"public","name":"\#(name)"}"#.utf8)
        guard let answer = try? await client.request(query, to: "hightouch.pipeline.run.query", timeout: .seconds(5)) else { return nil }
        let reply = try JSONDecoder().decode(StatusReply.self, from: Data(answer.payload))
        guard let checked = reply.resource?.currentRun?.checkedAt else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: checked).map { Date().timeIntervalSince($0) }
    }

    // MARK: - Rate limit

    private func rateLimitRows() async throws -> [[String]] {
        FileHandle.standardError.write(Data("rate limit: \(rateLimitApplies) applies against a 50 requests/s vendor limit…\n".utf8))
        let stack = try await Stack.start(
            replicas: 2, workers: 8, latency: .zero, binary: binary(), server: server,
            environment: ["ELECTION_CLUSTER_SIZE": "2", "HIGHTOUCH_RATE_LIMIT": "25", "HIGHTOUCH_RATE_LIMIT_WINDOW": "1s"],
            knobs: { $0.rateLimit = .init(requests: 50, window: .seconds(1)) }
        )
        let commands = try (0..<rateLimitApplies).map { try Self.command(name: String(format: "limited-%05d", $0)) }
        stack.simulator.resetCounters()
        let started = ContinuousClock.now
        try await publish(commands, on: stack.jetStream)
        try await stack.waitUntilDrained(timeout: .seconds(900))
        let elapsed = (ContinuousClock.now - started).seconds
        let counters = stack.simulator.counters()
        await stack.stop()
        let rate = Double(counters.totalRequests) / elapsed
        return [
            ["throughput at the vendor's limit (2 replicas sharing 50 requests/s)", String(format: "%.1f requests/s, %.1f applies/s", rate, Double(rateLimitApplies) / elapsed), "50 requests/s (the limit)", String(format: "%.2f", rate / 50)],
            ["  429 answers drawn", "\(counters.rateLimited)", "0", ""],
        ]
    }

    // MARK: - Helpers

    static func command(name: String) throws -> (bytes: [UInt8], id: String) {
        let manifest = try ResourceManifest.load(from: """
            version: v1beta
            name: \(name)
            type: resource
            resource:
              operator: hightouch-factory
              type: hightouch
              spec:
                model: {name: "m-\(name)", slug: "model-\(name)", queryType: raw_sql, sourceId: "23474", isSchema: false, primaryKey: id, raw: {sql: "select 1"}}
                sync: {slug: "sync-\(name)", configuration: {mode: mirror}, destinationId: "80565", disabled: false}
                trigger: {resetCDC: false, fullResync: false}
            """)
        let envelope = CommandEnvelope.apply(manifest, workspace: try WorkspaceName("public"))
        return (envelope.encoded(), envelope.deduplicationID)
    }

    private func publish(_ commands: [(bytes: [UInt8], id: String)], on jetStream: JetStreamContext) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let lanes = max(1, publishConcurrency)
            for lane in 0..<lanes {
                group.addTask {
                    var index = lane
                    while index < commands.count {
                        try await jetStream.publish(commands[index].bytes, to: "hightouch.pipeline.run", options: .init(messageID: commands[index].id))
                        index += lanes
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    private func binary() -> String {
        if let operatorBinary { return operatorBinary }
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("hightouch-operator").path
    }

    private func parseDuration(_ text: String) throws -> Duration {
        let digits = text.prefix { $0.isNumber }
        guard let value = Int(digits) else { throw ValidationError("--latency takes a duration like 0ms or 50ms") }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        default: throw ValidationError("--latency takes a duration like 0ms or 50ms")
        }
    }
}

/// Status queries and raw request-reply under the same load: the C client of
/// scripts/bench/raw_cnats.c (`sample` mode) asks the status subject and its own raw echo
/// responder alternately, 1 ms apart, from the moment it is ready until `finish()`. A separate
/// process, so neither is slowed by this process's publisher and simulator more than the other.
final class LoadedLatencySampler: @unchecked Sendable {
    // @unchecked: the process and pipe are used by one caller, start then finish.
    struct Sample: Decodable {
        var subject: String
        var count: Int
        var p50: Double
        var p99: Double
        var failures: Int

        enum CodingKeys: String, CodingKey {
            case subject, count, failures
            case p50 = "p50_us"
            case p99 = "p99_us"
        }
    }

    let process: Process
    let output: Pipe
    let subject: String

    private init(process: Process, output: Pipe, subject: String) {
        self.process = process
        self.output = output
        self.subject = subject
    }

    static func start(binary: String, url: String, subject: String, query: String) async throws -> LoadedLatencySampler {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [url, "sample", subject, query]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let sampler = LoadedLatencySampler(process: process, output: output, subject: subject)
        // The first line says the responder is subscribed and sampling has begun.
        let handle = output.fileHandleForReading
        let ready = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: handle.availableData) }
        }
        guard String(decoding: ready, as: UTF8.self).contains("ready") else {
            throw BenchmarkFailure("the latency sampler did not start: \(String(decoding: ready, as: UTF8.self))")
        }
        return sampler
    }

    /// Stops sampling; the status subject's figures and the raw echo's.
    func finish() async throws -> (status: Sample?, echo: Sample?) {
        kill(process.processIdentifier, SIGTERM)
        let handle = output.fileHandleForReading
        let data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: handle.readDataToEndOfFile()) }
        }
        process.waitUntilExit()
        let samples = try String(decoding: data, as: UTF8.self).split(separator: "\n")
            .filter { $0.contains(#""op":"sample""#) }
            .map { try JSONDecoder().decode(Sample.self, from: Data($0.utf8)) }
        return (samples.first { $0.subject == subject }, samples.first { $0.subject == "raw.echo" })
    }
}

/// nats-server, the simulator and operator processes for a benchmark.
final class Stack: @unchecked Sendable {
    // @unchecked: built once in `start`, then only read; `stop` is idempotent.
    let server: NATSServerProcess
    let simulator: HightouchSimulator
    let client: NATSConnection
    let jetStream: JetStreamContext
    let processes: [Process]
    let metricPorts: [Int]
    private let directory: URL

    private init(server: NATSServerProcess, simulator: HightouchSimulator, client: NATSConnection, jetStream: JetStreamContext, processes: [Process], metricPorts: [Int], directory: URL) {
        self.server = server
        self.simulator = simulator
        self.client = client
        self.jetStream = jetStream
        self.processes = processes
        self.metricPorts = metricPorts
        self.directory = directory
    }

    static func start(
        replicas: Int, workers: Int, latency: Duration, binary: String, server executable: String?,
        environment extra: [String: String] = [:], knobs: (inout HightouchSimulator.Knobs) -> Void = { _ in }
    ) async throws -> Stack {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchmarkFailure("no hightouch-operator at \(binary): swift build -c release --product hightouch-operator, or pass --operator-binary")
        }
        let server = try await NATSServerProcess.start(.init(executable: executable))
        var simulatorKnobs = HightouchSimulator.Knobs(latency: latency, runDuration: .milliseconds(1), rateLimit: nil)
        knobs(&simulatorKnobs)
        let simulator = HightouchSimulator(configuration: .init(tokens: ["bench-token"], knobs: simulatorKnobs))
        let port = try await simulator.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factory-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var processes: [Process] = []
        var metricPorts: [Int] = []
        for index in 0..<replicas {
            let metricPort = try FreePort.pick()
            let process = try ReplicaProcesses.launch(
                binary: binary, index: index,
                environment: [
                    "NATS_URL": server.url, "HIGHTOUCH_SERVICE_URL": "http://127.0.0.1:\(port)", "HIGHTOUCH_SERVICE_SECRET": "bench-token",
                    "OPERATOR_MAX_WORKERS": "\(workers)", "OPERATOR_RECONCILE_WORKERS_INTERVAL": "1s", "METRIC_PORT": "\(metricPort)",
                    "HIGHTOUCH_RATE_LIMIT": "1000000", "LOG_LEVEL": "warning", "OPERATOR_INSTANCE_ID": "bench-\(index)",
                ].merging(extra) { _, new in new },
                directory: directory)
            processes.append(process)
            metricPorts.append(metricPort)
        }
        let client = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "bench-client"))
        let jetStream = try await client.jetStream()
        let stack = Stack(server: server, simulator: simulator, client: client, jetStream: jetStream, processes: processes, metricPorts: metricPorts, directory: directory)
        try await ReplicaProcesses.waitReady(metricPorts: metricPorts, timeout: .seconds(60), directory: directory)
        return stack
    }

    /// Waits until the command consumer has nothing pending or unacknowledged.
    func waitUntilDrained(timeout: Duration) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let info = try await jetStream.consumerInfo(stream: "dataos-hightouch-entities", consumer: "hightouch-entities-12121")
            if info.pendingMessages == 0, info.pendingAcks == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchmarkFailure("commands still pending after \(timeout)")
    }

    struct Metrics {
        var lines: [String]

        func sum(_ name: String) -> Double {
            lines.filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                .reduce(0, +)
        }
    }

    func scrapeMetrics() async throws -> Metrics {
        var lines: [String] = []
        for port in metricPorts {
            let (_, body) = try await Stack.get("http://127.0.0.1:\(port)/metrics")
            lines += body.split(separator: "\n").map(String.init)
        }
        return Metrics(lines: lines)
    }

    /// CPU seconds (user + system) so far of nats-server, the replicas, and this process.
    func cpuSeconds() -> [String: Double] {
        [
            "nats-server": server.processIdentifier.map(ReplicaProcesses.cpuSeconds) ?? 0,
            "replicas": processes.map { ReplicaProcesses.cpuSeconds($0.processIdentifier) }.reduce(0, +),
            "benchmark (publisher, simulator)": ReplicaProcesses.cpuSeconds(getpid()),
        ]
    }

    /// Resident memory of the replica processes, summed.
    func residentBytes() -> Int { ReplicaProcesses.residentBytes(processes) }

    func stop() async {
        await ReplicaProcesses.stop(processes)
        await client.close()
        await simulator.stop()
        await server.stop()
    }

    static func get(_ url: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
