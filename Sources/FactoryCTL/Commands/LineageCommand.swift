import ArgumentParser
import FactoryModel
import Foundation
import JSONSchema
import NATSKit

// MARK: - LineageCommand

/// `factoryctl lineage NAME -w WORKSPACE [--resource-type T] [-o table|json]`
struct LineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Show what a resource's runs read and write: upstream and downstream datasets and columns, from its OpenLineage events.",
        discussion: """
            Reads the lineage stream (LINEAGE_STREAM, default factory-lineage) for the events of the job \
            factory://WORKSPACE <type>.NAME, newest last. The table shows the job, its last runs with their \
            events, and the datasets and column lineage of the newest event that names datasets; -o json \
            prints the job's events as stored (a JSON array). A name used by several resource types needs \
            --resource-type. A pipeline's runs name no datasets of their own: the table lists the jobs \
            of its tasks (the events whose parent facet names the pipeline's job) and their datasets. Exits 1 \
            when the stream holds no event of the resource.
            """)

    @Argument(help: ArgumentHelp("The resource name.", valueName: "name"))
    var name: String

    @OptionGroup var workspace: WorkspaceOption

    @Option(name: .customLong("resource-type"), help: ArgumentHelp("The resource's type (needed when several types have a resource of this name).", valueName: "type"))
    var resourceType: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("table or json.", valueName: "format"))
    var output: OutputFormat = .table

    @Option(name: .customLong("lineage-stream"), help: ArgumentHelp("The lineage stream (default: $LINEAGE_STREAM, else factory-lineage).", valueName: "stream"))
    var stream: String?

    @Option(name: .customLong("runs"), help: ArgumentHelp("How many of the newest runs the table lists.", valueName: "count"))
    var runs = 5

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            let name = try Names.resource(self.name)
            let workspace = try self.workspace.name()
            guard output != .yaml else { throw CLIError.invalidInput("-o takes table or json for lineage") }
            let streamName = stream ?? CommandRunner.environment["LINEAGE_STREAM"] ?? "factory-lineage"
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                let all = try await Self.events(in: streamName, client: client)
                let namespace = "factory://\(workspace)"
                let jobs = LineageView.jobs(all, namespace: namespace, resource: "\(name)", type: resourceType)
                guard !jobs.isEmpty else {
                    throw CLIError.failed(
                        "no lineage events of \(workspace)/\(name)\(resourceType.map { " (type \($0))" } ?? "") in the stream \(streamName): it has not run since lineage was on, or its events aged out (LINEAGE_MAX_AGE)")
                }
                guard jobs.count == 1, let job = jobs.first else {
                    throw CLIError.invalidInput("\(workspace)/\(name) is a resource of several types (\(jobs.map(\.key).sorted().joined(separator: ", "))): name one with --resource-type")
                }
                switch output {
                case .json:
                    Console.write(LineageView.json(job.value))
                default:
                    let tasks = LineageView.children(all, namespace: namespace, parentJob: job.key)
                    Console.write(LineageView.table(job: job.key, namespace: namespace, events: job.value, runs: max(1, runs), children: tasks))
                }
            }
        }
    }

    /// Every event in the stream, oldest first (one direct get per message: the stream's limits
    /// keep it to what a person asks about).
    static func events(in stream: String, client: FactoryClient) async throws(CLIError) -> [JSONValue] {
        let jetStream: JetStreamContext
        let info: StreamInfo
        do throws(NATSError) {
            jetStream = try await client.connection.jetStream(options: JetStreamOptions(timeout: client.settings.timeout))
            info = try await jetStream.streamInfo(stream)
        } catch where error.code == .notFound {
            throw CLIError(
                .unavailable,
                "the lineage stream \(stream) does not exist at \(client.settings.serverList): no operator with lineage on has run against this server; check --lineage-stream")
        } catch {
            throw .nats(error, during: "reading the lineage stream \(stream)", settings: client.settings)
        }
        guard info.state.messages > 0, info.state.lastSequence >= info.state.firstSequence else { return [] }
        var events: [JSONValue] = []
        for sequence in info.state.firstSequence...info.state.lastSequence {
            do throws(NATSError) {
                let message = try await jetStream.message(stream: stream, sequence: sequence)
                // An event that is not JSON is not one of ours: skipped.
                if let event = try? JSONValue(parsing: message.payload) { events.append(event) }
            } catch where error.code == .notFound {
                continue  // aged out or deleted meanwhile
            } catch {
                throw .nats(error, during: "reading the lineage stream \(stream)", settings: client.settings)
            }
        }
        return events
    }
}

// MARK: - LineageView

/// A resource's lineage as a person reads it.
enum LineageView {
    /// The events of the resource's job(s) in `namespace`, by job name (`<type>.<resource>`).
    static func jobs(_ events: [JSONValue], namespace: String, resource: String, type: String?) -> [String: [JSONValue]] {
        var jobs: [String: [JSONValue]] = [:]
        for event in events {
            guard event["job"]?["namespace"]?.stringValue == namespace, let job = event["job"]?["name"]?.stringValue else { continue }
            let matches = type.map { job == "\($0).\(resource)" } ?? job.hasSuffix(".\(resource)") && !job.dropLast(resource.count + 1).contains(".")
            if matches { jobs[job, default: []].append(event) }
        }
        return jobs
    }

    /// The events whose `parent` facet names the job `parentJob` in `namespace` (a pipeline's
    /// task runs), by their own job name.
    static func children(_ events: [JSONValue], namespace: String, parentJob: String) -> [String: [JSONValue]] {
        var jobs: [String: [JSONValue]] = [:]
        for event in events {
            let parent = event["run"]?["facets"]?["parent"]?["job"]
            guard parent?["namespace"]?.stringValue == namespace, parent?["name"]?.stringValue == parentJob, let job = event["job"]?["name"]?.stringValue else { continue }
            jobs[job, default: []].append(event)
        }
        return jobs
    }

    static func json(_ events: [JSONValue]) -> String {
        let compact = JSONValue.array(events).serializedBytes()
        guard let object = try? JSONSerialization.jsonObject(with: Data(compact)),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return String(decoding: compact, as: UTF8.self) + "\n" }
        return String(decoding: pretty, as: UTF8.self) + "\n"
    }

    static func table(job: String, namespace: String, events: [JSONValue], runs: Int, children: [String: [JSONValue]] = [:]) -> String {
        var lines: [String] = []
        let jobType = events.last?["job"]?["facets"]?["jobType"]
        let kind = [jobType?["integration"]?.stringValue, jobType?["jobType"]?.stringValue].compactMap { $0 }.joined(separator: " ")
        lines.append("Job:         \(namespace) \(job)\(kind.isEmpty ? "" : " (\(kind))")")

        // Runs, newest last: each with its events in order.
        var order: [String] = []
        var byRun: [String: [JSONValue]] = [:]
        for event in events {
            let run = event["run"]?["runId"]?.stringValue ?? "?"
            if byRun[run] == nil { order.append(run) }
            byRun[run, default: []].append(event)
        }
        lines.append("Runs:        \(order.count) (the newest \(min(runs, order.count)))")
        for run in order.suffix(runs) {
            let steps = (byRun[run] ?? []).map { event in
                "\(event["eventType"]?.stringValue ?? "?") \(event["eventTime"]?.stringValue ?? "")"
            }
            lines.append("  \(run)  \(steps.joined(separator: ", "))")
            if let error = byRun[run]?.last?["run"]?["facets"]?["errorMessage"]?["message"]?.stringValue {
                lines.append("    error: \(error)")
            }
            if byRun[run]?.contains(where: { $0["run"]?["facets"]?["factory_trimmed"] != nil }) == true {
                lines.append("    (an event was trimmed to the stream's limit: see docs/lineage.md)")
            }
        }

        // A pipeline: its tasks' jobs, and their datasets (of each task's newest event naming any).
        if !children.isEmpty {
            lines.append("Tasks:")
            var upstream: [String] = []
            var downstream: [String] = []
            for child in children.keys.sorted() {
                let childEvents = children[child] ?? []
                let childType = childEvents.last?["job"]?["facets"]?["jobType"]
                let childKind = [childType?["integration"]?.stringValue, childType?["jobType"]?.stringValue].compactMap { $0 }.joined(separator: " ")
                let runCount = Set(childEvents.compactMap { $0["run"]?["runId"]?.stringValue }).count
                lines.append("  \(child)\(childKind.isEmpty ? "" : " (\(childKind))")  runs: \(runCount)")
                let newest = childEvents.last { !($0["inputs"]?.arrayValue ?? []).isEmpty || !($0["outputs"]?.arrayValue ?? []).isEmpty }
                for dataset in newest?["inputs"]?.arrayValue ?? [] where !upstream.contains("  " + describe(dataset)) { upstream.append("  " + describe(dataset)) }
                for dataset in newest?["outputs"]?.arrayValue ?? [] where !downstream.contains("  " + describe(dataset)) { downstream.append("  " + describe(dataset)) }
            }
            lines.append("Upstream:\(upstream.isEmpty ? "    none said by its tasks" : "")")
            lines += upstream
            lines.append("Downstream:\(downstream.isEmpty ? "  none said by its tasks" : "")")
            lines += downstream
            return lines.joined(separator: "\n") + "\n"
        }

        // Datasets of the newest event that names any.
        guard let latest = events.last(where: { !($0["inputs"]?.arrayValue ?? []).isEmpty || !($0["outputs"]?.arrayValue ?? []).isEmpty }) else {
            lines.append("Datasets:    none (the job's events name none: \(job.split(separator: ".").first.map(String.init) ?? "this type")'s lineage is the job's alone)")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("Upstream:")
        for dataset in latest["inputs"]?.arrayValue ?? [] { lines.append("  " + describe(dataset)) }
        lines.append("Downstream:")
        for dataset in latest["outputs"]?.arrayValue ?? [] { lines.append("  " + describe(dataset)) }
        var columns: [String] = []
        for dataset in latest["outputs"]?.arrayValue ?? [] {
            let output = dataset["name"]?.stringValue ?? "?"
            guard let fields = dataset["facets"]?["columnLineage"]?["fields"]?.objectValue else { continue }
            for field in fields {
                let sources = (field.value["inputFields"]?.arrayValue ?? []).map { input in
                    "\(input["name"]?.stringValue ?? "?").\(input["field"]?.stringValue ?? "?")"
                }
                let transformation = field.value["inputFields"]?[0]?["transformations"]?[0].map {
                    " (\($0["type"]?.stringValue ?? "?")/\($0["subtype"]?.stringValue ?? "?"))"
                } ?? ""
                columns.append("  \(output).\(field.key) <- \(sources.joined(separator: ", "))\(transformation)")
            }
        }
        if columns.isEmpty {
            lines.append("Columns:     none said")
        } else {
            lines.append("Columns:")
            lines += columns
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ dataset: JSONValue) -> String {
        var text = "\(dataset["namespace"]?.stringValue ?? "?")  \(dataset["name"]?.stringValue ?? "?")"
        if let fields = dataset["facets"]?["schema"]?["fields"]?.arrayValue, !fields.isEmpty {
            text += "  columns: " + fields.compactMap { $0["name"]?.stringValue }.joined(separator: ", ")
        }
        return text
    }
}
