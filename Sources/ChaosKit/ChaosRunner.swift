import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import NATSKit
import SimulatedVendors
import Synchronization

/// What one resource type of a chaos run did and found.
public struct ChaosTypeFigures: Sendable, Hashable {
    public var type: String
    /// Applies that must run (each its own target).
    public var applies: Int
    /// Applies that must be refused (a spec without its required field).
    public var refused: Int
    /// Runs the vendor started, by its own counters.
    public var vendorRuns: Int
    /// Applies whose run the scenario forced to fail.
    public var forcedFailures: Int
    /// Resources whose last run the operator recorded as failed.
    public var failed: Int
    /// Dead letters in the type's stream.
    public var deadLetters: Int
    /// Anomalies naming a resource of this type.
    public var anomalies: Int
    /// Commands of this type handled on a second or later delivery, and runs a resumed command
    /// of this type found at the vendor (the replicas' log lines, by their `type`).
    public var redeliveries: Int = 0
    public var adoptedRuns: Int = 0

    public init(type: String, applies: Int, refused: Int, vendorRuns: Int, forcedFailures: Int, failed: Int, deadLetters: Int, anomalies: Int) {
        self.type = type
        self.applies = applies
        self.refused = refused
        self.vendorRuns = vendorRuns
        self.forcedFailures = forcedFailures
        self.failed = failed
        self.deadLetters = deadLetters
        self.anomalies = anomalies
    }
}

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
    /// Resources whose vendor objects were deleted behind the operator's back, and how many of
    /// them the vendor had again at the end.
    public var objectsDeleted = 0
    public var objectsRestored = 0
    public var anomalies: [ChaosAnomaly]
    public var runDirectory: String
    /// Per resource type, in the scenario's order.
    public var types: [ChaosTypeFigures]
    /// The `pipelines` variant's own figures (nil for the others).
    public var pipelines: PipelineChaosFigures?

    public init(
        variant: String, applies: Int, replicaKills: Int, natsKills: Int, vendorFaultEvents: Int, duration: Duration, triggers: Int,
        redeliveries: Int, adoptedRuns: Int, injectedFaults: Int, rateLimited: Int, anomalies: [ChaosAnomaly], runDirectory: String,
        types: [ChaosTypeFigures] = []
    ) {
        self.types = types
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

    /// The summary table of several runs. `applies` counts every apply published (refused ones
    /// too); `triggers` every run the vendors started.
    public static func table(_ reports: [ChaosReport]) -> String {
        let header = [
            "variant", "applies", "kills", "nats kills", "vendor faults", "duration", "triggers", "redeliveries", "adopted", "5xx/429", "deleted/repaired", "anomalies",
        ]
        let rows = reports.map { report in
            [
                report.variant, "\(report.applies)", "\(report.replicaKills)", "\(report.natsKills)", "\(report.vendorFaultEvents)",
                String(format: "%.1f s", Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) / 1e18),
                "\(report.triggers)", "\(report.redeliveries)", "\(report.adoptedRuns)", "\(report.injectedFaults)/\(report.rateLimited)",
                "\(report.objectsDeleted)/\(report.objectsRestored)", "\(report.anomalies.count)",
            ]
        }
        return render(header, rows)
    }

    /// Per resource type, for every run that hosts more than one.
    public static func typeTable(_ reports: [ChaosReport]) -> String? {
        let header = ["variant", "type", "applies", "refused", "vendor runs", "forced failures", "failed", "dead letters", "redeliveries", "adopted", "anomalies"]
        let rows = reports.filter { $0.types.count > 1 }.flatMap { report in
            report.types.map { figures in
                [
                    report.variant, figures.type, "\(figures.applies)", "\(figures.refused)", "\(figures.vendorRuns)", "\(figures.forcedFailures)",
                    "\(figures.failed)", "\(figures.deadLetters)", "\(figures.redeliveries)", "\(figures.adoptedRuns)", "\(figures.anomalies)",
                ]
            }
        }
        return rows.isEmpty ? nil : render(header, rows, leftColumns: 2)
    }

    static func render(_ header: [String], _ rows: [[String]], leftColumns: Int = 1) -> String {
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index < leftColumns ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: " | ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")] + rows.map(line)).joined(separator: "\n")
    }
}

/// Runs one chaos scenario end to end: servers, vendors, replica processes, the applies, the
/// faults; then waits for the work to settle and checks the result.
public enum ChaosRunner {
    static let workspace = "public"

    /// The vendor of `type` for `scenario`: Hightouch's runs last `runDuration` and end as
    /// `outcomes` decide; the other vendors' runs last 600 ms and succeed unless forced.
    static func makeVendor(_ type: String, _ scenario: ChaosScenario) throws -> any SimulatedVendor {
        switch type {
        case "hightouch": return SimulatedHightouch(runDuration: scenario.runDuration, outcomes: scenario.outcomes, seed: scenario.seed)
        case "http": return SimulatedHTTPTarget()
        case "fivetran": return SimulatedFivetran()
        case "dbtcloud": return SimulatedDBTCloud()
        case "census": return SimulatedCensus()
        default: throw ChaosError("no simulated vendor for resource type \(type); choose from \(ChaosScenario.allTypes.joined(separator: ", "))")
        }
    }

    /// Runs `scenario`; never throws: set-up failures are reported as anomalies.
    public static func run(_ scenario: ChaosScenario, print output: @escaping @Sendable (String) -> Void = { print($0) }) async -> ChaosReport {
        if scenario.pipelineTasks != nil { return await PipelineChaosRunner.run(scenario, print: output) }
        let started = ContinuousClock.now
        let runDirectory = makeRunDirectory(root: scenario.workRoot, name: scenario.name)
        let children = ChildProcesses(pidFile: runDirectory + "/pids")
        var report = ChaosReport(
            variant: scenario.name, applies: scenario.applies, replicaKills: 0, natsKills: 0, vendorFaultEvents: 0, duration: .zero,
            triggers: 0, redeliveries: 0, adoptedRuns: 0, injectedFaults: 0, rateLimited: 0, anomalies: [], runDirectory: runDirectory
        )
        output(
            "== chaos \(scenario.name): \(scenario.applies) applies of \(scenario.types.joined(separator: ", ")), \(scenario.replicas) \(scenario.executable.rawValue) replicas, nats \(scenario.nats.rawValue), vendor faults \(scenario.vendorFaults ? "on" : "off"), seed \(scenario.seed); logs in \(runDirectory)"
        )
        var startedVendors: [any SimulatedVendor] = []
        var vendors: [ChaosVendor] = []
        var nats: ChaosNATS?
        var replicas: [ReplicaProcess] = []
        var running: Work?
        var client: NATSConnection?
        var observation = ChaosObservation()
        do {
            for type in scenario.types {
                let vendor = try makeVendor(type, scenario)
                let url = try await vendor.start()
                startedVendors.append(vendor)
                vendors.append(ChaosVendor(names: ChaosNames(type: type), vendor: vendor, serviceURL: url))
            }
            let plan = Work.plan(scenario, vendors: vendors)
            report.applies = plan.count
            // Every target exists at its vendor before anything is published; forced failures are
            // set up front, so the vendor's decision is there before the operator's trigger.
            for planned in plan where !planned.command.expectsRefusal {
                guard let vendor = vendors.first(where: { $0.type == planned.command.type })?.vendor else { continue }
                try vendor.prepare(planned.index)
                if planned.command.expectsFailure { vendor.failNextRun(planned.index) }
            }

            let cluster = scenario.nats == .cluster
            nats = cluster
                ? try await ChaosNATS.cluster(executable: scenario.natsServerBinary, children: children)
                : try await ChaosNATS.single(executable: scenario.natsServerBinary, children: children)
            guard let nats else { throw ChaosError("no NATS") }
            try await nats.waitForJetStream(replicas: cluster ? 3 : 1)
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: nats.urls, name: "chaos-driver"))
            client = connection
            let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: .seconds(3)))

            var environment: [String: String] = [
                "NATS_URL": nats.urlList,
                "NATS_JETSTREAM_REPLICAS": cluster ? "3" : "1",
                "OPERATOR_MAX_WORKERS": "\(scenario.workersPerReplica)",
                "OPERATOR_ACK_WAIT": "\(Int(scenario.ackWait.seconds * 1000))ms",
                "OPERATOR_RECONCILE_WORKERS_INTERVAL": "300ms",
                "OPERATOR_MAINTENANCE_INTERVAL": "5s",
                "ELECTION_CLUSTER_SIZE": "\(scenario.replicas)",
                "LOG_LEVEL": "info",
            ]
            // Vendor faults delete vendor objects too: the leader's drift check must put them back
            // within the run, so it looks every few seconds rather than every ten minutes.
            if scenario.vendorFaults { environment["OPERATOR_DRIFT_CHECK_INTERVAL"] = "5s" }
            if scenario.executable == .factoryOperator { environment["OPERATOR_DRIVERS"] = scenario.types.joined(separator: ",") }
            for vendor in vendors { environment.merge(vendor.vendor.environment(serviceURL: vendor.serviceURL)) { _, new in new } }
            for slot in 0..<scenario.replicas {
                let replica = ReplicaProcess(slot: slot, binary: scenario.replicaBinary, environment: environment, directory: runDirectory, children: children)
                try replica.start()
                replicas.append(replica)
            }
            try await waitForReady(replicas, timeout: .seconds(90))
            output("   ready after \(format(ContinuousClock.now - started)): nats \(nats.urlList), \(vendors.map { "\($0.type) \($0.serviceURL)" }.joined(separator: ", "))")

            let work = Work(scenario: scenario, output: output)
            running = work
            let observer = ChaosObserver(jetStream: jetStream, vendors: vendors)
            let workStarted = ContinuousClock.now
            let startedReplicas = replicas
            let simulated = vendors.map(\.vendor)
            let commandStream = vendors.first?.names.commandStream ?? ChaosNames(type: "hightouch").commandStream
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await work.publish(plan, jetStream: jetStream, workStarted: workStarted) }
                if scenario.replicaKills { group.addTask { await work.killReplicas(startedReplicas) } }
                group.addTask { await work.watchReplicas(startedReplicas) }
                group.addTask { await work.watchNATS(nats) }
                if scenario.nats != .none { group.addTask { await work.natsFault(nats, connection: connection, commandStream: commandStream) } }
                if scenario.vendorFaults {
                    let targets = Dictionary(plan.map { ($0.command.name, ($0.command.type, $0.index)) }, uniquingKeysWith: { first, _ in first })
                    group.addTask { await work.vendorFaults(simulated, observer: observer, targets: targets) }
                }
                group.addTask { await work.waitUntilSettled(observer: observer, started: workStarted) }
                await group.waitForAll()
            }
            // Faults off, every replica up, and a quiet spell: anything still to come (a late
            // redelivery, a second trigger) happens now, before the books are closed.
            for vendor in vendors { vendor.vendor.applyFaults(.none) }
            for replica in replicas where !replica.isRunning { try? replica.start() }
            try? await Task.sleep(for: scenario.ackWait * 3)
            if work.unsettled == nil {
                await work.waitUntilSettled(observer: observer, started: workStarted, quietly: true)
            }

            observation.commands = work.commands
            observation.unpublished = work.unpublished
            observation.unsettled = work.unsettled
            observation.unexpectedExits = work.unexpectedExits
            for name in work.deletedObjects { observation.deletedObjects[name] = false }
            try await sabotage(scenario, observation: observation, plan: plan, vendors: vendors, jetStream: jetStream, output: output)
            let indices = Dictionary(plan.map { ($0.command.name, $0.index) }, uniquingKeysWith: { first, _ in first })
            try await observer.observe(into: &observation, workspace: workspace, indices: indices)
            report.anomalies = ChaosChecker.check(observation)
        } catch {
            report.anomalies.append(ChaosAnomaly(.didNotSettle, nil, "the run could not be carried out: \(error)"))
            for exit in running?.unexpectedExits ?? [] { report.anomalies.append(ChaosAnomaly(.replicaCrashed, nil, exit)) }
        }
        report.replicaKills = running?.replicaKills ?? 0
        report.natsKills = running?.natsKills ?? 0
        report.vendorFaultEvents = running?.vendorFaultEvents ?? 0
        report.objectsDeleted = observation.deletedObjects.count
        report.objectsRestored = observation.deletedObjects.values.filter { $0 }.count
        for vendor in vendors {
            let runs = vendor.vendor.runCounts().values.reduce(0, +)
            let faults = vendor.vendor.faultCounts()
            report.triggers += runs
            report.injectedFaults += faults.injected
            report.rateLimited += faults.rateLimited
            let commands = observation.commands.filter { $0.type == vendor.type }
            let names = Set(commands.map(\.name))
            report.types.append(
                ChaosTypeFigures(
                    type: vendor.type, applies: commands.filter { !$0.expectsRefusal }.count, refused: commands.filter(\.expectsRefusal).count,
                    vendorRuns: runs, forcedFailures: commands.filter(\.expectsFailure).count,
                    failed: commands.filter { observation.statuses[$0.name]?.lastRun?.phase == "failed" }.count,
                    deadLetters: observation.deadLetters.filter { $0.type == vendor.type }.count,
                    anomalies: report.anomalies.filter { $0.resource.map(names.contains) ?? false }.count
                )
            )
        }
        report.countRedeliveriesAndAdoptions(in: replicas)
        report.duration = ContinuousClock.now - started

        // Tear down: replicas first (so they do not log a storm of reconnects), then NATS.
        await withTaskGroup(of: Void.self) { group in
            for replica in replicas { group.addTask { await replica.terminate(grace: .seconds(5)) } }
        }
        if let client { await client.close() }
        if let nats { await nats.stop() }
        for vendor in startedVendors { await vendor.stop() }
        children.killAll()
        if report.passed, !scenario.keepLogs {
            try? FileManager.default.removeItem(atPath: runDirectory)
        }
        output("   \(report.passed ? "PASS" : "FAIL") \(scenario.name) in \(format(report.duration)): \(report.triggers) vendor runs, \(report.replicaKills) replica kills, \(report.natsKills) NATS kills, \(report.objectsDeleted) vendor objects deleted (\(report.objectsRestored) repaired), \(report.anomalies.count) anomalies")
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

    /// Breaks the run on purpose (see ``ChaosScenario/Sabotage``).
    static func sabotage(
        _ scenario: ChaosScenario, observation: ChaosObservation, plan: [Work.Planned], vendors: [ChaosVendor], jetStream: JetStreamContext,
        output: (String) -> Void
    ) async throws {
        switch scenario.sabotage {
        case .none:
            return
        case .extraTrigger:
            let type = scenario.sabotagedType
            guard let vendor = vendors.first(where: { $0.type == type }) else { throw ChaosError("the sabotaged type \(type) is not in this scenario") }
            let published = Set(observation.commands.map(\.name))
            for planned in plan.filter({ $0.command.type == type && !$0.command.expectsRefusal && published.contains($0.command.name) }).prefix(3) {
                let status = try await vendor.vendor.runOutOfBand(planned.index, serviceURL: vendor.serviceURL)
                output("   sabotage: ran \(type) target \(planned.command.target) (\(planned.command.name)) a second time behind the operator's back (HTTP \(status))")
            }
        case .dropStatus:
            guard let command = observation.commands.first(where: { !$0.expectsRefusal }) else { return }
            let bucket = try await jetStream.keyValue(ChaosNames(type: command.type).stateBucket)
            try await bucket.purge("status.\(workspace).\(command.name)")
            output("   sabotage: purged status.\(workspace).\(command.name) from the \(command.type) bucket")
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

extension ChaosReport {
    /// Commands handled again after a kill and runs a resumed command found at its vendor, from
    /// the replicas' logs, in total and per type.
    mutating func countRedeliveriesAndAdoptions(in replicas: [ReplicaProcess]) {
        for replica in replicas {
            let redelivered = replica.logLines(containing: "Command handled").filter { !$0.contains("command.delivery=1 ") }
            let adopted = replica.logLines(containing: "Adopted a run")
            redeliveries += redelivered.count
            adoptedRuns += adopted.count
            for index in types.indices {
                let tag = " type=\(types[index].type) "
                types[index].redeliveries += redelivered.filter { $0.contains(tag) }.count
                types[index].adoptedRuns += adopted.filter { $0.contains(tag) }.count
            }
        }
    }
}
