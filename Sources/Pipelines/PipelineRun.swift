import Foundation
import JSONSchema

/// A run's state. `queued`: waiting for the concurrency limit; `cancelling`: a cancel was asked
/// and running tasks are being cancelled.
public enum RunState: String, Sendable, Hashable, CaseIterable, Codable {
    case queued, running, cancelling, succeeded, warning, failed, cancelled, skipped

    public var isFinished: Bool {
        switch self {
        case .queued, .running, .cancelling: false
        case .succeeded, .warning, .failed, .cancelled, .skipped: true
        }
    }
}

/// A task's state in one run (Airflow's, with `warning`).
public enum TaskState: String, Sendable, Hashable, CaseIterable, Codable {
    case pending, queued, running, succeeded, warning, failed
    case timedOut = "timed_out"
    case cancelled, skipped
    case upstreamFailed = "upstream_failed"
    case upForRetry = "up_for_retry"

    public var isFinished: Bool {
        switch self {
        case .pending, .queued, .running, .upForRetry: false
        case .succeeded, .warning, .failed, .timedOut, .cancelled, .skipped, .upstreamFailed: true
        }
    }

    /// Ended in a way trigger rules count as success (`warning` is a success).
    public var isSuccess: Bool { self == .succeeded || self == .warning }

    /// Ended in a way trigger rules count as failure.
    public var isFailure: Bool { self == .failed || self == .timedOut || self == .cancelled || self == .upstreamFailed }
}

/// One run of a pipeline: one KV document, written by compare-and-set. The engine's view of it
/// (a run of the `pipeline` resource) is ``phase``.
public struct PipelineRun: Sendable, Hashable, Codable {
    public var id: String
    public var workspace: String
    public var pipeline: String
    /// The pipeline spec's digest this run follows (a run keeps the spec it started with).
    public var specDigest: String
    public var state: RunState
    /// What started it.
    public var trigger: RunTrigger
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Set by `cancel`: `stop` runs `finally`, `terminate` does not.
    public var cancel: CancelRequest?
    public var tasks: [String: TaskRun]
    /// A line for people: why it ended as it did.
    public var reason: String?

    public init(id: String, workspace: String, pipeline: String, specDigest: String, trigger: RunTrigger, createdAt: Date, tasks: [String: TaskRun], state: RunState = .queued) {
        self.id = id
        self.workspace = workspace
        self.pipeline = pipeline
        self.specDigest = specDigest
        self.state = state
        self.trigger = trigger
        self.createdAt = createdAt
        self.tasks = tasks
    }

    /// A new run of `spec`, every task pending.
    public static func new(id: String, workspace: String, pipeline: String, spec: PipelineSpec, specDigest: String, trigger: RunTrigger, at now: Date) -> PipelineRun {
        var tasks: [String: TaskRun] = [:]
        for task in spec.allTasks { tasks[task.name] = TaskRun() }
        return PipelineRun(id: id, workspace: workspace, pipeline: pipeline, specDigest: specDigest, trigger: trigger, createdAt: now, tasks: tasks)
    }

    /// The names of the tasks `test` holds for. Each pass over a run copies every task (the
    /// dictionary hands out copies), a long chain's cost per task of the run, so the engine
    /// makes one such pass where it needs several sets of tasks and looks the few found up.
    public func taskNames(where test: (TaskRun) -> Bool) -> [String] {
        tasks.compactMap { name, task in test(task) ? name : nil }
    }
}

/// What started a run, kept with it and available to task parameters as `${event…}`.
public struct RunTrigger: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case manual, nats, kv, schedule, pipeline
    }

    public var kind: Kind
    /// The input's name (nil for manual runs).
    public var input: String?
    /// The command that started the run.
    public var commandID: String
    /// The event: subject, payload, stream and sequence, KV key and operation, schedule slot,
    /// upstream run; as JSON.
    public var event: JSONValue?

    public init(kind: Kind, input: String? = nil, commandID: String, event: JSONValue? = nil) {
        self.kind = kind
        self.input = input
        self.commandID = commandID
        self.event = event
    }
}

public struct CancelRequest: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        case stop, terminate
    }

    /// Who asked: a `cancel` command, the run's own timeout (the run then fails), or a newer
    /// run under `onOverlap: cancel-previous`.
    public enum Cause: String, Sendable, Hashable, Codable, CaseIterable {
        case command
        case timeout
        case overlap
    }

    public var mode: Mode
    public var cause: Cause
    public var at: Date
    /// The `cancel` command, or the run that replaced this one.
    public var commandID: String?

    public init(mode: Mode, cause: Cause = .command, at: Date, commandID: String? = nil) {
        self.mode = mode
        self.cause = cause
        self.at = at
        self.commandID = commandID
    }
}

/// One task in one run: its state and every attempt.
public struct TaskRun: Sendable, Hashable, Codable {
    public var state: TaskState
    public var attempts: [Attempt]
    /// When `up_for_retry`: when the next attempt may start.
    public var retryAt: Date?
    /// Why it ended as it did (skipped, upstream_failed, the last attempt's error).
    public var reason: String?

    public init(state: TaskState = .pending, attempts: [Attempt] = [], retryAt: Date? = nil, reason: String? = nil) {
        self.state = state
        self.attempts = attempts
        self.retryAt = retryAt
        self.reason = reason
    }

    public var lastAttempt: Attempt? { attempts.last }

    /// Whether the last attempt has no outcome yet. Read in place: the engine asks it of every
    /// task of a run at every step, and copying each task's last attempt for it was measurable
    /// in a long chain.
    public var hasUndecidedAttempt: Bool {
        guard let last = attempts.indices.last else { return false }
        return attempts[last].outcome == nil
    }

    /// Whether the last attempt had a cancel published for its run (read in place).
    public var lastAttemptCancelRequested: Bool {
        guard let last = attempts.indices.last else { return false }
        return attempts[last].cancelRequested
    }

    /// Whether the task has work the rules follow: an attempt in progress or ended and not
    /// decided on yet, or a retry to come. A pending task (its stage not started) or a finished
    /// one has none, unless its last attempt is undecided.
    public var isOpen: Bool {
        switch state {
        case .queued, .running, .upForRetry: true
        default: hasUndecidedAttempt
        }
    }
}

/// One attempt of a task: one `run` command on its resource type's subject, whose id (and
/// `Nats-Msg-Id`) is `<runId>/<task>/<attempt>`, so publishing it twice starts it once.
public struct Attempt: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable, CaseIterable {
        case succeeded, warning, failed
        case timedOut = "timed_out"
        case cancelled
        /// The command ended without a vendor run (refused, or given up on API errors).
        case apiError = "api_error"
    }

    public var number: Int
    public var commandID: String
    /// The resource the attempt ran: its type and name.
    public var resourceType: String
    public var resource: String
    /// Recorded before the command is published; ``publishedAt`` after.
    public var queuedAt: Date
    public var publishedAt: Date?
    /// When its vendor run was first seen.
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Past this the attempt is timed out (and its vendor run cancelled where the vendor can).
    public var deadline: Date?
    /// The vendor's id of the run, once seen.
    public var vendorRunID: String?
    public var outcome: Outcome?
    public var error: String?
    /// A `cancel` was published for its run.
    public var cancelRequested: Bool

    public init(number: Int, commandID: String, resourceType: String, resource: String, queuedAt: Date, deadline: Date?) {
        self.number = number
        self.commandID = commandID
        self.resourceType = resourceType
        self.resource = resource
        self.queuedAt = queuedAt
        self.deadline = deadline
        self.cancelRequested = false
    }

    /// `<runId>/<task>/<attempt>`.
    public static func commandID(run: String, task: String, attempt: Int) -> String { "\(run)/\(task)/\(attempt)" }

    /// Recorded but neither marked published nor seen at its resource: its command may never
    /// have reached the stream, so it is published again. One already seen started (the mark
    /// was lost with its replica) is not: after the stream's duplicate window a second publish
    /// would be a second message, and a long run gives the window time to pass.
    public var awaitsPublication: Bool { outcome == nil && publishedAt == nil && startedAt == nil }
}
