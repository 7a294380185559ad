import FactoryModel
import JSONSchema

/// One thing wrong with a pipeline spec: where (a JSON pointer into the spec) and what.
public struct PipelineSpecProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(_ path: JSONPointer, _ message: String) {
        self.path = path.description.isEmpty ? "/" : path.description
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Every problem found, in spec order.
public struct PipelineSpecErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [PipelineSpecProblem]
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// What validation needs to know beyond the spec.
public struct PipelineValidationContext: Sendable {
    /// The pipeline's name (owned resources are `<pipeline>--<task>`, which must stay a valid name).
    public var pipelineName: String
    /// The resource types tasks may name (an integration, or `resource:` with a type).
    public var resourceTypes: Set<String>
    /// Checks an inline task's spec (after its job's fixed fields) against its type's schema:
    /// problems as (pointer inside the spec, message). Specs with `${…}` are checked with each
    /// reference left as written.
    public var checkSpec: @Sendable (_ type: String, _ spec: JSONValue) -> [(JSONPointer, String)]

    public init(pipelineName: String, resourceTypes: Set<String>, checkSpec: @escaping @Sendable (String, JSONValue) -> [(JSONPointer, String)] = { _, _ in [] }) {
        self.pipelineName = pipelineName
        self.resourceTypes = resourceTypes
        self.checkSpec = checkSpec
    }
}

/// The jobs of each integration (Orchestra's names), and the spec fields a job fixes.
public enum IntegrationJobs {
    public static let table: [String: [String: JSONObject]] = [
        "fivetran": ["fivetran_sync_all": ["action": "START"], "fivetran_resync_table": ["action": "FORCE_RESYNC"], "fivetran_test": ["action": "TEST"], "fivetran_status": ["action": "STATUS"]],
        "dbtcloud": ["dbt_runjob": [:]],
        "census": ["census_sync": [:]],
        "hightouch": ["hightouch_sync": [:]],
        "http": ["http_request": [:]],
    ]

    /// The spec of an inline task's resource: its parameters with the job's fixed fields.
    public static func spec(integration: String, job: String, parameters: JSONValue) -> JSONValue {
        guard var object = parameters.objectValue else { return parameters }
        for member in table[integration]?[job] ?? [:] { object[member.key] = member.value }
        return .object(object)
    }
}

extension PipelineSpec {
    /// Decodes and validates a pipeline spec, reporting every problem with its path: unknown
    /// fields, wrong types, bad durations, duplicate or badly formed names, `dependsOn` and `core`
    /// naming nothing, cycles, unknown resource types and jobs, task specs their type refuses,
    /// malformed `${…}`, bad cron expressions and time zones.
    public static func decode(_ json: JSONValue, context: PipelineValidationContext) -> Result<PipelineSpec, PipelineSpecErrors> {
        var reader = Reader(context: context)
        let spec = reader.spec(json)
        if reader.problems.isEmpty, let spec { return .success(spec) }
        return .failure(PipelineSpecErrors(problems: reader.problems))
    }
}

/// Reads the spec, collecting problems instead of stopping at the first.
struct Reader {
    let context: PipelineValidationContext
    var problems: [PipelineSpecProblem] = []

    mutating func fail(_ path: JSONPointer, _ message: String) {
        problems.append(PipelineSpecProblem(path, message))
    }

    mutating func object(_ value: JSONValue, _ path: JSONPointer, allowed: Set<String>) -> JSONObject? {
        guard let object = value.objectValue else {
            fail(path, "expected an object")
            return nil
        }
        for key in object.keys where !allowed.contains(key) {
            fail(path.appending(key), "unknown field (expected one of \(allowed.sorted().joined(separator: ", ")))")
        }
        return object
    }

    mutating func string(_ object: JSONObject, _ key: String, _ path: JSONPointer, required: Bool = false) -> String? {
        guard let value = object[key] else {
            if required { fail(path.appending(key), "required") }
            return nil
        }
        guard let text = value.stringValue, !text.isEmpty else {
            fail(path.appending(key), "expected a non-empty string")
            return nil
        }
        return text
    }

    mutating func strings(_ object: JSONObject, _ key: String, _ path: JSONPointer) -> [String] {
        guard let value = object[key] else { return [] }
        guard let items = value.arrayValue else {
            fail(path.appending(key), "expected a list of strings")
            return []
        }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            if let text = item.stringValue, !text.isEmpty { result.append(text) } else { fail(path.appending(key).appending(String(index)), "expected a non-empty string") }
        }
        return result
    }

    mutating func duration(_ object: JSONObject, _ key: String, _ path: JSONPointer) -> Duration? {
        guard let value = object[key] else { return nil }
        guard let text = value.stringValue, let duration = DurationParser.parse(text), duration > .zero else {
            fail(path.appending(key), "expected a positive duration like 30s, 10m or 1h30m")
            return nil
        }
        return duration
    }

    mutating func integer(_ object: JSONObject, _ key: String, _ path: JSONPointer, range: ClosedRange<Int>) -> Int? {
        guard let value = object[key] else { return nil }
        guard let number = value.numberValue?.intValue, range.contains(number) else {
            fail(path.appending(key), "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return number
    }

    mutating func bool(_ object: JSONObject, _ key: String, _ path: JSONPointer) -> Bool? {
        guard let value = object[key] else { return nil }
        guard let flag = value.boolValue else {
            fail(path.appending(key), "expected true or false")
            return nil
        }
        return flag
    }

    mutating func name(_ text: String?, _ path: JSONPointer, what: String) -> String? {
        guard let text else { return nil }
        if let violation = NameRule.violation(in: text) {
            fail(path, "\(what) \"\(text)\": \(violation) (\(NameRule.summary))")
            return nil
        }
        return text
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ object: JSONObject, _ key: String, _ path: JSONPointer, _ type: E.Type) -> E? where E.RawValue == String {
        guard let text = string(object, key, path) else { return nil }
        guard let value = E(rawValue: text) else {
            fail(path.appending(key), "\"\(text)\" is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    // MARK: - The spec

    mutating func spec(_ json: JSONValue) -> PipelineSpec? {
        let root = JSONPointer.root
        guard let object = object(json, root, allowed: ["inputs", "concurrency", "timeout", "defaults", "stages", "finally"]) else { return nil }
        let timeout = duration(object, "timeout", root)
        var defaults = PipelineSpec.TaskDefaults()
        if let value = object["defaults"], let defaultsObject = self.object(value, root.appending("defaults"), allowed: ["timeout", "retries"]) {
            defaults.timeout = duration(defaultsObject, "timeout", root.appending("defaults"))
            if let retries = defaultsObject["retries"] { defaults.retries = self.retries(retries, root.appending("defaults").appending("retries")) ?? defaults.retries }
        }
        var concurrency = PipelineSpec.Concurrency()
        if let value = object["concurrency"], let concurrencyObject = self.object(value, root.appending("concurrency"), allowed: ["limit", "onOverlap"]) {
            concurrency.limit = integer(concurrencyObject, "limit", root.appending("concurrency"), range: 1...1000) ?? concurrency.limit
            concurrency.onOverlap = enumeration(concurrencyObject, "onOverlap", root.appending("concurrency"), PipelineSpec.Concurrency.Overlap.self) ?? concurrency.onOverlap
        }

        var stages: [PipelineSpec.Stage] = []
        if let value = object["stages"] {
            if let items = value.arrayValue, !items.isEmpty {
                for (index, item) in items.enumerated() {
                    if let stage = self.stage(item, root.appending("stages").appending(String(index))) { stages.append(stage) }
                }
            } else {
                fail(root.appending("stages"), "expected a non-empty list of stages")
            }
        } else {
            fail(root.appending("stages"), "required: at least one stage")
        }
        var finally: [PipelineSpec.Task] = []
        if let value = object["finally"] {
            if let items = value.arrayValue {
                for (index, item) in items.enumerated() {
                    if let task = task(item, root.appending("finally").appending(String(index))) { finally.append(task) }
                }
            } else {
                fail(root.appending("finally"), "expected a list of tasks")
            }
        }
        var inputs: [PipelineSpec.Input] = []
        if let value = object["inputs"] {
            if let items = value.arrayValue {
                for (index, item) in items.enumerated() {
                    if let input = input(item, root.appending("inputs").appending(String(index))) { inputs.append(input) }
                }
            } else {
                fail(root.appending("inputs"), "expected a list of inputs")
            }
        }
        checkGraph(stages: stages, finally: finally, inputs: inputs)
        return PipelineSpec(inputs: inputs, concurrency: concurrency, timeout: timeout, defaults: defaults, stages: stages, finally: finally)
    }

    mutating func stage(_ value: JSONValue, _ path: JSONPointer) -> PipelineSpec.Stage? {
        guard let object = object(value, path, allowed: ["name", "dependsOn", "triggerRule", "core", "tasks"]) else { return nil }
        let name = name(string(object, "name", path, required: true), path.appending("name"), what: "stage name")
        let dependsOn = strings(object, "dependsOn", path)
        let rule = enumeration(object, "triggerRule", path, PipelineSpec.TriggerRule.self) ?? .allSuccess
        let core = object["core"] == nil ? nil : Set(strings(object, "core", path))
        var tasks: [PipelineSpec.Task] = []
        if let items = object["tasks"]?.arrayValue, !items.isEmpty {
            for (index, item) in items.enumerated() {
                if let task = task(item, path.appending("tasks").appending(String(index))) { tasks.append(task) }
            }
        } else {
            fail(path.appending("tasks"), "required: a non-empty list of tasks")
        }
        if let core {
            let names = Set(tasks.map(\.name))
            for missing in core.subtracting(names).sorted() { fail(path.appending("core"), "\"\(missing)\" is not a task of this stage") }
        }
        guard let name else { return nil }
        return PipelineSpec.Stage(name: name, dependsOn: dependsOn, triggerRule: rule, core: core, tasks: tasks)
    }

    mutating func task(_ value: JSONValue, _ path: JSONPointer) -> PipelineSpec.Task? {
        guard let object = object(value, path, allowed: ["name", "resource", "type", "integration", "job", "parameters", "timeout", "retries", "failureIsWarning"]) else { return nil }
        let name = name(string(object, "name", path, required: true), path.appending("name"), what: "task name")
        if let name, let violation = NameRule.violation(in: PipelineScheduler.ownedResourceName(pipeline: context.pipelineName, task: name)) {
            fail(path.appending("name"), "task name \"\(name)\": the resource the pipeline owns for it, \(context.pipelineName)--\(name), breaks the name rule: \(violation)")
        }
        let timeout = duration(object, "timeout", path)
        let retries = object["retries"].flatMap { self.retries($0, path.appending("retries")) }
        let failureIsWarning = bool(object, "failureIsWarning", path) ?? false
        let work: PipelineSpec.Task.Work?
        switch (object["resource"], object["integration"]) {
        case (.some, .some):
            fail(path, "a task either runs an applied resource (resource) or an integration's job (integration, job, parameters), not both")
            work = nil
        case (.some, .none):
            for key in ["job", "parameters"] where object[key] != nil { fail(path.appending(key), "only with integration") }
            let type = string(object, "type", path)
            if let type, !context.resourceTypes.contains(type) { fail(path.appending("type"), "unknown resource type \"\(type)\" (known: \(context.resourceTypes.sorted().joined(separator: ", ")))") }
            work = self.name(string(object, "resource", path), path.appending("resource"), what: "resource name").map { .resource(name: $0, type: type) }
        case (.none, .some):
            if object["type"] != nil { fail(path.appending("type"), "only with resource (an integration is the type)") }
            work = inline(object, path)
        case (.none, .none):
            fail(path, "a task needs resource (an applied resource to run) or integration, job and parameters")
            work = nil
        }
        guard let name, let work else { return nil }
        return PipelineSpec.Task(name: name, work: work, timeout: timeout, retries: retries, failureIsWarning: failureIsWarning)
    }

    mutating func inline(_ object: JSONObject, _ path: JSONPointer) -> PipelineSpec.Task.Work? {
        guard let integration = string(object, "integration", path, required: true) else { return nil }
        guard context.resourceTypes.contains(integration) else {
            fail(path.appending("integration"), "unknown integration \"\(integration)\" (known: \(context.resourceTypes.sorted().joined(separator: ", ")))")
            return nil
        }
        guard let job = string(object, "job", path, required: true) else { return nil }
        let jobs = IntegrationJobs.table[integration] ?? [:]
        if !jobs.isEmpty, jobs[job] == nil {
            fail(path.appending("job"), "\(integration) has no job \"\(job)\" (its jobs: \(jobs.keys.sorted().joined(separator: ", ")))")
            return nil
        }
        let parameters = object["parameters"] ?? .object([:])
        guard parameters.objectValue != nil else {
            fail(path.appending("parameters"), "expected an object: the \(integration) spec")
            return nil
        }
        for (pointer, message) in ParameterTemplate.problems(in: parameters) { fail(JSONPointer(tokens: path.appending("parameters").tokens + pointer.tokens), message) }
        let spec = IntegrationJobs.spec(integration: integration, job: job, parameters: parameters)
        for (pointer, message) in context.checkSpec(integration, spec) { fail(JSONPointer(tokens: path.appending("parameters").tokens + pointer.tokens), message) }
        return .inline(integration: integration, job: job, parameters: parameters)
    }

    mutating func retries(_ value: JSONValue, _ path: JSONPointer) -> PipelineSpec.Retries? {
        guard let object = object(value, path, allowed: ["limit", "backoff", "delay", "maxDelay", "on"]) else { return nil }
        var retries = PipelineSpec.Retries()
        retries.limit = integer(object, "limit", path, range: 0...100) ?? retries.limit
        retries.backoff = enumeration(object, "backoff", path, PipelineSpec.Retries.Backoff.self) ?? retries.backoff
        retries.delay = duration(object, "delay", path) ?? retries.delay
        retries.maxDelay = duration(object, "maxDelay", path) ?? max(retries.maxDelay, retries.delay)
        if object["on"] != nil {
            var causes = Set<PipelineSpec.Retries.Cause>()
            for (index, text) in strings(object, "on", path).enumerated() {
                if let cause = PipelineSpec.Retries.Cause(rawValue: text) { causes.insert(cause) } else {
                    fail(path.appending("on").appending(String(index)), "\"\(text)\" is not one of \(PipelineSpec.Retries.Cause.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            retries.on = causes
        }
        if retries.maxDelay < retries.delay { fail(path.appending("maxDelay"), "shorter than delay") }
        return retries
    }

    mutating func input(_ value: JSONValue, _ path: JSONPointer) -> PipelineSpec.Input? {
        guard let object = object(value, path, allowed: ["name", "nats", "kv", "schedule", "pipeline"]) else { return nil }
        let name = name(string(object, "name", path, required: true), path.appending("name"), what: "input name")
        let kinds = ["nats", "kv", "schedule", "pipeline"].filter { object[$0] != nil }
        guard kinds.count == 1, let kind = kinds.first, let body = object[kind] else {
            fail(path, "an input has exactly one of nats, kv, schedule, pipeline")
            return nil
        }
        let inner = path.appending(kind)
        let source: PipelineSpec.Input.Source?
        switch kind {
        case "nats":
            guard let fields = self.object(body, inner, allowed: ["stream", "subject"]) else { return nil }
            let stream = string(fields, "stream", inner, required: true)
            let subject = string(fields, "subject", inner, required: true)
            if let subject, subject.contains(" ") || subject.hasPrefix(".") || subject.hasSuffix(".") || subject.contains("..") {
                fail(inner.appending("subject"), "\"\(subject)\" is not a NATS subject")
            }
            source = stream.flatMap { stream in subject.map { .nats(stream: stream, subject: $0) } }
        case "kv":
            guard let fields = self.object(body, inner, allowed: ["bucket", "key", "operations"]) else { return nil }
            let bucket = string(fields, "bucket", inner, required: true)
            let key = string(fields, "key", inner, required: true)
            var operations = Set<PipelineSpec.Input.KVOperation>([.put])
            if fields["operations"] != nil {
                operations = []
                for (index, text) in strings(fields, "operations", inner).enumerated() {
                    if let operation = PipelineSpec.Input.KVOperation(rawValue: text) { operations.insert(operation) } else {
                        fail(inner.appending("operations").appending(String(index)), "\"\(text)\" is not put or delete")
                    }
                }
            }
            source = bucket.flatMap { bucket in key.map { .kv(bucket: bucket, key: $0, operations: operations) } }
        case "schedule":
            guard let fields = self.object(body, inner, allowed: ["cron", "timezone"]) else { return nil }
            guard let cron = string(fields, "cron", inner, required: true) else { return nil }
            do {
                source = .schedule(try CronSchedule(cron, timeZone: string(fields, "timezone", inner) ?? "UTC"))
            } catch {
                fail(inner, error.description)
                source = nil
            }
        default:
            guard let fields = self.object(body, inner, allowed: ["name", "results"]) else { return nil }
            let upstream = self.name(string(fields, "name", inner, required: true), inner.appending("name"), what: "pipeline name")
            var results = Set<RunState>([.succeeded, .warning])
            if fields["results"] != nil {
                results = []
                for (index, text) in strings(fields, "results", inner).enumerated() {
                    if let state = RunState(rawValue: text), state.isFinished { results.insert(state) } else {
                        fail(inner.appending("results").appending(String(index)), "\"\(text)\" is not a final run result (succeeded, warning, failed, cancelled, skipped)")
                    }
                }
            }
            source = upstream.map { .pipeline(name: $0, results: results) }
        }
        guard let name, let source else { return nil }
        return PipelineSpec.Input(name: name, source: source)
    }

    // MARK: - The graph

    mutating func checkGraph(stages: [PipelineSpec.Stage], finally: [PipelineSpec.Task], inputs: [PipelineSpec.Input]) {
        var seen: [String: String] = [:]
        for (index, stage) in stages.enumerated() {
            let path = JSONPointer.root.appending("stages").appending(String(index))
            if let other = seen[stage.name] { fail(path.appending("name"), "\"\(stage.name)\" is also the name of \(other)") }
            seen[stage.name] = "stage \(index)"
        }
        var taskNames: [String: String] = [:]
        let located = stages.enumerated().flatMap { stageIndex, stage in
            stage.tasks.enumerated().map { (JSONPointer.root.appending("stages").appending(String(stageIndex)).appending("tasks").appending(String($0)), $1, "stage \(stage.name)") }
        } + finally.enumerated().map { (JSONPointer.root.appending("finally").appending(String($0)), $1, "finally") }
        for (path, task, place) in located {
            if let other = taskNames[task.name] { fail(path.appending("name"), "task name \"\(task.name)\" is used twice (also in \(other)); task names are unique in a pipeline") }
            taskNames[task.name] = place
        }
        var inputNames = Set<String>()
        for (index, input) in inputs.enumerated() where !inputNames.insert(input.name).inserted {
            fail(JSONPointer.root.appending("inputs").appending(String(index)).appending("name"), "input name \"\(input.name)\" is used twice")
        }
        let names = Set(stages.map(\.name))
        for (index, stage) in stages.enumerated() {
            for (position, upstream) in stage.dependsOn.enumerated() {
                let path = JSONPointer.root.appending("stages").appending(String(index)).appending("dependsOn").appending(String(position))
                if upstream == stage.name { fail(path, "a stage cannot depend on itself") } else if !names.contains(upstream) {
                    fail(path, "no stage is named \"\(upstream)\" (stages: \(names.sorted().joined(separator: ", ")))")
                }
            }
        }
        if let cycle = Self.cycle(stages) {
            let index = stages.firstIndex { $0.name == cycle[0] } ?? 0
            fail(JSONPointer.root.appending("stages").appending(String(index)).appending("dependsOn"), "a cycle: \(cycle.joined(separator: " → "))")
        }
    }

    /// A cycle of stage names (first repeated at the end), if the dependencies have one.
    static func cycle(_ stages: [PipelineSpec.Stage]) -> [String]? {
        let upstream = Dictionary(stages.map { ($0.name, $0.dependsOn) }, uniquingKeysWith: { first, _ in first })
        var state: [String: Int] = [:]  // 1: on the path, 2: done
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if state[name] == 2 { return nil }
            if state[name] == 1 {
                let start = path.firstIndex(of: name) ?? 0
                return Array(path[start...]) + [name]
            }
            state[name] = 1
            path.append(name)
            for next in upstream[name] ?? [] where upstream[next] != nil {
                if let found = visit(next) { return found }
            }
            path.removeLast()
            state[name] = 2
            return nil
        }
        for stage in stages {
            if let found = visit(stage.name) { return found.reversed() }
        }
        return nil
    }
}
