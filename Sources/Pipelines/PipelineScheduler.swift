import Foundation

/// The pipeline's rules as a pure function: given a run and the time, what changes and what to
/// do (publish an attempt's command, cancel a vendor run). The runtime records the changed run
/// by compare-and-set first and carries out the actions only if it won, so every action is
/// decided once. Nothing here reads a clock, the network or KV.
public struct PipelineScheduler: Sendable {
    public let spec: PipelineSpec

    public init(spec: PipelineSpec) {
        self.spec = spec
    }

    /// What the runtime does after recording the run.
    public enum Action: Sendable, Hashable {
        /// Publish the attempt's `run` command (id and `Nats-Msg-Id`: the attempt's command id).
        case publish(task: String, attempt: Attempt)
        /// Publish a `cancel` for the attempt's resource (its run passed a deadline, or the
        /// pipeline run is cancelled).
        case cancel(task: String, attempt: Attempt)
    }

    /// A stage's result once all its tasks ended.
    public enum StageResult: String, Sendable, Hashable {
        case succeeded, warning, failed, skipped
        case upstreamFailed = "upstream_failed"
        case cancelled

        var isSuccess: Bool { self == .succeeded || self == .warning }
        var isFailure: Bool { self == .failed || self == .upstreamFailed || self == .cancelled }
    }

    // MARK: - Advance

    /// Moves `run` as far as its facts allow at `now` and returns the actions to carry out once
    /// the new run is recorded. Calling it again with nothing new changes nothing and returns no
    /// action (so every replica may call it; compare-and-set picks one writer).
    /// `open`: the names of the run's open tasks (``TaskRun/isOpen``) where the caller found
    /// them already (nil: found here).
    public func advance(_ run: inout PipelineRun, now: Date, open openNames: [String]? = nil) -> [Action] {
        guard run.state == .running || run.state == .cancelling else { return [] }
        var actions: [Action] = []

        // The whole run's timeout: a stop cancel that ends the run failed.
        if let timeout = spec.timeout, run.cancel == nil, let started = run.startedAt, now >= started.addingTimeInterval(timeout.seconds) {
            run.cancel = CancelRequest(mode: .stop, cause: .timeout, at: now)
            run.reason = "the run passed its timeout of \(timeout.text)"
        }
        if run.cancel != nil { run.state = .cancelling }

        // Only the open tasks (an attempt in progress, ended, or up for retry) can change below
        // before their stages are looked at: a pass over the run finds them, in the spec's order,
        // rather than a look-up of every task of the spec three times (a long chain's steps were
        // quadratic).
        let open = openTasks(named: openNames ?? run.taskNames(where: \.isOpen))

        // Attempts past their deadline, or running when the run is cancelled: cancel them.
        for task in open {
            guard var taskRun = run.tasks[task.name], var attempt = taskRun.lastAttempt, attempt.outcome == nil else { continue }
            let inFinally = spec.stage(ofTask: task.name) == nil
            let cancelled = run.cancel != nil && !(inFinally && run.cancel?.mode == .stop)
            if let deadline = attempt.deadline, now >= deadline {
                attempt.outcome = .timedOut
                attempt.error = "no result within the task's timeout of \(spec.timeout(of: task)?.text ?? "?")"
            } else if cancelled {
                attempt.outcome = .cancelled
                attempt.error = run.cancel?.cause == .timeout ? "the run passed its timeout" : "the run was cancelled"
            } else {
                continue
            }
            attempt.finishedAt = now
            if !attempt.cancelRequested {
                attempt.cancelRequested = true
                actions.append(.cancel(task: task.name, attempt: attempt))
            }
            taskRun.attempts[taskRun.attempts.count - 1] = attempt
            run.tasks[task.name] = taskRun
        }

        // Ended attempts decide their task: done, or up for retry.
        for task in open {
            guard var taskRun = run.tasks[task.name], !taskRun.state.isFinished, taskRun.state != .upForRetry,
                let attempt = taskRun.lastAttempt, let outcome = attempt.outcome
            else { continue }
            let retries = spec.retries(of: task)
            if let cause = outcome.retryCause, retries.on.contains(cause), attempt.number <= retries.limit, run.cancel == nil {
                taskRun.state = .upForRetry
                taskRun.retryAt = now.addingTimeInterval(retries.delay(before: attempt.number + 1).seconds)
                taskRun.reason = "attempt \(attempt.number) \(outcome.rawValue)\(attempt.error.map { ": \($0)" } ?? ""); retrying"
            } else {
                taskRun.state = outcome.taskState
                taskRun.reason = outcome == .succeeded ? nil : attempt.error ?? "attempt \(attempt.number) \(outcome.rawValue)"
            }
            run.tasks[task.name] = taskRun
        }

        // Retries that are due (or given up by a cancel).
        for task in open {
            guard var taskRun = run.tasks[task.name], taskRun.state == .upForRetry else { continue }
            if run.cancel != nil {
                taskRun.state = taskRun.lastAttempt?.outcome?.taskState ?? .cancelled
                taskRun.retryAt = nil
                taskRun.reason = (taskRun.reason ?? "") + " (not retried: the run was cancelled)"
                run.tasks[task.name] = taskRun
                continue
            }
            guard let due = taskRun.retryAt, now >= due else { continue }
            let attempt = newAttempt(task, number: (taskRun.lastAttempt?.number ?? 0) + 1, run: run, now: now)
            taskRun.attempts.append(attempt)
            taskRun.state = .queued
            taskRun.retryAt = nil
            run.tasks[task.name] = taskRun
            actions.append(.publish(task: task.name, attempt: attempt))
        }

        // Stages whose trigger rule is decided.
        var progressed = true
        while progressed {
            progressed = false
            // By position: a stage is copied only once it runs.
            for position in spec.stages.indices where stageNotStarted(at: position, in: run) {
                let decision: Decision = run.cancel != nil ? .cancel : decide(stageAt: position, in: run)
                switch decision {
                case .wait:
                    continue
                case .run:
                    for task in spec.stages[position].tasks {
                        let attempt = newAttempt(task, number: 1, run: run, now: now)
                        run.tasks[task.name] = TaskRun(state: .queued, attempts: [attempt])
                        actions.append(.publish(task: task.name, attempt: attempt))
                    }
                case .skip(let reason), .upstreamFailed(let reason), .cancelWith(let reason):
                    let state: TaskState
                    switch decision {
                    case .skip: state = .skipped
                    case .upstreamFailed: state = .upstreamFailed
                    default: state = .cancelled
                    }
                    for name in spec.taskNames(ofStageAt: position) { run.tasks[name] = TaskRun(state: state, reason: reason) }
                    progressed = true
                case .cancel:
                    for name in spec.taskNames(ofStageAt: position) { run.tasks[name] = TaskRun(state: .cancelled, reason: "not started: the run was cancelled") }
                    progressed = true
                }
            }
        }

        // `finally`, once every stage task ended (a terminate skips it). From the last stage
        // back: while a run goes, a late stage is the one not done, found at once.
        let stagesDone = spec.stages.indices.reversed().allSatisfy { position in
            spec.taskNames(ofStageAt: position).allSatisfy { run.tasks[$0]?.state.isFinished ?? true }
        }
        if stagesDone {
            for task in spec.finally where run.tasks[task.name]?.state == .pending {
                if run.cancel?.mode == .terminate {
                    run.tasks[task.name] = TaskRun(state: .cancelled, reason: "not started: the run was terminated")
                } else {
                    let attempt = newAttempt(task, number: 1, run: run, now: now)
                    run.tasks[task.name] = TaskRun(state: .queued, attempts: [attempt])
                    actions.append(.publish(task: task.name, attempt: attempt))
                }
            }
        }

        // The end.
        if stagesDone, run.tasks.values.allSatisfy(\.state.isFinished) {
            let (state, reason) = result(of: run)
            run.state = state
            run.reason = run.reason ?? reason
            run.finishedAt = now
        }
        return actions
    }

    /// The next moment `advance` would change something on its own (a deadline, a retry, the
    /// run's timeout), so the runtime can look again then.
    /// `among`: the tasks to look at, at least those with a retry to come or an attempt in
    /// progress (nil: found here).
    public func nextDeadline(of run: PipelineRun, among: [String]? = nil) -> Date? {
        guard !run.state.isFinished else { return nil }
        var moments: [Date] = []
        if let timeout = spec.timeout, run.cancel == nil, let started = run.startedAt { moments.append(started.addingTimeInterval(timeout.seconds)) }
        for name in among ?? run.taskNames(where: { $0.retryAt != nil || $0.hasUndecidedAttempt }) {
            guard let taskRun = run.tasks[name] else { continue }
            if let retryAt = taskRun.retryAt { moments.append(retryAt) }
            if taskRun.hasUndecidedAttempt, let deadline = taskRun.lastAttempt?.deadline { moments.append(deadline) }
        }
        return moments.min()
    }

    // MARK: - Facts from the resources

    /// Records what the resource of `task`'s current attempt shows: its vendor run started, or
    /// ended with `outcome`. Facts about an older attempt, or an attempt already decided (timed
    /// out, cancelled), are ignored. Returns whether anything changed.
    @discardableResult
    public static func observe(_ run: inout PipelineRun, task: String, commandID: String, _ observation: AttemptObservation, at now: Date) -> Bool {
        guard var taskRun = run.tasks[task], var attempt = taskRun.lastAttempt, attempt.commandID == commandID, attempt.outcome == nil else { return false }
        let before = attempt
        if let vendorRunID = observation.vendorRunID, attempt.vendorRunID == nil { attempt.vendorRunID = vendorRunID }
        if observation.started, attempt.startedAt == nil { attempt.startedAt = now }
        // Seen at its resource: its command was published, whether or not the mark was written.
        if observation.started, attempt.publishedAt == nil { attempt.publishedAt = now }
        if let outcome = observation.outcome {
            attempt.outcome = outcome
            attempt.error = observation.error
            attempt.finishedAt = now
            if attempt.startedAt == nil, outcome != .apiError { attempt.startedAt = now }
        }
        guard attempt != before else { return false }
        taskRun.attempts[taskRun.attempts.count - 1] = attempt
        if taskRun.state == .queued, attempt.startedAt != nil { taskRun.state = .running }
        run.tasks[task] = taskRun
        return true
    }

    /// Marks the attempt's command as published (the runtime does so after the publish is acked).
    @discardableResult
    public static func markPublished(_ run: inout PipelineRun, task: String, commandID: String, at now: Date) -> Bool {
        guard var taskRun = run.tasks[task], var attempt = taskRun.lastAttempt, attempt.commandID == commandID, attempt.publishedAt == nil else { return false }
        attempt.publishedAt = now
        taskRun.attempts[taskRun.attempts.count - 1] = attempt
        run.tasks[task] = taskRun
        return true
    }

    // MARK: - Rules

    enum Decision: Equatable {
        case wait, run, cancel
        case skip(String)
        case upstreamFailed(String)
        case cancelWith(String)
    }

    /// The tasks named (those of a run with work the rules follow, ``TaskRun/isOpen``), in the
    /// spec's order.
    func openTasks(named names: [String]) -> [PipelineSpec.Task] {
        var positions: [Int] = []
        for name in names {
            if let position = spec.position(ofTask: name) { positions.append(position) }
        }
        let all = spec.allTasks
        return positions.sorted().map { all[$0] }
    }

    /// A stage starts all its tasks at once (or skips, or cancels them all), so one task that is
    /// not pending shows it started; only a stage that looks not started is looked at whole.
    private func stageNotStarted(at position: Int, in run: PipelineRun) -> Bool {
        spec.taskNames(ofStageAt: position).allSatisfy { run.tasks[$0]?.state == .pending }
    }

    /// A stage's result, or nil while any of its tasks is unfinished.
    public func result(of stage: PipelineSpec.Stage, in run: PipelineRun) -> StageResult? {
        // Most stages asked about are not done: said before collecting their tasks' states.
        guard stage.tasks.allSatisfy({ run.tasks[$0.name]?.state.isFinished ?? false }) else { return nil }
        return finishedResult(of: stage, in: run)
    }

    /// The result of the stage at `position`, its tasks' states read by name until one is
    /// unfinished (nil): the stage is copied only once it is done.
    func result(ofStageAt position: Int, in run: PipelineRun) -> StageResult? {
        guard spec.taskNames(ofStageAt: position).allSatisfy({ run.tasks[$0]?.state.isFinished ?? false }) else { return nil }
        return finishedResult(of: spec.stages[position], in: run)
    }

    /// The result of a stage whose tasks all finished.
    private func finishedResult(of stage: PipelineSpec.Stage, in run: PipelineRun) -> StageResult {
        let states = stage.tasks.map { run.tasks[$0.name]?.state ?? .pending }
        if states.allSatisfy({ $0 == .skipped }) { return .skipped }
        if states.allSatisfy({ $0 == .upstreamFailed }) { return .upstreamFailed }
        if states.allSatisfy({ $0 == .cancelled }) { return .cancelled }
        var failed = false
        var warning = false
        for task in stage.tasks {
            let state = run.tasks[task.name]?.state ?? .pending
            if state == .warning { warning = true }
            guard state.isFailure else { continue }
            if stage.isCore(task.name) && !task.failureIsWarning { failed = true } else { warning = true }
        }
        return failed ? .failed : warning ? .warning : .succeeded
    }

    /// Whether a stage that has not started runs now, waits, or ends without running.
    func decide(_ stage: PipelineSpec.Stage, in run: PipelineRun) -> Decision {
        decide(upstream: stage.dependsOn.compactMap { spec.position(ofStage: $0) }, rule: stage.triggerRule, dependsOn: stage.dependsOn, in: run)
    }

    /// ``decide(_:in:)`` for the stage at `position`, without copying it.
    func decide(stageAt position: Int, in run: PipelineRun) -> Decision {
        decide(upstream: spec.upstream(ofStageAt: position), rule: spec.stages[position].triggerRule, dependsOn: spec.stages[position].dependsOn, in: run)
    }

    /// `upstream`: the positions of the stage's `dependsOn` stages.
    private func decide(upstream: [Int], rule: PipelineSpec.TriggerRule, dependsOn: @autoclosure () -> [String], in run: PipelineRun) -> Decision {
        // Counted without collecting: every stage not started is asked at every step.
        var doneCount = 0
        var successes = 0
        var failures = 0
        var skips = 0
        for position in upstream {
            guard let result = result(ofStageAt: position, in: run) else { continue }
            doneCount += 1
            if result.isSuccess { successes += 1 }
            if result.isFailure { failures += 1 }
            if result == .skipped { skips += 1 }
        }
        guard !upstream.isEmpty else { return .run }
        let allDone = doneCount == upstream.count
        var names: String { dependsOn().joined(separator: ", ") }
        switch rule {
        case .always:
            return .run
        case .allSuccess:
            if failures > 0 { return .upstreamFailed("an upstream stage (\(names)) failed") }
            guard allDone else { return .wait }
            if skips > 0 { return .skip("an upstream stage (\(names)) was skipped") }
            return .run
        case .allDone:
            return allDone ? .run : .wait
        case .allFailed:
            if successes > 0 || skips > 0 { return .skip("not every upstream stage (\(names)) failed") }
            return allDone ? .run : .wait
        case .oneSuccess:
            if successes > 0 { return .run }
            guard allDone else { return .wait }
            return skips == upstream.count ? .skip("every upstream stage (\(names)) was skipped") : .upstreamFailed("no upstream stage (\(names)) succeeded")
        case .oneFailed:
            if failures > 0 { return .run }
            return allDone ? .skip("no upstream stage (\(names)) failed") : .wait
        case .noneFailed:
            if failures > 0 { return .upstreamFailed("an upstream stage (\(names)) failed") }
            return allDone ? .run : .wait
        case .noneFailedMinOneSuccess:
            if failures > 0 { return .upstreamFailed("an upstream stage (\(names)) failed") }
            guard allDone else { return .wait }
            return successes > 0 ? .run : .skip("every upstream stage (\(names)) was skipped")
        }
    }

    /// The run's result once every task ended: a user's cancel is `cancelled`; a run timeout is
    /// `failed`; otherwise `failed` when a stage failed (a core task failed) or was
    /// `upstream_failed`. A stage that runs because of a failure (`one_failed`, `all_failed`) or
    /// whatever happened (`all_done`, `always`) reacts to it: it does not make the run succeed.
    /// What absorbs a failure is the stage's own rule: a non-core or `failureIsWarning` task
    /// failing makes the stage, and the run, `warning`, as does a failed `finally` task.
    public func result(of run: PipelineRun) -> (RunState, String?) {
        if let cancel = run.cancel {
            switch cancel.cause {
            case .timeout: return (.failed, run.reason)
            case .overlap: return (.cancelled, "cancelled by a newer run (onOverlap: cancel-previous)")
            case .command: return (.cancelled, "cancelled (\(cancel.mode.rawValue))")
            }
        }
        if let first = spec.stages.first(where: { result(of: $0, in: run) == .failed }) ?? spec.stages.first(where: { result(of: $0, in: run)?.isFailure ?? false }) {
            let failedTasks = first.tasks.filter { run.tasks[$0.name]?.state.isFailure ?? false }.map(\.name)
            return (.failed, "stage \(first.name) \(result(of: first, in: run)?.rawValue ?? "failed")" + (failedTasks.isEmpty ? "" : ": \(failedTasks.joined(separator: ", "))"))
        }
        let warnings = spec.stages.filter { result(of: $0, in: run) == .warning }.map(\.name)
            + spec.finally.filter { run.tasks[$0.name]?.state.isFailure ?? false }.map(\.name)
        if !warnings.isEmpty { return (.warning, "not fully successful: \(warnings.joined(separator: ", "))") }
        return (.succeeded, nil)
    }

    private func newAttempt(_ task: PipelineSpec.Task, number: Int, run: PipelineRun, now: Date) -> Attempt {
        let (type, name) = resource(of: task, pipeline: run.pipeline)
        return Attempt(
            number: number, commandID: Attempt.commandID(run: run.id, task: task.name, attempt: number), resourceType: type ?? "", resource: name,
            queuedAt: now, deadline: spec.timeout(of: task).map { now.addingTimeInterval($0.seconds) }
        )
    }

    /// The resource a task runs: an applied one by name, or the one the pipeline owns for it.
    public func resource(of task: PipelineSpec.Task, pipeline: String) -> (type: String?, name: String) {
        switch task.work {
        case .resource(let name, let type): (type, name)
        case .inline(let integration, _, _): (integration, Self.ownedResourceName(pipeline: pipeline, task: task.name))
        }
    }

    /// `<pipeline>--<task>`.
    public static func ownedResourceName(pipeline: String, task: String) -> String { "\(pipeline)--\(task)" }
}

/// What a task's resource shows about the attempt's command.
public struct AttemptObservation: Sendable, Hashable {
    /// Its vendor run exists (queued or running at the vendor).
    public var started: Bool
    public var vendorRunID: String?
    /// Set once the attempt ended.
    public var outcome: Attempt.Outcome?
    public var error: String?

    public init(started: Bool, vendorRunID: String? = nil, outcome: Attempt.Outcome? = nil, error: String? = nil) {
        self.started = started
        self.vendorRunID = vendorRunID
        self.outcome = outcome
        self.error = error
    }
}

extension Attempt.Outcome {
    /// What retries call this failure (nil: not a failure, or a cancel, which is never retried).
    var retryCause: PipelineSpec.Retries.Cause? {
        switch self {
        case .succeeded, .warning, .cancelled: nil
        case .failed: .jobFailed
        case .timedOut: .timeout
        case .apiError: .apiError
        }
    }

    /// The task state an attempt that is not retried leaves.
    var taskState: TaskState {
        switch self {
        case .succeeded: .succeeded
        case .warning: .warning
        case .failed, .apiError: .failed
        case .timedOut: .timedOut
        case .cancelled: .cancelled
        }
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `90s` → `1m30s`.
    var text: String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        let (hours, minutes, rest) = (total / 3600, (total % 3600) / 60, total % 60)
        return (hours > 0 ? "\(hours)h" : "") + (minutes > 0 ? "\(minutes)m" : "") + (rest > 0 ? "\(rest)s" : "")
    }
}
