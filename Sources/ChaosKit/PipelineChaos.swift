import Foundation
import JSONSchema
import NATSKit
import SimulatedVendors
import Synchronization

/// What a `pipelines` chaos run did, beside the common figures.
public struct PipelineChaosFigures: Sendable, Hashable {
    public var pipelines = 0
    /// Tasks declared over every pipeline.
    public var tasks = 0
    /// Task attempts recorded in the run documents.
    public var attempts = 0
    /// Pipelines planned with a forced vendor failure in one task.
    public var forcedFailures = 0
    /// Runs by their end (`succeeded`, `warning`, `failed`, or a state that is not an end).
    public var results: [String: Int] = [:]
    /// Tasks by their end.
    public var taskStates: [String: Int] = [:]

    public init() {}
}

/// The `pipelines` variant (issue 15): `factory-operator` replicas hosting dbt Cloud, Census,
/// HTTP tasks, Fivetran and `pipeline`; N pipelines of 5–20 tasks (a chain head, a fan-out with
/// one core task, a chain of stages, a `one_failed` notify stage and a `finally` task), each
/// applied and run once while replicas are SIGKILLed; then ``PipelineChaosChecker``.
public enum PipelineChaosRunner {
    /// The task types, each task's vendor chosen among them at random (seeded).
    public static let types = ["dbtcloud", "census", "http", "fivetran"]

    /// The pipeline deployment's names, written out here (not taken from the operator's code).
    enum Names {
        static let subject = "factory.pipeline.run"
        static let commandStream = "dataos-factory-pipelines"
        static let commandConsumer = "factory-pipelines-12121"
        static let followUpStream = "dataos-factory-pipelines-followups"
        static let followUpConsumer = "factory-pipeline-followers"
        static let deadLetterStream = "dataos-factory-pipelines-deadletter"
        static let bucket = "factory-pipeline-state"
    }

    static let jobs = ["dbtcloud": "dbt_runjob", "census": "census_sync", "http": "http_request", "fivetran": "fivetran_sync_all"]

    struct Planned: Sendable {
        var pipeline: PipelineChaosPlan.Pipeline
        var apply: [UInt8]
        var run: [UInt8]
    }

    static func name(_ index: Int) -> String { String(format: "chaos-p-%04d", index) }

    /// The pipelines of a run, deterministic from the seed. Pipeline `p` has `n` tasks (uniform
    /// in `pipelineTasks`): `extract` (1 task) → `fan` (k ≥ 2 tasks, the first core) → `chain-1`
    /// … `chain-m` (1 task each, each on the one before) → `notify` (`one_failed` on every stage,
    /// 1 task), and one `finally` task when n ≥ 6. Every `forcedFailureEvery`-th pipeline has one
    /// task (any but notify's) forced to fail at its vendor.
    static func plan(_ scenario: ChaosScenario, vendors: [ChaosVendor]) -> [Planned] {
        var random = SeededRandom(seed: scenario.seed ^ 0x7069_7065_6C69_6E65)
        let tag = String(scenario.seed, radix: 36)
        let range = scenario.pipelineTasks ?? 5...20
        var nextIndex = 1
        var planned: [Planned] = []
        for number in 1...max(1, scenario.applies) {
            let name = Self.name(number)
            let count = Int.random(in: max(5, range.lowerBound)...max(5, range.upperBound), using: &random)
            let finallyCount = count >= 6 ? 1 : 0
            let fan = Int.random(in: 2...(count - 3 - finallyCount), using: &random)
            let chain = count - 2 - finallyCount - fan
            var tasks: [PipelineChaosPlan.Task] = []
            func task(_ stage: String?) -> String {
                let taskName = String(format: "t%02d", tasks.count + 1)
                let vendor = vendors[Int.random(in: 0..<vendors.count, using: &random)]
                tasks.append(.init(name: taskName, stage: stage, type: vendor.type, index: nextIndex, target: vendor.vendor.target(nextIndex)))
                nextIndex += 1
                return taskName
            }
            var stages: [PipelineChaosPlan.Stage] = [.init(name: "extract", tasks: [task("extract")])]
            let fanTasks = (0..<fan).map { _ in task("fan") }
            stages.append(.init(name: "fan", dependsOn: ["extract"], core: [fanTasks[0]], tasks: fanTasks))
            for link in 1...chain {
                stages.append(.init(name: "chain-\(link)", dependsOn: [stages[stages.count - 1].name], tasks: [task("chain-\(link)")]))
            }
            let notifyTask = task("notify")
            stages.append(.init(name: "notify", dependsOn: stages.map(\.name), triggerRule: "one_failed", tasks: [notifyTask]))
            let finally = (0..<finallyCount).map { _ in task(nil) }
            if let every = scenario.forcedFailureEvery, every > 0, number % every == 0 {
                let candidates = tasks.indices.filter { tasks[$0].name != notifyTask }
                let chosen = candidates[Int.random(in: 0..<candidates.count, using: &random)]
                tasks[chosen].forcedFailure = true
                tasks[chosen].failsEveryRun = tasks[chosen].type == "http"
                // Every other forced failure is on a task that retries job_failed once: a second
                // attempt, which succeeds (but at the HTTP target, whose target fails every job).
                if number % (2 * every) == 0 { tasks[chosen].retries = 1 }
            }
            let pipeline = PipelineChaosPlan.Pipeline(
                name: name, applyID: "chaos-\(tag)-\(name)", runCommandID: "chaos-\(tag)-\(name)-run", stages: stages, finally: finally, tasks: tasks
            )
            planned.append(Planned(pipeline: pipeline, apply: Work.applyCommand(name: name, type: "pipeline", spec: spec(pipeline, vendors: vendors)), run: runCommand(name)))
        }
        return planned
    }

    /// The pipeline's spec: every task inline, its parameters the vendor's spec for its target
    /// (the HTTP target's own `${response./id}` written `$${…}` so the pipeline leaves it to the
    /// HTTP driver; a dbt Cloud cause naming the run).
    static func spec(_ pipeline: PipelineChaosPlan.Pipeline, vendors: [ChaosVendor]) -> JSONValue {
        func taskJSON(_ name: String) -> JSONValue {
            guard let task = pipeline.task(name), let vendor = vendors.first(where: { $0.type == task.type }) else { return .null }
            var parameters = vendor.vendor.spec(task.index, serviceURL: vendor.serviceURL, timeout: nil)
            if var object = parameters.objectValue {
                if task.type == "fivetran" { object["action"] = nil }
                if task.type == "dbtcloud" { object["cause"] = .string("chaos \(pipeline.name) \(name) run ${run.id}") }
                parameters = .object(object)
            }
            if task.type == "http" {
                let text = String(decoding: parameters.serializedBytes(sortedKeys: true), as: UTF8.self).replacingOccurrences(of: "${", with: "$${")
                parameters = (try? JSONValue(parsing: Array(text.utf8))) ?? parameters
            }
            var object: JSONObject = ["name": .string(name), "integration": .string(task.type), "job": .string(jobs[task.type] ?? ""), "parameters": parameters]
            if task.retries > 0 {
                object["retries"] = ["limit": .number(JSONNumber(task.retries)), "on": ["job_failed"], "delay": "1s", "backoff": "constant"]
            }
            return .object(object)
        }
        let stages: [JSONValue] = pipeline.stages.map { stage in
            var object: JSONObject = ["name": .string(stage.name), "tasks": .array(stage.tasks.map(taskJSON))]
            if !stage.dependsOn.isEmpty { object["dependsOn"] = .array(stage.dependsOn.map { .string($0) }) }
            if let rule = stage.triggerRule { object["triggerRule"] = .string(rule) }
            if let core = stage.core { object["core"] = .array(core.map { .string($0) }) }
            return .object(object)
        }
        var spec: JSONObject = ["stages": .array(stages)]
        if !pipeline.finally.isEmpty { spec["finally"] = .array(pipeline.finally.map(taskJSON)) }
        return .object(spec)
    }

    /// A `run` of pipeline `name`, built as plain JSON with Foundation.
    static func runCommand(_ name: String) -> [UInt8] {
        let command: [String: Any] = ["version": 1, "op": "run", "workspace": ChaosRunner.workspace, "resource": ["name": name, "type": "pipeline"]]
        return Array((try? JSONSerialization.data(withJSONObject: command, options: [.sortedKeys])) ?? Data())
    }

    // MARK: - The run document, decoded independently

    struct StoredAttempt: Decodable {
        var number: Int
        var commandID: String
        var resourceType: String
        var resource: String
        var vendorRunID: String?
        var outcome: String?
    }
    struct StoredTask: Decodable {
        var state: String
        var attempts: [StoredAttempt]
    }
    struct StoredTrigger: Decodable { var commandID: String }
    struct StoredRun: Decodable {
        var id: String
        var pipeline: String
        var state: String
        var trigger: StoredTrigger
        var reason: String?
        var tasks: [String: StoredTask]
    }
    struct StoredDocument: Decodable { var run: StoredRun }
    struct StoredStatus: Decodable {
        var name: String
        var phase: String
    }

    /// The run documents of the pipeline bucket, by pipeline; keys that do not decode.
    static func runs(_ observer: ChaosObserver) async throws -> (runs: [String: [PipelineChaosObservation.Run]], unreadable: [String]) {
        var runs: [String: [PipelineChaosObservation.Run]] = [:]
        var unreadable: [String] = []
        let decoder = JSONDecoder()
        for (key, value) in try await observer.stateEntries(Names.bucket, matching: "run.\(ChaosRunner.workspace).>") {
            guard let document = try? decoder.decode(StoredDocument.self, from: Data(value)) else {
                unreadable.append(key)
                continue
            }
            let run = document.run
            runs[run.pipeline, default: []].append(
                PipelineChaosObservation.Run(
                    id: run.id, pipeline: run.pipeline, state: run.state, triggerCommandID: run.trigger.commandID, reason: run.reason,
                    tasks: run.tasks.mapValues { task in
                        PipelineChaosObservation.Task(
                            state: task.state,
                            attempts: task.attempts.map {
                                .init(number: $0.number, commandID: $0.commandID, resourceType: $0.resourceType, resource: $0.resource, vendorRunID: $0.vendorRunID, outcome: $0.outcome)
                            }
                        )
                    }
                )
            )
        }
        return (runs, unreadable.sorted())
    }

    /// Pipelines whose status is `active` (applied and ready to run).
    static func activePipelines(_ observer: ChaosObserver) async throws -> Set<String> {
        let decoder = JSONDecoder()
        var active: Set<String> = []
        for (_, value) in try await observer.stateEntries(Names.bucket, matching: "status.\(ChaosRunner.workspace).>") {
            if let status = try? decoder.decode(StoredStatus.self, from: Data(value)), status.phase == "active" { active.insert(status.name) }
        }
        return active
    }

    /// The command and follow-up queues of the pipeline deployment and of every task type.
    static func queues(_ observer: ChaosObserver) async throws -> (commands: [ChaosObservation.Queue], followUps: [ChaosObservation.Queue]) {
        var (commands, followUps) = try await observer.queues()
        commands.append(try await observer.queue(stream: Names.commandStream, consumer: Names.commandConsumer))
        followUps.append(try await observer.queue(stream: Names.followUpStream, consumer: Names.followUpConsumer))
        return (commands, followUps)
    }

    // MARK: - The run

    /// Runs the `pipelines` scenario; never throws: set-up failures are reported as anomalies.
    public static func run(_ scenario: ChaosScenario, print output: @escaping @Sendable (String) -> Void) async -> ChaosReport {
        let started = ContinuousClock.now
        let runDirectory = ChaosRunner.makeRunDirectory(root: scenario.workRoot, name: scenario.name)
        let children = ChildProcesses(pidFile: runDirectory + "/pids")
        var report = ChaosReport(
            variant: scenario.name, applies: scenario.applies, replicaKills: 0, natsKills: 0, vendorFaultEvents: 0, duration: .zero,
            triggers: 0, redeliveries: 0, adoptedRuns: 0, injectedFaults: 0, rateLimited: 0, anomalies: [], runDirectory: runDirectory
        )
        var figures = PipelineChaosFigures()
        output(
            "== chaos \(scenario.name): \(scenario.applies) pipelines of \(scenario.pipelineTasks.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "5-20") tasks over \(scenario.types.joined(separator: ", ")), \(scenario.replicas) factory-operator replicas, seed \(scenario.seed); logs in \(runDirectory)"
        )
        var vendors: [ChaosVendor] = []
        var nats: ChaosNATS?
        var replicas: [ReplicaProcess] = []
        var running: Work?
        var client: NATSConnection?
        var observation = PipelineChaosObservation()
        do {
            for type in scenario.types {
                let vendor = try ChaosRunner.makeVendor(type, scenario)
                let url = try await vendor.start()
                vendors.append(ChaosVendor(names: ChaosNames(type: type), vendor: vendor, serviceURL: url))
            }
            let plan = Self.plan(scenario, vendors: vendors)
            observation.plan = PipelineChaosPlan(pipelines: plan.map(\.pipeline))
            for planned in plan {
                for task in planned.pipeline.tasks {
                    guard let vendor = vendors.first(where: { $0.type == task.type })?.vendor else { continue }
                    try vendor.prepare(task.index)
                    if task.forcedFailure { vendor.failNextRun(task.index) }
                }
            }
            figures.pipelines = plan.count
            figures.tasks = plan.reduce(0) { $0 + $1.pipeline.tasks.count }
            figures.forcedFailures = plan.filter { $0.pipeline.tasks.contains(where: \.forcedFailure) }.count

            nats = try await ChaosNATS.single(executable: scenario.natsServerBinary, children: children)
            guard let nats else { throw ChaosError("no NATS") }
            try await nats.waitForJetStream(replicas: 1)
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: nats.urls, name: "chaos-driver"))
            client = connection
            let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: .seconds(3)))

            var environment: [String: String] = [
                "NATS_URL": nats.urlList,
                "NATS_JETSTREAM_REPLICAS": "1",
                "OPERATOR_DRIVERS": (scenario.types + ["pipeline"]).joined(separator: ","),
                "OPERATOR_MAX_WORKERS": "\(scenario.workersPerReplica)",
                "OPERATOR_ACK_WAIT": "\(Int(scenario.ackWait.seconds * 1000))ms",
                "OPERATOR_RECONCILE_WORKERS_INTERVAL": "300ms",
                "OPERATOR_MAINTENANCE_INTERVAL": "5s",
                "PIPELINE_REPUBLISH_AFTER": "2s",
                "ELECTION_CLUSTER_SIZE": "\(scenario.replicas)",
                "LOG_LEVEL": "info",
            ]
            for vendor in vendors { environment.merge(vendor.vendor.environment(serviceURL: vendor.serviceURL)) { _, new in new } }
            for slot in 0..<scenario.replicas {
                let replica = ReplicaProcess(slot: slot, binary: scenario.factoryOperatorBinary, environment: environment, directory: runDirectory, children: children)
                try replica.start()
                replicas.append(replica)
            }
            try await ChaosRunner.waitForReady(replicas, timeout: .seconds(90))
            output("   ready after \(format(ContinuousClock.now - started)): nats \(nats.urlList), \(vendors.map { "\($0.type) \($0.serviceURL)" }.joined(separator: ", "))")

            let work = Work(scenario: scenario, output: output)
            running = work
            let observer = ChaosObserver(jetStream: jetStream, vendors: vendors)
            let workStarted = ContinuousClock.now
            let startedReplicas = replicas
            let progress = Progress()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await publish(plan, jetStream: jetStream, observer: observer, work: work, progress: progress, workStarted: workStarted) }
                if scenario.replicaKills { group.addTask { await work.killReplicas(startedReplicas) } }
                group.addTask { await work.watchReplicas(startedReplicas) }
                group.addTask { await work.watchNATS(nats) }
                group.addTask { await waitUntilSettled(plan, observer: observer, work: work, progress: progress, started: workStarted) }
                await group.waitForAll()
            }
            // Every replica up and a quiet spell: a late redelivery or republish shows now.
            for replica in replicas where !replica.isRunning { try? replica.start() }
            try? await Task.sleep(for: scenario.ackWait * 3)
            if work.unsettled == nil {
                await waitUntilSettled(plan, observer: observer, work: work, progress: progress, started: workStarted, quietly: true)
            }
            observation.unpublished = progress.unpublished
            observation.unsettled = work.unsettled
            observation.unexpectedExits = work.unexpectedExits
            try await sabotage(scenario, plan: plan, vendors: vendors, observer: observer, jetStream: jetStream, output: output)

            (observation.runs, observation.unreadableRuns) = try await runs(observer)
            for vendor in vendors {
                observation.runCounts[vendor.type] = vendor.vendor.runCounts()
                observation.vendorRuns += vendor.vendor.runLog().map {
                    ChaosObservation.VendorRun(type: vendor.type, target: $0.target, runID: $0.runID, marker: $0.marker, phase: $0.phase, vendorStatus: $0.vendorStatus)
                }
                observation.deadLetters += try await observer.deadLetters(vendor.names)
            }
            observation.deadLetters += try await observer.deadLetters(stream: Names.deadLetterStream, type: "pipeline")
            (observation.commandQueues, observation.followUpQueues) = try await queues(observer)
            report.anomalies = PipelineChaosChecker.check(observation)
            await writeStuckDiagnosis(report.anomalies, observation: observation, observer: observer, vendors: vendors, to: runDirectory + "/stuck.txt")
        } catch {
            report.anomalies.append(ChaosAnomaly(.didNotSettle, nil, "the run could not be carried out: \(error)"))
            for exit in running?.unexpectedExits ?? [] { report.anomalies.append(ChaosAnomaly(.replicaCrashed, nil, exit)) }
        }
        report.replicaKills = running?.replicaKills ?? 0

        // Figures: attempts and ends from the run documents, vendor runs from the vendors.
        var attemptsByType: [String: Int] = [:]
        var failedByType: [String: Int] = [:]
        for pipeline in observation.plan.pipelines {
            guard let run = observation.runs[pipeline.name]?.first(where: { $0.triggerCommandID == pipeline.runCommandID }) else {
                figures.results["no run", default: 0] += 1
                continue
            }
            figures.results[run.state, default: 0] += 1
            for (name, task) in run.tasks {
                figures.taskStates[task.state, default: 0] += 1
                figures.attempts += task.attempts.count
                guard let type = pipeline.task(name)?.type else { continue }
                attemptsByType[type, default: 0] += task.attempts.count
                failedByType[type, default: 0] += task.attempts.filter { $0.outcome == "failed" }.count
            }
        }
        for vendor in vendors {
            let runs = vendor.vendor.runCounts().values.reduce(0, +)
            report.triggers += runs
            let tasks = observation.plan.pipelines.flatMap(\.tasks).filter { $0.type == vendor.type }
            var typeFigures = ChaosTypeFigures(
                type: vendor.type, applies: attemptsByType[vendor.type] ?? 0, refused: 0, vendorRuns: runs, forcedFailures: tasks.filter(\.forcedFailure).count,
                failed: failedByType[vendor.type] ?? 0, deadLetters: observation.deadLetters.filter { $0.type == vendor.type }.count,
                anomalies: report.anomalies.filter { $0.detail.contains("\(vendor.type) target") || $0.detail.contains("\(vendor.type) run") }.count
            )
            typeFigures.redeliveries = 0
            report.types.append(typeFigures)
        }
        report.countRedeliveriesAndAdoptions(in: replicas)
        report.pipelines = figures
        report.duration = ContinuousClock.now - started

        await withTaskGroup(of: Void.self) { group in
            for replica in replicas { group.addTask { await replica.terminate(grace: .seconds(5)) } }
        }
        if let client { await client.close() }
        if let nats { await nats.stop() }
        for vendor in vendors { await vendor.vendor.stop() }
        children.killAll()
        if report.passed, !scenario.keepLogs {
            try? FileManager.default.removeItem(atPath: runDirectory)
        }
        output(
            "   \(report.passed ? "PASS" : "FAIL") \(scenario.name) in \(format(report.duration)): \(figures.pipelines) pipelines, \(figures.tasks) tasks, \(figures.attempts) task attempts, \(report.triggers) vendor runs, \(report.replicaKills) replica kills, \(report.anomalies.count) anomalies"
        )
        for anomaly in report.anomalies.prefix(50) { output("   ! \(anomaly)") }
        if report.anomalies.count > 50 { output("   ! … and \(report.anomalies.count - 50) more") }
        return report
    }

    /// For each pipeline whose run did not end: its tasks' state documents (entity and status, as
    /// the KV holds them) and what their vendor recorded for their targets, so that a stuck run
    /// can be told apart as never followed, followed but not seen by the advancer, or never
    /// triggered.
    static func writeStuckDiagnosis(
        _ anomalies: [ChaosAnomaly], observation: PipelineChaosObservation, observer: ChaosObserver, vendors: [ChaosVendor], to path: String
    ) async {
        let stuck = Set(anomalies.filter { $0.kind == .notTerminal }.compactMap(\.resource))
        guard !stuck.isEmpty else { return }
        var text = ""
        for pipeline in observation.plan.pipelines where stuck.contains(pipeline.name) {
            text += "== pipeline \(pipeline.name)\n"
            for run in observation.runs[pipeline.name] ?? [] {
                for (name, task) in run.tasks.sorted(by: { $0.key < $1.key }) {
                    text += "task \(name): \(task.state), attempts \(task.attempts.map { "\($0.commandID) \($0.outcome ?? "-") \($0.vendorRunID ?? "-")" })\n"
                }
            }
            for task in pipeline.tasks {
                guard let vendor = vendors.first(where: { $0.type == task.type }) else { continue }
                let resource = pipeline.resource(of: task.name)
                let entries = (try? await observer.stateEntries(vendor.names.stateBucket, matching: "*.public.\(resource)")) ?? [:]
                for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
                    text += "\(task.type) \(key): \(String(decoding: value, as: UTF8.self))\n"
                }
                for run in observation.vendorRuns where run.type == task.type && run.target == task.target {
                    text += "\(task.type) vendor run \(run.runID ?? "-") target \(run.target): \(run.phase ?? "running") (\(run.vendorStatus)) marker \(run.marker ?? "-")\n"
                }
            }
        }
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    /// What the publisher got done, shared with the settle watch.
    final class Progress: Sendable {
        private let state = Mutex<(applied: Set<String>, runs: Set<String>, unpublished: [String], done: Bool)>(([], [], [], false))
        func applied(_ name: String) { state.withLock { _ = $0.applied.insert(name) } }
        func ran(_ name: String) { state.withLock { _ = $0.runs.insert(name) } }
        func failed(_ name: String) { state.withLock { $0.unpublished.append(name) } }
        func finish() { state.withLock { $0.done = true } }
        var runs: Set<String> { state.withLock { $0.runs } }
        var applied: Set<String> { state.withLock { $0.applied } }
        var unpublished: [String] { state.withLock { $0.unpublished.sorted() } }
        var done: Bool { state.withLock { $0.done } }
    }

    /// Publishes `payload` with its message id until JetStream acknowledges it (the id makes a
    /// retry of a stored publish a no-op); false after 120 s.
    static func publish(_ payload: [UInt8], to subject: String, id: String, jetStream: JetStreamContext) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(120))
        var attempt = 0
        while ContinuousClock.now < deadline {
            attempt += 1
            do {
                _ = try await jetStream.publish(payload, to: subject, options: JetStreamPublishOptions(messageID: id, timeout: .seconds(2)))
                return true
            } catch {
                try? await Task.sleep(for: .milliseconds(min(2000, 100 * attempt)))
            }
        }
        return false
    }

    /// Applies every pipeline at `publishRate`; publishes each one's `run` once its status is
    /// `active` (read every half second); then opens the fault window's end.
    static func publish(_ plan: [Planned], jetStream: JetStreamContext, observer: ChaosObserver, work: Work, progress: Progress, workStarted: ContinuousClock.Instant) async {
        let interval = 1.0 / max(0.1, work.scenario.publishRate)
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { applies in
                    for (position, planned) in plan.enumerated() {
                        let due = started.advanced(by: .milliseconds(Int(Double(position) * interval * 1000)))
                        if due > ContinuousClock.now { try? await Task.sleep(until: due) }
                        applies.addTask {
                            if await publish(planned.apply, to: Names.subject, id: planned.pipeline.applyID, jetStream: jetStream) {
                                progress.applied(planned.pipeline.name)
                            } else {
                                progress.failed(planned.pipeline.name)
                                work.output("   ! the apply of \(planned.pipeline.name) could not be published within 120 s")
                            }
                        }
                    }
                }
            }
            group.addTask {
                let deadline = ContinuousClock.now.advanced(by: work.scenario.settleTimeout + work.scenario.faultWindow)
                while ContinuousClock.now < deadline {
                    let failed = Set(progress.unpublished)
                    let waiting = plan.filter { !progress.runs.contains($0.pipeline.name) && !failed.contains($0.pipeline.name) }
                    if waiting.isEmpty { return }
                    let active = (try? await activePipelines(observer)) ?? []
                    await withTaskGroup(of: Void.self) { runs in
                        for planned in waiting where active.contains(planned.pipeline.name) && progress.applied.contains(planned.pipeline.name) {
                            runs.addTask {
                                if await publish(planned.run, to: Names.subject, id: planned.pipeline.runCommandID, jetStream: jetStream) {
                                    progress.ran(planned.pipeline.name)
                                } else {
                                    progress.failed(planned.pipeline.name)
                                    work.output("   ! the run of \(planned.pipeline.name) could not be published within 120 s")
                                }
                            }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(500))
                }
                for planned in plan where !progress.runs.contains(planned.pipeline.name) && !progress.unpublished.contains(planned.pipeline.name) {
                    progress.failed(planned.pipeline.name)
                    work.output("   ! \(planned.pipeline.name) never became active: its run was not published")
                }
            }
            await group.waitForAll()
        }
        progress.finish()
        work.startFaultWindow(at: workStarted)
        work.output("   published \(progress.runs.count)/\(plan.count) pipelines (apply, then run once active) in \(format(ContinuousClock.now - started))")
    }

    /// Polls until every published pipeline's run has ended and every queue is empty, or the
    /// settle timeout passes after the faults ended.
    static func waitUntilSettled(
        _ plan: [Planned], observer: ChaosObserver, work: Work, progress: Progress, started: ContinuousClock.Instant, quietly: Bool = false
    ) async {
        var lastReport = ContinuousClock.now
        var faultsEndedAt: ContinuousClock.Instant?
        var last = "nothing observed yet"
        let scenario = work.scenario
        while true {
            if progress.done, work.faultsOver, faultsEndedAt == nil { faultsEndedAt = ContinuousClock.now }
            if let faultsEndedAt, ContinuousClock.now - faultsEndedAt > scenario.settleTimeout {
                work.finish(unsettled: "not settled \(format(scenario.settleTimeout)) after the faults ended; last seen: \(last)")
                return
            }
            do {
                let (runs, _) = try await runs(observer)
                let published = progress.runs
                var ended = 0
                var states: [String: Int] = [:]
                for planned in plan where published.contains(planned.pipeline.name) {
                    let run = runs[planned.pipeline.name]?.first { $0.triggerCommandID == planned.pipeline.runCommandID }
                    let state = run?.state ?? "none"
                    states[state, default: 0] += 1
                    if ["succeeded", "warning", "failed", "cancelled"].contains(state) { ended += 1 }
                }
                let (commandQueues, followUpQueues) = try await queues(observer)
                let commands = commandQueues.reduce(0) { $0 + $1.messages }
                let followUps = followUpQueues.reduce(0) { $0 + $1.messages }
                last = "\(ended) runs ended of \(published.count) published (\(states.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), \(commands) commands and \(followUps) follow-ups in the streams"
                if progress.done, ended >= published.count, commands == 0, followUps == 0 {
                    work.finish(unsettled: nil)
                    if !quietly { work.output("   settled after \(format(ContinuousClock.now - started)): \(last)") }
                    return
                }
            } catch {
                last = "observing failed: \(error)"
            }
            if scenario.verbose, !quietly, ContinuousClock.now - lastReport >= .seconds(5) {
                lastReport = ContinuousClock.now
                work.output("   \(format(ContinuousClock.now - started)): \(last); kills \(work.replicaKills)")
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Breaks the run on purpose: `extra-trigger` runs three tasks' targets a second time through
    /// the vendor's public API (dbt Cloud by default), `drop-status` purges one run document.
    static func sabotage(
        _ scenario: ChaosScenario, plan: [Planned], vendors: [ChaosVendor], observer: ChaosObserver, jetStream: JetStreamContext, output: (String) -> Void
    ) async throws {
        switch scenario.sabotage {
        case .none:
            return
        case .extraTrigger:
            let type = scenario.sabotagedType
            guard let vendor = vendors.first(where: { $0.type == type }) else { throw ChaosError("the sabotaged type \(type) is not in this scenario") }
            let runCounts = vendor.vendor.runCounts()
            let ran = plan.flatMap(\.pipeline.tasks).filter { $0.type == type && (runCounts[$0.target] ?? 0) > 0 }
            for task in ran.prefix(3) {
                let status = try await vendor.vendor.runOutOfBand(task.index, serviceURL: vendor.serviceURL)
                output("   sabotage: ran \(type) target \(task.target) a second time behind the operator's back (HTTP \(status))")
            }
        case .dropStatus:
            let (runs, _) = try await runs(observer)
            guard let pipeline = plan.first(where: { runs[$0.pipeline.name]?.isEmpty == false })?.pipeline, let run = runs[pipeline.name]?.first else { return }
            let bucket = try await jetStream.keyValue(Names.bucket)
            try await bucket.purge("run.\(ChaosRunner.workspace).\(pipeline.name).\(run.id)")
            output("   sabotage: purged the run document of \(pipeline.name) (\(run.id))")
        }
    }

    /// One row per run: pipelines, tasks, attempts, results.
    public static func table(_ reports: [ChaosReport]) -> String? {
        let rows = reports.compactMap { report -> [String]? in
            guard let figures = report.pipelines else { return nil }
            func count(_ states: [String: Int], _ keys: [String]) -> String { keys.map { "\(states[$0] ?? 0)" }.joined(separator: "/") }
            let other = figures.results.filter { !["succeeded", "warning", "failed"].contains($0.key) }.values.reduce(0, +)
            return [
                report.variant, "\(figures.pipelines)", "\(figures.tasks)", "\(figures.attempts)", "\(report.triggers)", "\(figures.forcedFailures)",
                count(figures.results, ["succeeded", "warning", "failed"]) + "/\(other)",
                count(figures.taskStates, ["succeeded", "failed", "upstream_failed", "skipped"]), "\(report.replicaKills)", "\(report.anomalies.count)",
            ]
        }
        guard !rows.isEmpty else { return nil }
        return ChaosReport.render(
            ["variant", "pipelines", "tasks", "task attempts", "vendor runs", "forced failures", "runs ok/warning/failed/other", "tasks ok/failed/upstream_failed/skipped", "kills", "anomalies"],
            rows
        )
    }
}
