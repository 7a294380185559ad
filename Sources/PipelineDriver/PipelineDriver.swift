import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Logging
import Pipelines

/// The `pipeline` resource type on the engine. An apply stores the pipeline (its spec checked
/// in full, nothing triggered: `runsOnApply` is false); a `run` command creates one run
/// document in the pipeline bucket (`run.<workspace>.<pipeline>.<runId>`), admitted by the
/// pipeline's concurrency policy; the engine follows the run through `observe`, which reads the
/// document. The companion's advancer does the rest: it publishes each task attempt as a command
/// to the task's type and records what the task resources' statuses show (docs/pipelines.md).
public struct PipelineDriver: ResourceDriver {
    /// A decoded spec, its JSON and its digest.
    public struct Spec: Sendable {
        public var pipeline: PipelineSpec
        public var json: JSONValue
        public var digest: String
    }

    /// What "exists" for a pipeline: the spec applied, in short.
    public struct Objects: DriverValue, Codable, Hashable {
        public var specDigest: String
        public var stages: Int
        public var tasks: Int
        public var inputs: [String]
    }

    /// One run document.
    public struct RunReference: DriverValue, Codable, Hashable {
        public var workspace: String
        public var pipeline: String
        public var run: String

        var key: String { PipelineNames.runKey(workspace: workspace, pipeline: pipeline, run: run) }
    }

    let runtime: PipelineRuntime
    let registry: ResourceTypeRegistry

    public init(runtime: PipelineRuntime, registry: ResourceTypeRegistry = .builtIn) {
        self.runtime = runtime
        self.registry = registry
    }

    public var descriptor: DriverDescriptor { Self.descriptor }

    public var summary: String { "pipelines: runs in the pipeline bucket, attempts republished after \(DurationParser.format(runtime.settings.republishAfter))" }

    // MARK: - Spec

    /// The full check (`PipelineSpec.decode` with the built-in types). The pipeline's name is not
    /// known here, so the names of the resources it owns (`<pipeline>--<task>`) are checked again
    /// by `trigger`, and by `factoryctl validate`.
    public func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        try decode(spec, pipelineName: "p")
    }

    func decode(_ spec: JSONValue, pipelineName: String) throws(VendorFailure) -> Spec {
        switch PipelineSpec.decode(spec, pipelineName: pipelineName, registry: registry) {
        case .success(let decoded):
            return Spec(pipeline: decoded, json: spec, digest: Self.digest(spec))
        case .failure(let errors):
            let lines = errors.problems.map { (problem: PipelineSpecProblem) -> String in
                let path: String = problem.path == "/" ? "" : problem.path
                return "/spec" + path + ": " + problem.message
            }
            throw VendorFailure(kind: .rejected, reason: "invalidPipeline", message: lines.joined(separator: "; "))
        }
    }

    static func digest(_ spec: JSONValue) -> String { SHA256.hexDigest(spec.serializedBytes(sortedKeys: true)) }

    // MARK: - Objects

    public func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        Objects(specDigest: spec.digest, stages: spec.pipeline.stages.count, tasks: spec.pipeline.allTasks.count, inputs: spec.pipeline.inputs.map(\.name))
    }

    public func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {
        // Runs in progress go on to their end; the inputs stop with the entity (the companion
        // follows deletes). Nothing exists at a vendor for the pipeline itself.
    }

    // MARK: - Runs

    public func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        guard let workspace = context.workspace, let name = context.name else {
            throw VendorFailure(kind: .rejected, reason: "invalidCommand", message: "a pipeline run needs the resource's workspace and name")
        }
        // Again with the pipeline's own name: its owned resources' names must be valid too.
        let checked = try decode(spec.json, pipelineName: name)
        let pipeline = checked.pipeline
        let trigger = try Self.trigger(of: pipeline, context: context)
        let store = try runtime.store()
        let runID = PipelineRun.id(commandID: context.commandID, at: context.intentAt)
        let key = PipelineNames.runKey(workspace: workspace, pipeline: name, run: runID)
        let reference = RunReference(workspace: workspace, pipeline: name, run: runID)
        return try await Self.vendorCall("creating run \(runID) of \(workspace)/\(name)") { () async throws -> TriggeredRun<RunReference> in
            if let existing = try await store.get(key) {
                return TriggeredRun(reference: reference, observation: Self.observation(existing.document))
            }
            let runs = try await store.runs(workspace: workspace, pipeline: name)
            // One run per command, whenever it is sent again (an input's event re-sent after the
            // duplicate window): the run this command already started is the answer.
            if let earlier = runs.first(where: { $0.document.run.trigger.commandID == context.commandID }) {
                let found = RunReference(workspace: workspace, pipeline: name, run: earlier.document.run.id)
                return TriggeredRun(reference: found, observation: Self.observation(earlier.document))
            }
            let now = Date()
            var run = PipelineRun.new(id: runID, workspace: workspace, pipeline: name, spec: pipeline, specDigest: checked.digest, trigger: trigger, at: now)
            let active = runs.map(\.document.run).filter { $0.state == .running || $0.state == .cancelling }
            let queued = runs.filter { $0.document.run.state == .queued }.count
            switch PipelineAdmission.decide(pipeline.concurrency, active: active, queuedAhead: queued) {
            case .start:
                Self.start(&run, at: now)
            case .startCancelling(let older):
                // The older runs' stop is recorded before the new run exists: a crash in between
                // resumes here and finds them cancelled already.
                for id in older {
                    try await store.modify(PipelineNames.runKey(workspace: workspace, pipeline: name, run: id)) { document in
                        guard !document.run.state.isFinished, document.run.cancel == nil else { return false }
                        document.run.cancel = CancelRequest(mode: .stop, cause: .overlap, at: now, commandID: runID)
                        return true
                    }
                }
                Self.start(&run, at: now)
            case .queue:
                run.reason = "queued behind \(active.count) active and \(queued) queued run(s) (limit \(pipeline.concurrency.limit), onOverlap queue)"
            case .skip(let reason):
                run.state = .skipped
                run.finishedAt = now
                run.reason = "skipped: \(reason)"
                for task in pipeline.allTasks { run.tasks[task.name] = TaskRun(state: .skipped, reason: "the run was skipped") }
            }
            let document = PipelineRunDocument(run: run, spec: checked.json)
            if try await store.create(document, key: key) == nil, let existing = try await store.get(key) {
                return TriggeredRun(reference: reference, observation: Self.observation(existing.document))
            }
            return TriggeredRun(reference: reference, observation: Self.observation(document))
        }
    }

    static func start(_ run: inout PipelineRun, at now: Date) {
        run.state = .running
        run.startedAt = now
        run.reason = nil
    }

    /// What started the run: by hand, or the input the command names (with its event).
    static func trigger(of pipeline: PipelineSpec, context: TriggerContext) throws(VendorFailure) -> RunTrigger {
        guard let name = context.input else { return RunTrigger(kind: .manual, commandID: context.commandID, event: context.event) }
        guard let input = pipeline.inputs.first(where: { $0.name == name }) else {
            throw VendorFailure(
                kind: .rejected, reason: "unknownInput",
                message: "the pipeline has no input \(name) (its inputs: \(pipeline.inputs.map(\.name).joined(separator: ", ")))")
        }
        let kind: RunTrigger.Kind
        switch input.source {
        case .nats: kind = .nats
        case .kv: kind = .kv
        case .schedule: kind = .schedule
        case .pipeline: kind = .pipeline
        }
        return RunTrigger(kind: kind, input: name, commandID: context.commandID, event: context.event)
    }

    public func runs(since point: ResumePoint<NoBaseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        guard let workspace = point.workspace, let name = point.name else { return [] }
        let store = try runtime.store()
        return try await Self.vendorCall("listing the runs of \(workspace)/\(name)") { () async throws -> [TriggeredRun<RunReference>] in
            try await store.runs(workspace: workspace, pipeline: name)
                .filter { $0.document.run.trigger.commandID == point.commandID }
                .map { TriggeredRun(reference: RunReference(workspace: workspace, pipeline: name, run: $0.document.run.id), observation: Self.observation($0.document)) }
        }
    }

    public func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        let store = try runtime.store()
        return try await Self.vendorCall("reading run \(run.run)") { () async throws -> RunObservation? in
            try await store.get(run.key).map { Self.observation($0.document) }
        }
    }

    public var canCancel: Bool { true }

    public func cancel(_ run: RunReference, objects: Objects) async throws(VendorFailure) {
        try await cancel(run, objects: objects, mode: .stop)
    }

    /// Records the cancel on the run: a queued run ends cancelled at once; a running one is
    /// stopped by the advancer (`stop` runs `finally`, `terminate` does not). A `terminate` after a
    /// `stop` makes it a terminate. A run that ended meanwhile is left as it is and the cancel is
    /// refused with ``VendorFailure/runEnded(_:)`` (the engine answers it `runEnded`), whether or
    /// not the engine's status has recorded the end yet.
    public func cancel(_ run: RunReference, objects: Objects, mode: CancelMode) async throws(VendorFailure) {
        let store = try runtime.store()
        let requested = mode == .terminate ? CancelRequest.Mode.terminate : .stop
        let written = try await Self.vendorCall("cancelling run \(run.run)") { () async throws -> PipelineRunStore.Entry? in
            try await store.modify(run.key) { document in
                let now = Date()
                guard !document.run.state.isFinished else {
                    throw VendorFailure.runEnded(
                        "run \(document.run.id) of \(run.workspace)/\(run.pipeline) already ended (\(document.run.state.rawValue)); nothing was cancelled")
                }
                if document.run.state == .queued {
                    document.run.cancel = CancelRequest(mode: requested, cause: .command, at: now)
                    document.run.state = .cancelled
                    document.run.finishedAt = now
                    document.run.reason = "cancelled (\(requested.rawValue)) before it started"
                    for (name, task) in document.run.tasks where !task.state.isFinished {
                        document.run.tasks[name] = TaskRun(state: .cancelled, reason: "not started: the run was cancelled")
                    }
                    return true
                }
                if var existing = document.run.cancel {
                    guard existing.mode == .stop, requested == .terminate else { return false }
                    existing.mode = .terminate
                    document.run.cancel = existing
                    return true
                }
                document.run.cancel = CancelRequest(mode: requested, cause: .command, at: now)
                return true
            }
        }
        guard written != nil else {
            throw VendorFailure(kind: .rejected, reason: "unknownRun", message: "no run \(run.run) of \(run.workspace)/\(run.pipeline)")
        }
    }

    public func reference(forRun id: String, workspace: String, name: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference? {
        guard NameRule.violation(in: id) == nil else { return nil }
        let reference = RunReference(workspace: workspace, pipeline: name, run: id)
        let store = try runtime.store()
        return try await Self.vendorCall("reading run \(id)") { () async throws -> RunReference? in
            try await store.get(reference.key) == nil ? nil : reference
        }
    }

    // MARK: - The engine's view of a run

    /// A run document as the engine's run: its phase, progress, a summary line, and the tasks'
    /// states as details.
    static func observation(_ document: PipelineRunDocument) -> RunObservation {
        let run = document.run
        let phase: RunPhase
        switch run.state {
        case .queued: phase = .queued
        case .running, .cancelling: phase = .running
        case .succeeded: phase = .succeeded
        case .warning: phase = .warning
        case .failed: phase = .failed
        case .cancelled, .skipped: phase = .cancelled
        }
        var details = JSONObject()
        var summary = "\(run.state.rawValue)"
        var progress: Double?
        if let spec = RunSpecs.shared.spec(of: document) {
            let text = PipelineRunText(spec: spec, run: run)
            summary = text.summary
            progress = text.progress
            var stages = JSONObject()
            for stage in spec.stages { stages[stage.name] = .string(text.state(of: stage)) }
            details["stages"] = .object(stages)
            var tasks = JSONObject()
            for line in text.lines() {
                var row: JSONObject = ["state": .string(line.state.rawValue)]
                if let stage = line.stage { row["stage"] = .string(stage) }
                if let attempt = line.attempt { row["attempt"] = .number(JSONNumber(attempt)) }
                if let duration = line.duration, let number = JSONNumber(duration) { row["seconds"] = .number(number) }
                if let id = line.vendorRunID { row["vendorRunID"] = .string(id) }
                if let reason = line.reason { row["reason"] = .string(reason) }
                tasks[line.task] = .object(row)
            }
            details["tasks"] = .object(tasks)
        }
        var trigger: String = run.trigger.kind.rawValue
        if let input = run.trigger.input { trigger += " " + input }
        details["trigger"] = JSONValue.string(trigger)
        let failed = phase == .failed || phase == .cancelled
        return RunObservation(
            phase: phase, vendorStatus: run.state.rawValue, vendorRunID: run.id, createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt,
            progress: progress, summary: summary, error: failed ? run.reason : nil, details: .object(details)
        )
    }

    // MARK: - Detail rows

    public func objectRows(_ objects: Objects) -> [DetailRow] {
        [
            DetailRow("Stages:", "\(objects.stages)"),
            DetailRow("Tasks:", "\(objects.tasks)"),
            DetailRow("Inputs:", objects.inputs.isEmpty ? "none (runs by hand)" : objects.inputs.joined(separator: ", ")),
        ]
    }

    public func runRows(_ run: RunRecord) -> [DetailRow] {
        guard let details = run.details?.objectValue else { return [] }
        var rows: [DetailRow] = []
        if let trigger = details["trigger"]?.stringValue { rows.append(DetailRow("Trigger:", trigger)) }
        let stages = details["stages"]?.objectValue ?? JSONObject()
        let tasks = details["tasks"]?.objectValue ?? JSONObject()
        for stage in stages {
            rows.append(DetailRow("Stage \(stage.key):", stage.value.stringValue ?? "?"))
            for task in tasks where task.value["stage"]?.stringValue == stage.key {
                rows.append(DetailRow("  \(task.key):", Self.taskText(task.value)))
            }
        }
        for task in tasks where task.value["stage"] == nil {
            rows.append(DetailRow("  finally \(task.key):", Self.taskText(task.value)))
        }
        return rows
    }

    static func taskText(_ row: JSONValue) -> String {
        var text = row["state"]?.stringValue ?? "?"
        if let attempt = row["attempt"]?.numberValue?.intValue { text += ", attempt \(attempt)" }
        if let seconds = row["seconds"]?.numberValue?.doubleValue { text += ", " + PipelineRunText.duration(seconds) }
        if let id = row["vendorRunID"]?.stringValue { text += ", run \(id)" }
        if let reason = row["reason"]?.stringValue { text += " (\(reason))" }
        return text
    }

    // MARK: - Failures

    /// Runs a call on the pipeline bucket; what it throws is transient (NATS unreachable, a lost
    /// race given up), except a failure the call classified itself.
    static func vendorCall<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws(VendorFailure) -> T {
        do {
            return try await body()
        } catch let failure as VendorFailure {
            throw failure
        } catch let unreadable as PipelineDocumentError {
            throw VendorFailure(kind: .transient, reason: "stateUnreadable", message: "\(what): \(unreadable)")
        } catch {
            throw VendorFailure(kind: .transient, reason: "stateUnavailable", message: "\(what): \(error)")
        }
    }
}
