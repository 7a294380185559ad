import JSONSchema

/// A pipeline's spec (`resource.type: pipeline`): stages of tasks across resource types, with
/// dependencies, trigger rules, retries, timeouts, a concurrency policy, `finally` tasks and the
/// inputs that start runs. Airflow's vocabulary, Orchestra's stages. Decoded and validated by
/// ``PipelineSpec/decode(_:context:)``; see docs/pipelines.md.
public struct PipelineSpec: Sendable, Hashable {
    public var inputs: [Input]
    public var concurrency: Concurrency
    /// The whole run's limit (nil: none).
    public var timeout: Duration?
    public var defaults: TaskDefaults
    /// In declaration order; ``dependsOn`` names earlier or later stages (a DAG, no cycles).
    public var stages: [Stage] { didSet { index = Index(stages: stages, finally: finally) } }
    /// Run after the stages end (or after a `stop` cancel), whatever their results.
    public var finally: [Task] { didSet { index = Index(stages: stages, finally: finally) } }
    /// Tasks and stages by name, rebuilt whenever ``stages`` or ``finally`` change: the
    /// scheduler and the advancer look tasks up by name for every task of a run, and a linear
    /// search made a 1,000-task fan-out's steps quadratic (docs/benchmarks.md).
    private var index: Index

    public init(inputs: [Input] = [], concurrency: Concurrency = .init(), timeout: Duration? = nil, defaults: TaskDefaults = .init(), stages: [Stage], finally: [Task] = []) {
        self.inputs = inputs
        self.concurrency = concurrency
        self.timeout = timeout
        self.defaults = defaults
        self.stages = stages
        self.finally = finally
        self.index = Index(stages: stages, finally: finally)
    }

    /// Every task, stages' first (in order), then `finally`'s.
    public var allTasks: [Task] { index.allTasks }

    public func stage(named name: String) -> Stage? { index.stages[name].map { stages[$0] } }

    /// The stage a task belongs to (nil for `finally` tasks).
    public func stage(ofTask name: String) -> Stage? { index.stageOfTask[name].map { stages[$0] } }

    public func task(named name: String) -> Task? { index.tasks[name].map { index.allTasks[$0] } }

    /// Where the task is in ``allTasks`` (nil: no such task).
    public func position(ofTask name: String) -> Int? { index.tasks[name] }

    /// Where the stage is in ``stages`` (nil: no such stage).
    func position(ofStage name: String) -> Int? { index.stages[name] }

    /// The names of the tasks of the stage at `position`, in order (the rules read a stage's
    /// tasks' states at every step: its tasks copied for it were a chain's cost per stage).
    func taskNames(ofStageAt position: Int) -> [String] { index.stageTaskNames[position] }

    /// The positions of the stages the stage at `position` depends on (unknown names left out).
    func upstream(ofStageAt position: Int) -> [Int] { index.upstream[position] }

    /// Derived from the stages and `finally` alone, so equality and hashing leave it out. The
    /// first of duplicate names wins, as the linear searches did (validation refuses duplicates).
    private struct Index: Sendable {
        var allTasks: [Task]
        var tasks: [String: Int] = [:]
        var stages: [String: Int] = [:]
        var stageOfTask: [String: Int] = [:]
        /// By stage position: its tasks' names.
        var stageTaskNames: [[String]]
        /// By stage position: where its `dependsOn` stages are.
        var upstream: [[Int]]

        init(stages: [Stage], finally: [Task]) {
            allTasks = stages.flatMap(\.tasks) + finally
            stageTaskNames = stages.map { $0.tasks.map(\.name) }
            for (position, task) in allTasks.enumerated() where tasks[task.name] == nil { tasks[task.name] = position }
            for (position, stage) in stages.enumerated() {
                if self.stages[stage.name] == nil { self.stages[stage.name] = position }
                for task in stage.tasks where stageOfTask[task.name] == nil { stageOfTask[task.name] = position }
            }
            let positions = self.stages
            upstream = stages.map { stage in stage.dependsOn.compactMap { positions[$0] } }
        }
    }

    public static func == (lhs: PipelineSpec, rhs: PipelineSpec) -> Bool {
        lhs.inputs == rhs.inputs && lhs.concurrency == rhs.concurrency && lhs.timeout == rhs.timeout && lhs.defaults == rhs.defaults
            && lhs.stages == rhs.stages && lhs.finally == rhs.finally
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(inputs)
        hasher.combine(concurrency)
        hasher.combine(timeout)
        hasher.combine(defaults)
        hasher.combine(stages)
        hasher.combine(finally)
    }
}

extension PipelineSpec {
    /// A stage: tasks that start together once the stage's trigger rule holds for its upstream
    /// stages, and whose results make the stage's.
    public struct Stage: Sendable, Hashable {
        public var name: String
        public var dependsOn: [String]
        public var triggerRule: TriggerRule
        /// Only these failing fail the stage (nil: every task is core).
        public var core: Set<String>?
        public var tasks: [Task]

        public init(name: String, dependsOn: [String] = [], triggerRule: TriggerRule = .allSuccess, core: Set<String>? = nil, tasks: [Task]) {
            self.name = name
            self.dependsOn = dependsOn
            self.triggerRule = triggerRule
            self.core = core
            self.tasks = tasks
        }

        public func isCore(_ task: String) -> Bool { core.map { $0.contains(task) } ?? true }
    }

    /// Airflow's trigger rules, over the results of a stage's upstream stages.
    public enum TriggerRule: String, Sendable, Hashable, CaseIterable {
        case allSuccess = "all_success"
        case allDone = "all_done"
        case allFailed = "all_failed"
        case oneSuccess = "one_success"
        case oneFailed = "one_failed"
        case noneFailed = "none_failed"
        case noneFailedMinOneSuccess = "none_failed_min_one_success"
        case always
    }

    /// One unit of work: run an applied resource as it is, or an integration's job with
    /// parameters (the pipeline owns a resource for it, named `<pipeline>--<task>`).
    public struct Task: Sendable, Hashable {
        public enum Work: Sendable, Hashable {
            /// `resource: NAME` (of type `type`, or found by name among the hosted types).
            case resource(name: String, type: String?)
            /// `integration`, `job`, `parameters`: the resource type, the job (which may fix
            /// spec fields, e.g. Fivetran's action), and the spec (templates allowed in strings).
            case inline(integration: String, job: String, parameters: JSONValue)
        }

        public var name: String
        public var work: Work
        /// One attempt's limit (nil: the defaults', else none).
        public var timeout: Duration?
        public var retries: Retries?
        /// A failure of this task makes the stage `warning`, never `failed`.
        public var failureIsWarning: Bool

        public init(name: String, work: Work, timeout: Duration? = nil, retries: Retries? = nil, failureIsWarning: Bool = false) {
            self.name = name
            self.work = work
            self.timeout = timeout
            self.retries = retries
            self.failureIsWarning = failureIsWarning
        }
    }

    /// What a task does when an attempt fails.
    public struct Retries: Sendable, Hashable {
        public enum Backoff: String, Sendable, Hashable, CaseIterable {
            case constant, linear, exponential
        }

        /// Why an attempt failed, as retries choose among them.
        public enum Cause: String, Sendable, Hashable, CaseIterable {
            /// The command failed without a vendor run: the vendor's API refused or failed.
            case apiError = "api_error"
            /// The attempt passed its timeout.
            case timeout
            /// The vendor run ended failed.
            case jobFailed = "job_failed"
        }

        /// Attempts after the first (0: none).
        public var limit: Int
        public var backoff: Backoff
        public var delay: Duration
        public var maxDelay: Duration
        public var on: Set<Cause>

        public init(limit: Int = 0, backoff: Backoff = .exponential, delay: Duration = .seconds(30), maxDelay: Duration = .seconds(600), on: Set<Cause> = [.apiError]) {
            self.limit = limit
            self.backoff = backoff
            self.delay = delay
            self.maxDelay = maxDelay
            self.on = on
        }

        /// The wait before attempt `attempt` (2 is the first retry).
        public func delay(before attempt: Int) -> Duration {
            let retry = max(1, attempt - 1)
            let wait: Duration
            switch backoff {
            case .constant: wait = delay
            case .linear: wait = delay * retry
            case .exponential: wait = delay * (1 << min(retry - 1, 30))
            }
            return min(wait, maxDelay)
        }
    }

    /// Applied to tasks that do not say otherwise.
    public struct TaskDefaults: Sendable, Hashable {
        public var timeout: Duration?
        public var retries: Retries

        public init(timeout: Duration? = nil, retries: Retries = Retries()) {
            self.timeout = timeout
            self.retries = retries
        }
    }

    /// How many runs of the pipeline may be active at once, and what a new one does at the limit.
    public struct Concurrency: Sendable, Hashable {
        public enum Overlap: String, Sendable, Hashable, CaseIterable {
            /// Wait until a run ends.
            case queue
            /// Not started: recorded as skipped.
            case skip
            /// The oldest active run is cancelled (stop) and the new one starts.
            case cancelPrevious = "cancel-previous"
            /// No limit.
            case parallel
        }

        public var limit: Int
        public var onOverlap: Overlap

        public init(limit: Int = 1, onOverlap: Overlap = .queue) {
            self.limit = limit
            self.onOverlap = onOverlap
        }
    }

    /// What starts a run besides `factoryctl run`.
    public struct Input: Sendable, Hashable {
        public enum Source: Sendable, Hashable {
            /// Every message on `subject` of `stream` (a durable consumer per pipeline and input).
            case nats(stream: String, subject: String)
            /// Every change of a key matching `key` in `bucket`, of the given operations.
            case kv(bucket: String, key: String, operations: Set<KVOperation>)
            /// Each slot of a cron schedule in a time zone, fired once by the elected leader.
            case schedule(CronSchedule)
            /// Another pipeline's run ending with one of `results`.
            case pipeline(name: String, results: Set<RunState>)
        }

        public enum KVOperation: String, Sendable, Hashable, CaseIterable {
            case put, delete
        }

        public var name: String
        public var source: Source

        public init(name: String, source: Source) {
            self.name = name
            self.source = source
        }
    }
}

// MARK: - Task effective settings

extension PipelineSpec {
    /// The timeout of one attempt of `task`.
    public func timeout(of task: Task) -> Duration? { task.timeout ?? defaults.timeout }

    /// The retries of `task`.
    public func retries(of task: Task) -> Retries { task.retries ?? defaults.retries }
}
