import Foundation
import JSONSchema

// A run as JSON, written and read by hand: the same members as its `Codable` form (which wrote
// the documents before and still reads them), without `JSONDecoder`. Every step of every run
// reads its whole document, on every replica; through `JSONDecoder` that was most of a
// replica's CPU (docs/benchmarks.md).

/// What is wrong in a run's JSON, with the path to it (`tasks.load.attempts[0].queuedAt`).
public struct RunJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public var description: String { "\(path): \(problem)" }
}

/// Reads the members of one JSON object, naming the path in every error.
struct RunJSONReader {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String) throws(RunJSONError) {
        guard case .object(let object) = value else { throw RunJSONError(path: path.isEmpty ? "run" : path, problem: "not an object") }
        self.object = object
        self.path = path
    }

    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member, nil when missing or null.
    func value(_ key: String) -> JSONValue? {
        switch object[key] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    func string(_ key: String) throws(RunJSONError) -> String {
        guard let text = try optionalString(key) else { throw RunJSONError(path: at(key), problem: "missing") }
        return text
    }

    func optionalString(_ key: String) throws(RunJSONError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw RunJSONError(path: at(key), problem: "not a string") }
        return text
    }

    func date(_ key: String) throws(RunJSONError) -> Date {
        guard let date = try optionalDate(key) else { throw RunJSONError(path: at(key), problem: "missing") }
        return date
    }

    func optionalDate(_ key: String) throws(RunJSONError) -> Date? {
        guard let text = try optionalString(key) else { return nil }
        guard let date = PipelineTime.parse(text) else { throw RunJSONError(path: at(key), problem: "\(text) is not an RFC 3339 time") }
        return date
    }

    func int(_ key: String) throws(RunJSONError) -> Int {
        guard let value = value(key) else { throw RunJSONError(path: at(key), problem: "missing") }
        guard let number = value.numberValue?.intValue else { throw RunJSONError(path: at(key), problem: "not an integer") }
        return number
    }

    func bool(_ key: String) throws(RunJSONError) -> Bool {
        guard let value = value(key) else { throw RunJSONError(path: at(key), problem: "missing") }
        guard case .bool(let flag) = value else { throw RunJSONError(path: at(key), problem: "not true or false") }
        return flag
    }

    func word<Word: RawRepresentable<String>>(_ key: String, as type: Word.Type) throws(RunJSONError) -> Word {
        guard let word = try optionalWord(key, as: type) else { throw RunJSONError(path: at(key), problem: "missing") }
        return word
    }

    func optionalWord<Word: RawRepresentable<String>>(_ key: String, as type: Word.Type) throws(RunJSONError) -> Word? {
        guard let text = try optionalString(key) else { return nil }
        guard let word = Word(rawValue: text) else { throw RunJSONError(path: at(key), problem: "\(text) is not a known value") }
        return word
    }
}

/// Builds one JSON object, leaving nil members out (as the `Codable` form did).
struct RunJSONWriter {
    var object = JSONObject()

    mutating func set(_ key: String, _ value: JSONValue?) {
        guard let value else { return }
        object[key] = value
    }

    mutating func set(_ key: String, _ text: String?) { set(key, text.map(JSONValue.string)) }
    mutating func set(_ key: String, _ date: Date?) { set(key, date.map { JSONValue.string(PipelineTime.format($0)) }) }
    mutating func set(_ key: String, _ number: Int) { set(key, JSONValue.number(JSONNumber(number))) }
    mutating func set(_ key: String, _ flag: Bool) { set(key, JSONValue.bool(flag)) }
    mutating func set<Word: RawRepresentable<String>>(_ key: String, word: Word?) { set(key, word.map { JSONValue.string($0.rawValue) }) }

    var value: JSONValue { .object(object) }
}

extension PipelineRun {
    public init(json: JSONValue) throws(RunJSONError) {
        let reader = try RunJSONReader(json, path: "")
        self.init(
            id: try reader.string("id"), workspace: try reader.string("workspace"), pipeline: try reader.string("pipeline"),
            specDigest: try reader.string("specDigest"), trigger: try RunTrigger(json: reader.value("trigger") ?? .null, path: reader.at("trigger")),
            createdAt: try reader.date("createdAt"), tasks: [:], state: try reader.word("state", as: RunState.self)
        )
        startedAt = try reader.optionalDate("startedAt")
        finishedAt = try reader.optionalDate("finishedAt")
        cancel = try reader.value("cancel").map { value throws(RunJSONError) in try CancelRequest(json: value, path: reader.at("cancel")) }
        reason = try reader.optionalString("reason")
        guard let tasksValue = reader.value("tasks") else { throw RunJSONError(path: "tasks", problem: "missing") }
        guard case .object(let tasks) = tasksValue else { throw RunJSONError(path: "tasks", problem: "not an object") }
        self.tasks.reserveCapacity(tasks.count)
        for member in tasks {
            self.tasks[member.key] = try TaskRun(json: member.value, path: "tasks.\(member.key)")
        }
    }

    public var json: JSONValue {
        var object = membersButTasks
        // In the Codable form's order: `tasks` before `reason`.
        let reason = object.removeValue(forKey: "reason")
        var tasks = JSONObject()
        for (name, task) in self.tasks { tasks[name] = task.json }
        object["tasks"] = .object(tasks)
        if let reason { object["reason"] = reason }
        return .object(object)
    }

    /// Every member of ``json`` but `tasks`.
    var membersButTasks: JSONObject {
        var writer = RunJSONWriter()
        writer.set("id", id)
        writer.set("workspace", workspace)
        writer.set("pipeline", pipeline)
        writer.set("specDigest", specDigest)
        writer.set("state", word: state)
        writer.set("trigger", trigger.json)
        writer.set("createdAt", createdAt)
        writer.set("startedAt", startedAt)
        writer.set("finishedAt", finishedAt)
        writer.set("cancel", cancel?.json)
        writer.set("reason", reason)
        return writer.object
    }
}

extension RunTrigger {
    init(json: JSONValue, path: String) throws(RunJSONError) {
        let reader = try RunJSONReader(json, path: path)
        self.init(
            kind: try reader.word("kind", as: Kind.self), input: try reader.optionalString("input"), commandID: try reader.string("commandID"),
            event: reader.value("event")
        )
    }

    var json: JSONValue {
        var writer = RunJSONWriter()
        writer.set("kind", word: kind)
        writer.set("input", input)
        writer.set("commandID", commandID)
        writer.set("event", event)
        return writer.value
    }
}

extension CancelRequest {
    init(json: JSONValue, path: String) throws(RunJSONError) {
        let reader = try RunJSONReader(json, path: path)
        self.init(
            mode: try reader.word("mode", as: Mode.self), cause: try reader.word("cause", as: Cause.self), at: try reader.date("at"),
            commandID: try reader.optionalString("commandID")
        )
    }

    var json: JSONValue {
        var writer = RunJSONWriter()
        writer.set("mode", word: mode)
        writer.set("cause", word: cause)
        writer.set("at", at)
        writer.set("commandID", commandID)
        return writer.value
    }
}

extension TaskRun {
    init(json: JSONValue, path: String) throws(RunJSONError) {
        let reader = try RunJSONReader(json, path: path)
        var attempts: [Attempt] = []
        switch reader.value("attempts") {
        case nil:
            throw RunJSONError(path: reader.at("attempts"), problem: "missing")
        case .array(let values)?:
            attempts.reserveCapacity(values.count)
            for (index, value) in values.enumerated() {
                attempts.append(try Attempt(json: value, path: "\(reader.at("attempts"))[\(index)]"))
            }
        case _?:
            throw RunJSONError(path: reader.at("attempts"), problem: "not an array")
        }
        self.init(state: try reader.word("state", as: TaskState.self), attempts: attempts, retryAt: try reader.optionalDate("retryAt"), reason: try reader.optionalString("reason"))
    }

    var json: JSONValue {
        var writer = RunJSONWriter()
        writer.set("state", word: state)
        writer.set("attempts", JSONValue.array(attempts.map(\.json)))
        writer.set("retryAt", retryAt)
        writer.set("reason", reason)
        return writer.value
    }
}

extension Attempt {
    init(json: JSONValue, path: String) throws(RunJSONError) {
        let reader = try RunJSONReader(json, path: path)
        self.init(
            number: try reader.int("number"), commandID: try reader.string("commandID"), resourceType: try reader.string("resourceType"),
            resource: try reader.string("resource"), queuedAt: try reader.date("queuedAt"), deadline: try reader.optionalDate("deadline")
        )
        publishedAt = try reader.optionalDate("publishedAt")
        startedAt = try reader.optionalDate("startedAt")
        finishedAt = try reader.optionalDate("finishedAt")
        vendorRunID = try reader.optionalString("vendorRunID")
        outcome = try reader.optionalWord("outcome", as: Outcome.self)
        error = try reader.optionalString("error")
        cancelRequested = try reader.bool("cancelRequested")
    }

    var json: JSONValue {
        var writer = RunJSONWriter()
        writer.set("number", number)
        writer.set("commandID", commandID)
        writer.set("resourceType", resourceType)
        writer.set("resource", resource)
        writer.set("queuedAt", queuedAt)
        writer.set("publishedAt", publishedAt)
        writer.set("startedAt", startedAt)
        writer.set("finishedAt", finishedAt)
        writer.set("deadline", deadline)
        writer.set("vendorRunID", vendorRunID)
        writer.set("outcome", word: outcome)
        writer.set("error", error)
        writer.set("cancelRequested", cancelRequested)
        return writer.value
    }
}
