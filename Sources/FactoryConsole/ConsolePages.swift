import FactoryModel
import Foundation
import JSONSchema
import Pipelines

// MARK: - The JSON the pages read

/// The resources page: every resource, and the documents that cannot be read.
struct ResourcesPage: Encodable {
    var resources: [ResourceStatusView]
    var unreadable: [ConsoleState.Unreadable]
    var connected: Bool
}

/// A resource's page: its detail (a status query, as `get -d`; the watch's view when no
/// operator answers), the runs seen, and a pipeline's runs.
struct ResourcePage: Encodable {
    var resource: ResourceStatusView
    /// Where the detail came from: "query" (with the driver's rows) or "watch".
    var source: String
    var note: String?
    var history: [ResourceStatusView.Run]
    var pipelineRuns: [RunSummary]?
    var unreadable: [ConsoleState.Unreadable]
}

struct RunSummary: Encodable {
    var id: String
    var workspace: String
    var pipeline: String
    var state: String
    var trigger: String
    var createdAt: String
    var startedAt: String?
    var finishedAt: String?
    var summary: String

    init(_ document: PipelineRunDocument) {
        let run = document.run
        id = run.id
        workspace = run.workspace
        pipeline = run.pipeline
        state = run.state.rawValue
        trigger = run.trigger.kind.rawValue + (run.trigger.input.map { " \($0)" } ?? "")
        createdAt = PipelineTime.format(run.createdAt)
        startedAt = run.startedAt.map(PipelineTime.format)
        finishedAt = run.finishedAt.map(PipelineTime.format)
        if case .success(let spec) = PipelineSpec.decode(document.spec, context: .structural(pipelineName: run.pipeline)) {
            summary = PipelineRunText(spec: spec, run: run).summary
        } else {
            summary = run.reason ?? ""
        }
    }
}

/// The pipelines page: one row per pipeline, as `factoryctl get -t pipeline` shows it.
struct PipelinesPage: Encodable {
    struct Row: Encodable {
        var workspace: String
        var name: String
        var status: String
        var lastRun: String?
        var result: String?
        var lastRunAt: String?
        var nextScheduled: String?
    }

    var pipelines: [Row]
    var unreadable: [ConsoleState.Unreadable]

    init(views: [ResourceStatusView], runs: [PipelineRunDocument], unreadable: [ConsoleState.Unreadable], now: Date = Date()) {
        var newest: [String: PipelineRunDocument] = [:]
        for document in runs {
            let key = "\(document.run.workspace)/\(document.run.pipeline)"
            if let known = newest[key], (known.run.createdAt, known.run.id) >= (document.run.createdAt, document.run.id) { continue }
            newest[key] = document
        }
        pipelines = views.filter { $0.resourceType == PipelineNames.type }.map { view in
            let last = newest["\(view.workspace)/\(view.name)"]?.run
            return Row(
                workspace: view.workspace, name: view.name, status: view.status, lastRun: last?.id, result: last?.state.rawValue,
                lastRunAt: last.map { PipelineTime.format($0.startedAt ?? $0.createdAt) }, nextScheduled: Self.nextSlot(view, after: now).map(PipelineTime.format))
        }
        self.unreadable = unreadable
    }

    /// The earliest next slot of the pipeline's schedule inputs (as `get -t pipeline`).
    static func nextSlot(_ view: ResourceStatusView, after now: Date) -> Date? {
        guard view.status != "deleted", let spec = view.spec,
            case .success(let pipeline) = PipelineSpec.decode(spec, context: .structural(pipelineName: view.name))
        else { return nil }
        return pipeline.inputs.compactMap { input -> Date? in
            guard case .schedule(let cron) = input.source else { return nil }
            return cron.next(after: now)
        }.min()
    }
}

/// A pipeline run as the DAG page draws it: stages in columns (by how deep their dependencies
/// go), their tasks, the edges between stages, and `finally` last.
struct RunPage: Encodable {
    struct Task: Encodable {
        var name: String
        var state: String
        var attempt: Int?
        var durationSeconds: Double?
        var vendorRunID: String?
        var resource: String?
        var reason: String?
    }

    struct Stage: Encodable {
        var name: String
        var column: Int
        var state: String
        var dependsOn: [String]
        var tasks: [Task]
    }

    var run: RunSummary
    var reason: String?
    var progress: Double?
    var stages: [Stage]
    var readable: Bool
    var canCancel: Bool

    init(_ document: PipelineRunDocument, now: Date = Date()) {
        run = RunSummary(document)
        reason = document.run.reason
        canCancel = !document.run.state.isFinished
        guard case .success(let spec) = PipelineSpec.decode(document.spec, context: .structural(pipelineName: document.run.pipeline)) else {
            stages = []
            readable = false
            return
        }
        readable = true
        let text = PipelineRunText(spec: spec, run: document.run)
        progress = text.progress
        var byStage: [String: [Task]] = [:]
        var finally: [Task] = []
        for line in text.lines(now: now) {
            let task = Task(
                name: line.task, state: line.state.rawValue, attempt: line.attempt, durationSeconds: line.duration, vendorRunID: line.vendorRunID,
                resource: line.resource, reason: line.reason)
            if let stage = line.stage { byStage[stage, default: []].append(task) } else { finally.append(task) }
        }
        // Column of a stage: one past the deepest stage it depends on.
        var columns: [String: Int] = [:]
        func column(_ name: String, _ visiting: Set<String>) -> Int {
            if let known = columns[name] { return known }
            guard let stage = spec.stage(named: name), !visiting.contains(name) else { return 0 }
            let value = stage.dependsOn.map { column($0, visiting.union([name])) + 1 }.max() ?? 0
            columns[name] = value
            return value
        }
        stages = spec.stages.map { stage in
            Stage(name: stage.name, column: column(stage.name, []), state: text.state(of: stage), dependsOn: stage.dependsOn, tasks: byStage[stage.name] ?? [])
        }
        if !spec.finally.isEmpty {
            let last = (stages.map(\.column).max() ?? -1) + 1
            let state = finally.allSatisfy { $0.state == "pending" } ? "pending" : (finally.allSatisfy { TaskState(rawValue: $0.state)?.isFinished ?? false } ? "ended" : "running")
            stages.append(Stage(name: "finally", column: last, state: state, dependsOn: [], tasks: finally))
        }
    }
}

/// A resource's lineage: the datasets its newest event names, upstream and downstream, with
/// their columns and the column lineage (shown on demand). A pipeline's are its tasks': the
/// datasets of each task job's newest event that names any, together.
struct LineagePage: Encodable {
    struct Dataset: Encodable {
        var namespace: String
        var name: String
        var columns: [String]
    }

    struct ColumnLink: Encodable {
        var output: String
        var column: String
        var sources: [String]
        var transformation: String?
    }

    struct Run: Encodable {
        var runId: String
        var events: [String]
        var eventTime: String?
        var error: String?
    }

    var job: String?
    var upstream: [Dataset] = []
    var downstream: [Dataset] = []
    var columnLineage: [ColumnLink] = []
    var runs: [Run] = []
    /// A pipeline's task jobs (`http.nightly--orders`), sorted.
    var tasks: [String] = []
    var note: String?

    init(events: [JSONValue], children: [String: [JSONValue]] = [:]) {
        guard let last = events.last else {
            note = "no lineage events of this resource: it has not run since lineage was on, or its events aged out"
            return
        }
        job = last["job"]?["name"]?.stringValue
        var order: [String] = []
        var byRun: [String: [JSONValue]] = [:]
        for event in events {
            let run = event["run"]?["runId"]?.stringValue ?? "?"
            if byRun[run] == nil { order.append(run) }
            byRun[run, default: []].append(event)
        }
        runs = order.suffix(10).reversed().map { id in
            let list = byRun[id] ?? []
            return Run(
                runId: id, events: list.compactMap { $0["eventType"]?.stringValue }, eventTime: list.last?["eventTime"]?.stringValue,
                error: list.last?["run"]?["facets"]?["errorMessage"]?["message"]?.stringValue)
        }
        let namesDatasets = { (event: JSONValue) in !(event["inputs"]?.arrayValue ?? []).isEmpty || !(event["outputs"]?.arrayValue ?? []).isEmpty }
        tasks = children.keys.sorted()
        // A pipeline's datasets are its tasks' (each task job's newest event naming any).
        let sources = children.isEmpty ? [events.last(where: namesDatasets)].compactMap { $0 } : tasks.compactMap { children[$0]?.last(where: namesDatasets) }
        guard !sources.isEmpty else {
            note = children.isEmpty ? "the job's events name no datasets" : "its tasks' events name no datasets"
            return
        }
        func dataset(_ value: JSONValue) -> Dataset {
            Dataset(
                namespace: value["namespace"]?.stringValue ?? "?", name: value["name"]?.stringValue ?? "?",
                columns: (value["facets"]?["schema"]?["fields"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        }
        for latest in sources {
            for input in (latest["inputs"]?.arrayValue ?? []).map(dataset) where !upstream.contains(where: { $0.namespace == input.namespace && $0.name == input.name }) {
                upstream.append(input)
            }
            for output in (latest["outputs"]?.arrayValue ?? []).map(dataset) where !downstream.contains(where: { $0.namespace == output.namespace && $0.name == output.name }) {
                downstream.append(output)
            }
        }
        for output in sources.flatMap({ $0["outputs"]?.arrayValue ?? [] }) {
            let name = output["name"]?.stringValue ?? "?"
            guard let fields = output["facets"]?["columnLineage"]?["fields"]?.objectValue else { continue }
            for field in fields {
                let sources = (field.value["inputFields"]?.arrayValue ?? []).map { "\($0["name"]?.stringValue ?? "?").\($0["field"]?.stringValue ?? "?")" }
                let transformation = field.value["inputFields"]?[0]?["transformations"]?[0].map { "\($0["type"]?.stringValue ?? "?")/\($0["subtype"]?.stringValue ?? "?")" }
                columnLineage.append(ColumnLink(output: name, column: field.key, sources: sources, transformation: transformation))
            }
        }
    }
}
