import Foundation

/// The pipelines of a `pipelines` chaos run, as the driver planned them (deterministic from the
/// seed): each pipeline's stages, its tasks with their vendor targets, and which task the run
/// forces to fail at its vendor. The checker derives every expected result from this alone.
public struct PipelineChaosPlan: Sendable {
    public struct Task: Sendable, Hashable {
        public var name: String
        /// The stage it belongs to; nil for a `finally` task.
        public var stage: String?
        /// Its resource type (the vendor).
        public var type: String
        /// The vendor target index (each task of the whole run its own target).
        public var index: Int
        /// The target as the vendor's records name it.
        public var target: String
        /// Its vendor run is forced to fail.
        public var forcedFailure: Bool
        /// The forced failure holds for every run of the target (the HTTP target), not only the
        /// first (the other vendors).
        public var failsEveryRun: Bool
        /// `retries.limit` of the task, on `job_failed` (0: no retries declared).
        public var retries: Int

        public init(name: String, stage: String?, type: String, index: Int, target: String, forcedFailure: Bool = false, failsEveryRun: Bool = false, retries: Int = 0) {
            self.name = name
            self.stage = stage
            self.type = type
            self.index = index
            self.target = target
            self.forcedFailure = forcedFailure
            self.failsEveryRun = failsEveryRun
            self.retries = retries
        }

        /// The outcome of each attempt the task makes when it runs: a forced failure fails the
        /// first vendor run (every run where `failsEveryRun`); a failed attempt is retried while
        /// `retries` allows.
        public var expectedAttempts: [String] {
            var outcomes: [String] = []
            while outcomes.count <= retries {
                let fails = forcedFailure && (failsEveryRun || outcomes.isEmpty)
                outcomes.append(fails ? "failed" : "succeeded")
                if !fails { break }
            }
            return outcomes
        }
    }

    public struct Stage: Sendable, Hashable {
        public var name: String
        public var dependsOn: [String]
        /// `all_success` (nil) or `one_failed`: the two rules the plan uses.
        public var triggerRule: String?
        /// Core tasks (nil: every task is core).
        public var core: [String]?
        public var tasks: [String]

        public init(name: String, dependsOn: [String] = [], triggerRule: String? = nil, core: [String]? = nil, tasks: [String]) {
            self.name = name
            self.dependsOn = dependsOn
            self.triggerRule = triggerRule
            self.core = core
            self.tasks = tasks
        }
    }

    public struct Pipeline: Sendable, Hashable {
        public var name: String
        /// The `Nats-Msg-Id` (command id) of its apply and of its one `run` command.
        public var applyID: String
        public var runCommandID: String
        /// In dependency order.
        public var stages: [Stage]
        public var finally: [String]
        public var tasks: [Task]

        public init(name: String, applyID: String, runCommandID: String, stages: [Stage], finally: [String], tasks: [Task]) {
            self.name = name
            self.applyID = applyID
            self.runCommandID = runCommandID
            self.stages = stages
            self.finally = finally
            self.tasks = tasks
        }

        public func task(_ name: String) -> Task? { tasks.first { $0.name == name } }
        /// The owned resource an inline task runs.
        public func resource(of task: String) -> String { "\(name)--\(task)" }
    }

    public var pipelines: [Pipeline]

    public init(pipelines: [Pipeline]) {
        self.pipelines = pipelines
    }

    /// The run result and every task's end by the rules of docs/pipelines.md, derived from the
    /// plan alone (a task's end is its last attempt's, ``Task/expectedAttempts``): a stage runs when its rule holds over its upstream stages' results
    /// (`all_success`: none failed or upstream_failed, none skipped; `one_failed`: one failed),
    /// else its tasks end `upstream_failed` (`all_success`) or `skipped`; a stage whose core task
    /// failed is `failed`, one with only non-core failures `warning`; `finally` tasks always run.
    /// The run is `failed` when a stage failed or was upstream_failed, `warning` when a stage was
    /// `warning` or a `finally` task failed, `succeeded` else.
    public static func expected(_ pipeline: Pipeline) -> (run: String, tasks: [String: String]) {
        var stageResults: [String: String] = [:]
        var tasks: [String: String] = [:]
        for stage in pipeline.stages {
            let upstream = stage.dependsOn.compactMap { stageResults[$0] }
            let runs: Bool
            var otherwise = "upstream_failed"
            switch stage.triggerRule {
            case "one_failed":
                runs = upstream.contains("failed")
                otherwise = "skipped"
            default:
                if upstream.contains(where: { $0 == "failed" || $0 == "upstream_failed" }) {
                    runs = false
                } else if upstream.contains("skipped") {
                    runs = false
                    otherwise = "skipped"
                } else {
                    runs = true
                }
            }
            guard runs else {
                for task in stage.tasks { tasks[task] = otherwise }
                stageResults[stage.name] = otherwise
                continue
            }
            var result = "succeeded"
            for name in stage.tasks {
                let failed = pipeline.task(name)?.expectedAttempts.last == "failed"
                tasks[name] = failed ? "failed" : "succeeded"
                guard failed else { continue }
                if stage.core.map({ $0.contains(name) }) ?? true {
                    result = "failed"
                } else if result == "succeeded" {
                    result = "warning"
                }
            }
            stageResults[stage.name] = result
        }
        var finallyFailed = false
        for name in pipeline.finally {
            let failed = pipeline.task(name)?.expectedAttempts.last == "failed"
            tasks[name] = failed ? "failed" : "succeeded"
            finallyFailed = finallyFailed || failed
        }
        let results = Set(stageResults.values)
        let run =
            results.contains("failed") || results.contains("upstream_failed") ? "failed"
            : results.contains("warning") || finallyFailed ? "warning" : "succeeded"
        return (run, tasks)
    }
}

/// What a `pipelines` chaos run observed once the work settled: the plan, the run documents in
/// the pipeline bucket (decoded by the observer's own types), every vendor's own records, and the
/// streams. Judged by ``PipelineChaosChecker``.
public struct PipelineChaosObservation: Sendable {
    public struct Attempt: Sendable, Hashable {
        public var number: Int
        public var commandID: String
        public var resourceType: String
        public var resource: String
        public var vendorRunID: String?
        /// `succeeded`, `failed`, `timed_out`, `api_error`, …; nil while undecided.
        public var outcome: String?

        public init(number: Int, commandID: String, resourceType: String, resource: String, vendorRunID: String?, outcome: String?) {
            self.number = number
            self.commandID = commandID
            self.resourceType = resourceType
            self.resource = resource
            self.vendorRunID = vendorRunID
            self.outcome = outcome
        }
    }

    public struct Task: Sendable, Hashable {
        public var state: String
        public var attempts: [Attempt]

        public init(state: String, attempts: [Attempt]) {
            self.state = state
            self.attempts = attempts
        }
    }

    /// One run document (`run.<workspace>.<pipeline>.<runId>`).
    public struct Run: Sendable, Hashable {
        public var id: String
        public var pipeline: String
        public var state: String
        public var triggerCommandID: String
        public var reason: String?
        public var tasks: [String: Task]

        public init(id: String, pipeline: String, state: String, triggerCommandID: String, reason: String?, tasks: [String: Task]) {
            self.id = id
            self.pipeline = pipeline
            self.state = state
            self.triggerCommandID = triggerCommandID
            self.reason = reason
            self.tasks = tasks
        }
    }

    public var plan = PipelineChaosPlan(pipelines: [])
    /// Pipelines whose apply or run command JetStream never acknowledged.
    public var unpublished: [String] = []
    /// Run documents by pipeline name (documents of unknown pipelines under their own name).
    public var runs: [String: [Run]] = [:]
    /// Keys of the pipeline bucket that could not be read as run documents.
    public var unreadableRuns: [String] = []
    public var vendorRuns: [ChaosObservation.VendorRun] = []
    /// Runs per type and target from each vendor's counters.
    public var runCounts: [String: [String: Int]] = [:]
    public var commandQueues: [ChaosObservation.Queue] = []
    public var followUpQueues: [ChaosObservation.Queue] = []
    public var deadLetters: [ChaosObservation.DeadLetter] = []
    public var unexpectedExits: [String] = []
    public var unsettled: String?

    public init() {}
}

/// Judges a `pipelines` chaos run: every pipeline has exactly one run, ended, with the result and
/// task ends the rules give for its forced failures; every task attempt recorded in the run
/// documents was run exactly once at its vendor, carrying the attempt's command id where the
/// vendor keeps it; no vendor run without an attempt; nothing left in the streams.
public enum PipelineChaosChecker {
    /// The command id a dbt Cloud run's cause carries for `commandID` (`[factory:<id>]` when the
    /// id is short and plain, else the SHA-256 of the id, as docs/dbtcloud.md says).
    static func acceptedMarkers(_ commandID: String) -> Set<String> {
        [commandID, "sha256-" + ChaosSHA256.hex(Array(commandID.utf8))]
    }

    public static func check(_ observation: PipelineChaosObservation) -> [ChaosAnomaly] {
        var anomalies: [ChaosAnomaly] = []
        func report(_ kind: ChaosAnomaly.Kind, _ resource: String?, _ detail: String) {
            anomalies.append(ChaosAnomaly(kind, resource, detail))
        }
        if let unsettled = observation.unsettled { report(.didNotSettle, nil, unsettled) }
        for exit in observation.unexpectedExits { report(.replicaCrashed, nil, exit) }
        for name in observation.unpublished { report(.notPublished, name, "JetStream never acknowledged its apply or run command") }
        for key in observation.unreadableRuns { report(.strayKey, nil, "\(key) is not a readable run document") }

        struct Target: Hashable {
            var type: String
            var target: String
        }
        var vendorRuns: [String: [ChaosObservation.VendorRun]] = [:]
        for run in observation.vendorRuns { vendorRuns["\(run.type)/\(run.target)", default: []].append(run) }
        var planned: Set<Target> = []
        let unpublished = Set(observation.unpublished)

        for pipeline in observation.plan.pipelines where !unpublished.contains(pipeline.name) {
            for task in pipeline.tasks { planned.insert(Target(type: task.type, target: task.target)) }
            let runs = observation.runs[pipeline.name] ?? []
            let ours = runs.filter { $0.triggerCommandID == pipeline.runCommandID }
            for other in runs where other.triggerCommandID != pipeline.runCommandID {
                report(.runDuplicated, pipeline.name, "run \(other.id) was started by command \(other.triggerCommandID), which the driver never sent")
            }
            if ours.count > 1 {
                report(.runDuplicated, pipeline.name, "\(ours.count) runs (\(ours.map(\.id).joined(separator: ", "))) for the one run command \(pipeline.runCommandID)")
            }
            // Vendor runs of the pipeline's targets, judged against the attempts of every run
            // document (a duplicated run's attempts count too: a vendor run belongs to some attempt).
            var attemptsByTask: [String: [PipelineChaosObservation.Attempt]] = [:]
            for run in runs {
                for (name, task) in run.tasks { attemptsByTask[name, default: []] += task.attempts }
            }
            guard let run = ours.first else {
                report(.runMissing, pipeline.name, "no run document for run command \(pipeline.runCommandID)")
                checkVendorRuns(pipeline, attemptsByTask: attemptsByTask, vendorRuns: vendorRuns, report: report)
                continue
            }
            let expected = PipelineChaosPlan.expected(pipeline)
            if !["succeeded", "warning", "failed"].contains(run.state) {
                report(.notTerminal, pipeline.name, "run \(run.id) is \(run.state) (\(run.reason ?? "no reason")): stuck")
            } else if run.state != expected.run {
                report(.resultUnexpected, pipeline.name, "run \(run.id) ended \(run.state) (\(run.reason ?? "no reason")); by the rules, with \(forcedText(pipeline)), it must be \(expected.run)")
            }
            for name in Set(run.tasks.keys).subtracting(pipeline.tasks.map(\.name)).sorted() {
                report(.taskStateUnexpected, pipeline.name, "run \(run.id) has a task \(name) the pipeline does not declare")
            }
            for task in pipeline.tasks {
                let want = expected.tasks[task.name] ?? "?"
                guard let observed = run.tasks[task.name] else {
                    report(.taskStateUnexpected, pipeline.name, "run \(run.id) has no task \(task.name) (expected \(want))")
                    continue
                }
                if observed.state != want {
                    report(.taskStateUnexpected, pipeline.name, "task \(task.name) (\(task.type) \(task.target)) is \(observed.state), expected \(want) (\(forcedText(pipeline)))")
                }
                let ran = want == "succeeded" || want == "failed"
                let wantOutcomes = ran ? task.expectedAttempts : []
                if observed.attempts.count != wantOutcomes.count {
                    report(.attemptsUnexpected, pipeline.name, "task \(task.name) has \(observed.attempts.count) attempts, expected \(wantOutcomes.count) (\(task.retries) retries declared, \(forcedText(pipeline)))")
                }
                for attempt in observed.attempts {
                    let id = "\(run.id)/\(task.name)/\(attempt.number)"
                    if attempt.commandID != id {
                        report(.runCommandMismatch, pipeline.name, "attempt \(attempt.number) of \(task.name) has command id \(attempt.commandID), expected \(id)")
                    }
                    if attempt.resourceType != task.type || attempt.resource != pipeline.resource(of: task.name) {
                        report(.runOfAnotherTarget, pipeline.name, "attempt \(attempt.commandID) ran \(attempt.resourceType) \(attempt.resource), expected \(task.type) \(pipeline.resource(of: task.name))")
                    }
                    if let outcome = attempt.outcome, attempt.number >= 1, attempt.number <= wantOutcomes.count, outcome != wantOutcomes[attempt.number - 1] {
                        report(.runStatusContradicts, pipeline.name, "attempt \(attempt.commandID) recorded \(outcome), expected \(wantOutcomes[attempt.number - 1])")
                    }
                }
            }
            checkVendorRuns(pipeline, attemptsByTask: attemptsByTask, vendorRuns: vendorRuns, report: report)
        }

        // A vendor run at a target no planned task names.
        for (type, counts) in observation.runCounts.sorted(by: { $0.key < $1.key }) {
            for (target, count) in counts.sorted(by: { $0.key < $1.key }) where count > 0 && !planned.contains(Target(type: type, target: target)) {
                report(.strayTrigger, nil, "\(type) target \(target) ran \(count) time(s) but no task of a published pipeline names it")
            }
        }
        for queue in observation.commandQueues where !queue.isEmpty {
            report(.commandsLeft, nil, "\(queue.stream): \(queue.messages) messages, \(queue.pendingAcks) unacknowledged, \(queue.undelivered) undelivered")
        }
        for queue in observation.followUpQueues where !queue.isEmpty {
            report(.followUpsLeft, nil, "\(queue.stream): \(queue.messages) messages, \(queue.pendingAcks) unacknowledged, \(queue.undelivered) undelivered")
        }
        for letter in observation.deadLetters {
            report(.deadLetter, letter.resource, "\(letter.type) dead letter of command \(letter.commandID ?? "?"): \(letter.reason)")
        }
        return anomalies
    }

    static func forcedText(_ pipeline: PipelineChaosPlan.Pipeline) -> String {
        let forced = pipeline.tasks.filter(\.forcedFailure).map(\.name)
        return forced.isEmpty ? "no forced failure" : "forced failure of \(forced.joined(separator: ", "))"
    }

    /// Every attempt of each task: exactly one vendor run at the task's target, carrying the
    /// attempt's command id where the vendor keeps one, with the vendor run id the attempt
    /// recorded, ended as the attempt recorded; no vendor run beyond the attempts.
    static func checkVendorRuns(
        _ pipeline: PipelineChaosPlan.Pipeline, attemptsByTask: [String: [PipelineChaosObservation.Attempt]],
        vendorRuns byTarget: [String: [ChaosObservation.VendorRun]], report: (ChaosAnomaly.Kind, String?, String) -> Void
    ) {
        for task in pipeline.tasks {
            let attempts = attemptsByTask[task.name] ?? []
            let runs = byTarget["\(task.type)/\(task.target)"] ?? []
            if runs.count > attempts.count {
                let kind: ChaosAnomaly.Kind = attempts.isEmpty ? .strayTrigger : .doubleTrigger
                report(kind, pipeline.name, "\(task.type) target \(task.target) (task \(task.name)) ran \(runs.count) times for \(attempts.count) attempt(s): \(runs.map { $0.runID ?? $0.vendorStatus }.joined(separator: ", "))")
            } else if runs.count < attempts.count {
                report(.noTrigger, pipeline.name, "\(task.type) target \(task.target) (task \(task.name)) ran \(runs.count) times for \(attempts.count) attempt(s) (\(attempts.map(\.commandID).joined(separator: ", ")))")
            }
            for (position, attempt) in attempts.sorted(by: { $0.number < $1.number }).enumerated() {
                var candidates = runs
                // A vendor that keeps neither a marker nor a run id (Fivetran): its runs, in the
                // order it started them, are the attempts in theirs.
                if !runs.contains(where: { $0.marker != nil || $0.runID != nil }) {
                    candidates = position < runs.count ? [runs[position]] : []
                }
                let markers = acceptedMarkers(attempt.commandID)
                if runs.contains(where: { $0.marker != nil }) {
                    candidates = runs.filter { $0.marker.map(markers.contains) ?? false }
                    if candidates.isEmpty {
                        report(.runCommandMismatch, pipeline.name, "no \(task.type) run at target \(task.target) carries attempt \(attempt.commandID); markers there: \(runs.map { $0.marker ?? "none" }.joined(separator: ", "))")
                        continue
                    }
                    if candidates.count > 1 {
                        report(.doubleTrigger, pipeline.name, "\(candidates.count) \(task.type) runs carry attempt \(attempt.commandID)")
                    }
                }
                if let id = attempt.vendorRunID, runs.contains(where: { $0.runID != nil }) {
                    candidates = candidates.filter { $0.runID == id }
                    if candidates.isEmpty {
                        report(.runUnknownToVendor, pipeline.name, "attempt \(attempt.commandID) recorded \(task.type) run \(id), which target \(task.target) never ran (or not for this attempt)")
                        continue
                    }
                }
                guard let run = candidates.first else { continue }
                if let outcome = attempt.outcome, let phase = run.phase, outcome != phase {
                    report(.runStatusContradicts, pipeline.name, "attempt \(attempt.commandID) recorded \(outcome), the vendor's run \(run.runID ?? "") ended \(phase) (\(run.vendorStatus))")
                }
                if attempt.outcome != nil, run.phase == nil {
                    report(.runStatusContradicts, pipeline.name, "attempt \(attempt.commandID) recorded \(attempt.outcome ?? ""), the vendor's run \(run.runID ?? "") has not ended (\(run.vendorStatus))")
                }
            }
        }
    }
}
