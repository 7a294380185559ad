import Foundation

/// A run for people: its progress, a one-line summary, and the DAG as text (stages and tasks
/// with state, attempt, duration and vendor run id). The driver's status rows and `factoryctl`'s
/// `get --run -d` and `watch` show the same.
public struct PipelineRunText: Sendable {
    public let spec: PipelineSpec
    public let run: PipelineRun

    public init(spec: PipelineSpec, run: PipelineRun) {
        self.spec = spec
        self.run = run
    }

    /// Finished tasks over all tasks (0…1).
    public var progress: Double {
        let all = spec.allTasks.count
        guard all > 0 else { return 1 }
        return Double(finishedTasks) / Double(all)
    }

    public var finishedTasks: Int { spec.allTasks.filter { run.tasks[$0.name]?.state.isFinished ?? false }.count }

    /// `stage transform: 2/5 tasks done`; `finally: …` while only `finally` runs; the result and
    /// its reason once ended.
    public var summary: String {
        let done = "\(finishedTasks)/\(spec.allTasks.count) tasks done"
        if run.state.isFinished { return "\(run.state.rawValue): \(done)" + (run.reason.map { "; \($0)" } ?? "") }
        if run.state == .queued { return "queued: waiting for the concurrency limit (\(spec.concurrency.limit), onOverlap \(spec.concurrency.onOverlap.rawValue))" }
        let active = spec.stages.first { stage in stage.tasks.contains { run.tasks[$0.name].map { !$0.state.isFinished && $0.state != .pending } ?? false } }
        let place = active.map { "stage \($0.name)" } ?? (spec.finally.contains { run.tasks[$0.name].map { !$0.state.isFinished && $0.state != .pending } ?? false } ? "finally" : "starting")
        return (run.state == .cancelling ? "cancelling, " : "") + "\(place): \(done)"
    }

    /// A stage's state: its result once every task ended, else running (a task started) or
    /// pending.
    public func state(of stage: PipelineSpec.Stage) -> String {
        if let result = PipelineScheduler(spec: spec).result(of: stage, in: run) { return result.rawValue }
        return stage.tasks.contains { (run.tasks[$0.name]?.state ?? .pending) != .pending } ? "running" : "pending"
    }

    /// One task's row.
    public struct TaskLine: Sendable, Hashable {
        public var stage: String?
        public var task: String
        public var state: TaskState
        public var attempt: Int?
        public var duration: TimeInterval?
        public var vendorRunID: String?
        public var resource: String?
        public var reason: String?
    }

    public func lines(now: Date = Date()) -> [TaskLine] {
        var lines: [TaskLine] = []
        func line(_ task: PipelineSpec.Task, stage: String?) -> TaskLine {
            let taskRun = run.tasks[task.name] ?? TaskRun()
            let attempt = taskRun.lastAttempt
            var duration: TimeInterval?
            if let started = attempt?.startedAt { duration = (attempt?.finishedAt ?? (taskRun.state.isFinished ? started : now)).timeIntervalSince(started) }
            let resource = attempt.map { "\($0.resourceType)/\($0.resource)" }
            return TaskLine(
                stage: stage, task: task.name, state: taskRun.state, attempt: attempt?.number, duration: duration, vendorRunID: attempt?.vendorRunID,
                resource: resource, reason: taskRun.state == .succeeded ? nil : taskRun.reason)
        }
        for stage in spec.stages {
            for task in stage.tasks { lines.append(line(task, stage: stage.name)) }
        }
        for task in spec.finally { lines.append(line(task, stage: nil)) }
        return lines
    }

    /// The DAG as text, one line each for the run, every stage and every task.
    public func render(now: Date = Date()) -> [String] {
        var text: [String] = []
        let elapsed = run.startedAt.map { (run.finishedAt ?? now).timeIntervalSince($0) }
        var head = "run \(run.id)  \(run.state.rawValue)  \(triggerText)"
        if let elapsed { head += "  \(Self.duration(elapsed))" }
        text.append(head)
        if let reason = run.reason { text.append("  \(reason)") }
        let all = lines(now: now)
        let width = max(12, (all.map(\.task.count) + spec.stages.map { $0.name.count + 6 }).max() ?? 12)
        func pad(_ value: String, _ count: Int) -> String { value.count >= count ? value : value + String(repeating: " ", count: count - value.count) }
        func taskText(_ line: TaskLine) -> String {
            var row = "    " + pad(line.task, width) + "  " + pad(line.state.rawValue, 15)
            if let attempt = line.attempt { row += "  attempt \(attempt)" }
            if let duration = line.duration { row += "  " + pad(Self.duration(duration), 7) }
            if let id = line.vendorRunID { row += "  run \(id)" }
            if let reason = line.reason, line.state.isFinished || line.state == .upForRetry { row += "  (\(reason))" }
            return row
        }
        for stage in spec.stages {
            var row = "  " + pad("stage \(stage.name)", width + 2) + "  " + state(of: stage)
            if !stage.dependsOn.isEmpty { row += "  after \(stage.dependsOn.joined(separator: ", "))" + (stage.triggerRule == .allSuccess ? "" : " (\(stage.triggerRule.rawValue))") }
            text.append(row)
            for line in all where line.stage == stage.name { text.append(taskText(line)) }
        }
        if !spec.finally.isEmpty {
            text.append("  finally")
            for line in all where line.stage == nil { text.append(taskText(line)) }
        }
        return text
    }

    var triggerText: String {
        switch run.trigger.kind {
        case .manual: return "manual"
        default: return "\(run.trigger.kind.rawValue) input \(run.trigger.input ?? "?")"
        }
    }

    /// `850ms`, `12s`, `3m05s`, `1h02m`.
    public static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 1 { return "\(max(0, Int((seconds * 1000).rounded())))ms" }
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m" + String(format: "%02ds", total % 60) }
        return "\(total / 3600)h" + String(format: "%02dm", (total % 3600) / 60)
    }
}
