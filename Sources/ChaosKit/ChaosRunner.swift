import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HightouchSimulator
import Logging
import NATSKit
import Synchronization

/// What one chaos run did and found.
public struct ChaosReport: Sendable {
    public var variant: String
    public var applies: Int
    public var replicaKills: Int
    public var natsKills: Int
    public var vendorFaultEvents: Int
    public var duration: Duration
    public var triggers: Int
    /// Commands whose log line says they were handled on a second or later delivery.
    public var redeliveries: Int
    /// "Adopted a run triggered before a crash" lines in the replicas' logs.
    public var adoptedRuns: Int
    public var injectedFaults: Int
    public var rateLimited: Int
    public var anomalies: [ChaosAnomaly]
    public var runDirectory: String

    public init(
        variant: String, applies: Int, replicaKills: Int, natsKills: Int, vendorFaultEvents: Int, duration: Duration, triggers: Int,
        redeliveries: Int, adoptedRuns: Int, injectedFaults: Int, rateLimited: Int, anomalies: [ChaosAnomaly], runDirectory: String
    ) {
        self.variant = variant
        self.applies = applies
        self.replicaKills = replicaKills
        self.natsKills = natsKills
        self.vendorFaultEvents = vendorFaultEvents
        self.duration = duration
        self.triggers = triggers
        self.redeliveries = redeliveries
        self.adoptedRuns = adoptedRuns
        self.injectedFaults = injectedFaults
        self.rateLimited = rateLimited
        self.anomalies = anomalies
        self.runDirectory = runDirectory
    }

    public var passed: Bool { anomalies.isEmpty }

    /// The summary table of several runs.
    public static func table(_ reports: [ChaosReport]) -> String {
        let header = ["variant", "applies", "kills", "nats kills", "vendor faults", "duration", "triggers", "redeliveries", "adopted", "5xx/429", "anomalies"]
        let rows = reports.map { report in
            [
                report.variant, "\(report.applies)", "\(report.replicaKills)", "\(report.natsKills)", "\(report.vendorFaultEvents)",
                String(format: "%.1f s", Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) / 1e18),
                "\(report.triggers)", "\(report.redeliveries)", "\(report.adoptedRuns)", "\(report.injectedFaults)/\(report.rateLimited)",
                "\(report.anomalies.count)",
            ]
        }
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: " | ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")] + rows.map(line)).joined(separator: "\n")
    }
}

/// Runs one chaos scenario end to end: servers, simulator, replica processes, the applies, the
/// faults; then waits for the work to settle and checks the result.
public enum ChaosRunner {
    static let workspace = "public"
    static let token = "chaos-token"

    /// Runs `scenario`; never throws: set-up failures are reported as anomalies.
    public static func run(_ scenario: ChaosScenario, print output: @escaping @Sendable (String) -> Void = { print($0) }) async -> ChaosReport {
        let started = ContinuousClock.now
        let runDirectory = makeRunDirectory(root: scenario.workRoot, name: scenario.name)
        let children = ChildProcesses(pidFile: runDirectory + "/pids")
        var report = ChaosReport(
            variant: scenario.name, applies: scenario.applies, replicaKills: 0, natsKills: 0, vendorFaultEvents: 0, duration: .zero,
            triggers: 0, redeliveries: 0, adoptedRuns: 0, injectedFaults: 0, rateLimited: 0, anomalies: [], runDirectory: runDirectory
        )
        output("== chaos \(scenario.name): \(scenario.applies) applies, \(scenario.replicas) replicas, nats \(scenario.nats.rawValue), vendor faults \(scenario.vendorFaults ? "on" : "off"), seed \(scenario.seed); logs in \(runDirectory)")
        let simulator = HightouchSimulator(
            configuration: .init(
                tokens: [token],
                knobs: .init(runDuration: scenario.runDuration, outcomeWeights: scenario.outcomes, rateLimit: nil, seed: scenario.seed)
            )
        )
        var nats: ChaosNATS?
        var replicas: [ReplicaProcess] = []
        var running: Work?
        var client: NATSConnection?
        do {
            let port = try await simulator.start()
            let simulatorURL = "http://127.0.0.1:\(port)"
            let cluster = scenario.nats == .cluster
            nats = cluster
                ? try await ChaosNATS.cluster(executable: scenario.natsServerBinary, children: children)
                : try await ChaosNATS.single(executable: scenario.natsServerBinary, children: children)
            guard let nats else { throw ChaosError("no NATS") }
            try await nats.waitForJetStream(replicas: cluster ? 3 : 1)
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: nats.urls, name: "chaos-driver"))
            client = connection
            let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: .seconds(3)))

            let environment: [String: String] = [
                "NATS_URL": nats.urlList,
                "NATS_JETSTREAM_REPLICAS": cluster ? "3" : "1",
                "HIGHTOUCH_SERVICE_URL": simulatorURL,
                "HIGHTOUCH_SERVICE_SECRET": token,
                "HIGHTOUCH_RATE_LIMIT": "100000",
                "OPERATOR_MAX_WORKERS": "\(scenario.workersPerReplica)",
                "OPERATOR_ACK_WAIT": "\(Int(scenario.ackWait.seconds * 1000))ms",
                "OPERATOR_RECONCILE_WORKERS_INTERVAL": "300ms",
                "OPERATOR_MAINTENANCE_INTERVAL": "5s",
                "ELECTION_CLUSTER_SIZE": "\(scenario.replicas)",
                "LOG_LEVEL": "info",
            ]
            for slot in 0..<scenario.replicas {
                let replica = ReplicaProcess(slot: slot, binary: scenario.operatorBinary, environment: environment, directory: runDirectory, children: children)
                try replica.start()
                replicas.append(replica)
            }
            try await waitForReady(replicas, timeout: .seconds(90))
            output("   ready after \(format(ContinuousClock.now - started)): nats \(nats.urlList), simulator \(simulatorURL)")

            let work = Work(scenario: scenario, output: output)
            running = work
            let observer = ChaosObserver(jetStream: jetStream, simulator: simulator, simulatorURL: simulatorURL, token: token)
            let workStarted = ContinuousClock.now
            let started = replicas
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await work.publish(jetStream: jetStream, workStarted: workStarted) }
                if scenario.replicaKills { group.addTask { await work.killReplicas(started) } }
                group.addTask { await work.watchReplicas(started) }
                group.addTask { await work.watchNATS(nats) }
                if scenario.nats != .none { group.addTask { await work.natsFault(nats, connection: connection) } }
                if scenario.vendorFaults { group.addTask { await work.vendorFaults(simulator) } }
                group.addTask { await work.waitUntilSettled(observer: observer, started: workStarted) }
                await group.waitForAll()
            }
            // Faults off, every replica up, and a quiet spell: anything still to come (a late
            // redelivery, a second trigger) happens now, before the books are closed.
            restoreVendor(simulator)
            for replica in replicas where !replica.isRunning { try? replica.start() }
            try? await Task.sleep(for: scenario.ackWait * 3)
            if work.unsettled == nil {
                await work.waitUntilSettled(observer: observer, started: workStarted, quietly: true)
            }

            var observation = ChaosObservation()
            observation.commands = work.commands
            observation.unpublished = work.unpublished
            observation.unsettled = work.unsettled
            observation.unexpectedExits = work.unexpectedExits
            try await sabotage(scenario, observation: observation, simulatorURL: simulatorURL, jetStream: jetStream, output: output)
            try await observer.observe(into: &observation, workspace: workspace)
            report.anomalies = ChaosChecker.check(observation)
        } catch {
            report.anomalies.append(ChaosAnomaly(.didNotSettle, nil, "the run could not be carried out: \(error)"))
            for exit in running?.unexpectedExits ?? [] { report.anomalies.append(ChaosAnomaly(.replicaCrashed, nil, exit)) }
        }
        report.replicaKills = running?.replicaKills ?? 0
        report.natsKills = running?.natsKills ?? 0
        report.vendorFaultEvents = running?.vendorFaultEvents ?? 0
        report.triggers = simulator.triggerLog().count
        let counters = simulator.counters()
        report.injectedFaults = counters.injectedFaults
        report.rateLimited = counters.rateLimited
        for replica in replicas {
            report.redeliveries += replica.logLines(containing: "Command handled").filter { !$0.contains("command.delivery=1 ") }.count
            report.adoptedRuns += replica.logLines(containing: "Adopted a run").count
        }
        report.duration = ContinuousClock.now - started

        // Tear down: replicas first (so they do not log a storm of reconnects), then NATS.
        await withTaskGroup(of: Void.self) { group in
            for replica in replicas { group.addTask { await replica.terminate(grace: .seconds(5)) } }
        }
        if let client { await client.close() }
        if let nats { await nats.stop() }
        await simulator.stop()
        children.killAll()
        if report.passed, !scenario.keepLogs {
            try? FileManager.default.removeItem(atPath: runDirectory)
        }
        output("   \(report.passed ? "PASS" : "FAIL") \(scenario.name) in \(format(report.duration)): \(report.triggers) triggers, \(report.replicaKills) replica kills, \(report.natsKills) NATS kills, \(report.anomalies.count) anomalies")
        for anomaly in report.anomalies.prefix(50) { output("   ! \(anomaly)") }
        if report.anomalies.count > 50 { output("   ! … and \(report.anomalies.count - 50) more") }
        return report
    }

    static func waitForReady(_ replicas: [ReplicaProcess], timeout: Duration) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if replicas.allSatisfy({ !$0.logLines(containing: "Operator ready").isEmpty }) { return }
            if let dead = replicas.first(where: { !$0.isRunning }) {
                throw ChaosError("replica \(dead.slot) exited during start-up; see \(dead.logFile)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChaosError("replicas not ready within \(timeout)")
    }

    static func restoreVendor(_ simulator: HightouchSimulator) {
        simulator.updateKnobs { knobs in
            knobs.serverErrorRate = 0
            knobs.latency = .zero
            knobs.latencyJitter = .zero
            knobs.rateLimit = nil
        }
        simulator.setTokens([token])
    }

    /// Breaks the run on purpose (see ``ChaosScenario/Sabotage``).
    static func sabotage(_ scenario: ChaosScenario, observation: ChaosObservation, simulatorURL: String, jetStream: JetStreamContext, output: (String) -> Void) async throws {
        switch scenario.sabotage {
        case .none:
            return
        case .extraTrigger:
            for command in observation.commands.prefix(3) {
                var request = URLRequest(url: URL(string: simulatorURL + "/api/v1/syncs/trigger")!)
                request.httpMethod = "POST"
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(#"{"syncSlug":"\#(command.syncSlug)","fullResync":false,"resetCDC":false}"#.utf8)
                let (_, response) = try await URLSession.shared.data(for: request)
                output("   sabotage: triggered \(command.syncSlug) a second time behind the operator's back (HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0))")
            }
        case .dropStatus:
            guard let command = observation.commands.first else { return }
            let bucket = try await jetStream.keyValue(ChaosObserver.stateBucket)
            try await bucket.purge("status.\(workspace).\(command.name)")
            output("   sabotage: purged status.\(workspace).\(command.name) from KV")
        }
    }

    static func makeRunDirectory(root: String, name: String) -> String {
        var template = Array((root + "/factory-chaos-\(name)-XXXXXX").utf8CString)
        if let path = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) {
            return String(cString: path)
        }
        let fallback = root + "/factory-chaos-\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: fallback, withIntermediateDirectories: true)
        return fallback
    }
}

func format(_ duration: Duration) -> String {
    String(format: "%.1f s", duration.seconds)
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
