import Foundation
import JSONSchema

// The state documents written without Foundation's JSONEncoder. Each record is written 1–3 times
// per command, and going through `Codable` with sorted keys was about a tenth of a replica's CPU
// under load (docs/benchmarks.md). The keys are the `Codable` ones, optional fields are left out
// when nil as `Codable` does, and reading stays `Codable`; StateRecordJSONTests checks that both
// writers give the same document for every record shape.

/// A state document that writes itself as a `JSONValue`.
protocol StateJSONRepresentable {
    var stateJSON: JSONValue { get }
}

/// Builds one object; nil members are left out.
private struct ObjectBuilder {
    var object = JSONObject()

    mutating func add(_ key: String, _ value: JSONValue?) {
        if let value { _ = object.insertNew(key: key, value: value) }
    }

    mutating func add(_ key: String, _ value: String?) {
        add(key, value.map(JSONValue.string))
    }

    mutating func add(_ key: String, _ value: Int?) {
        add(key, value.map { JSONValue.number(JSONNumber($0)) })
    }

    mutating func add(_ key: String, _ value: Bool?) {
        add(key, value.map(JSONValue.bool))
    }

    mutating func add(_ key: String, _ value: Date?) {
        add(key, value.map { JSONValue.string(Timestamp.format($0)) })
    }

    mutating func add(_ key: String, _ value: (some StateJSONRepresentable)?) {
        add(key, value?.stateJSON)
    }

    var value: JSONValue { .object(object) }
}

extension CommandReference: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("id", id)
        builder.add("sequence", JSONValue.number(JSONNumber(Int64(clamping: sequence))))
        builder.add("operation", operation)
        builder.add("receivedAt", receivedAt)
        return builder.value
    }
}

extension ActiveCommand: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("command", command)
        builder.add("owner", owner)
        builder.add("heartbeatAt", heartbeatAt)
        builder.add("stage", stage.rawValue)
        builder.add("triggerIntentAt", triggerIntentAt)
        builder.add("vendor", vendor)
        return builder.value
    }
}

extension EntityRecord: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("version", version)
        builder.add("workspace", workspace)
        builder.add("name", name)
        builder.add("type", type)
        builder.add("owner", owner)
        builder.add("manifest", manifest)
        builder.add("specDigest", specDigest)
        builder.add("generation", generation)
        builder.add("deleted", deleted)
        builder.add("lastCommand", lastCommand)
        builder.add("activeCommand", activeCommand)
        builder.add("createdAt", createdAt)
        builder.add("updatedAt", updatedAt)
        return builder.value
    }
}

extension RowCounts: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("added", added)
        builder.add("changed", changed)
        builder.add("removed", removed)
        return builder.value
    }
}

extension RunRecord: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("id", id)
        builder.add("status", status)
        builder.add("createdAt", createdAt)
        builder.add("startedAt", startedAt)
        builder.add("finishedAt", finishedAt)
        // JSON has no NaN or infinity; JSONEncoder would refuse the whole document.
        builder.add("completionRatio", completionRatio.flatMap(JSONNumber.init).map(JSONValue.number))
        builder.add("querySize", querySize)
        builder.add("plannedRows", plannedRows)
        builder.add("successfulRows", successfulRows)
        builder.add("failedRows", failedRows)
        builder.add("error", error)
        builder.add("commandID", commandID)
        builder.add("checkedAt", checkedAt)
        return builder.value
    }
}

extension VendorObjects: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("modelID", modelID)
        builder.add("modelSlug", modelSlug)
        builder.add("syncID", syncID)
        builder.add("syncSlug", syncSlug)
        return builder.value
    }
}

extension ErrorRecord: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("reason", reason)
        builder.add("message", message)
        builder.add("commandID", commandID)
        builder.add("at", at)
        return builder.value
    }
}

extension StatusRecord: StateJSONRepresentable {
    var stateJSON: JSONValue {
        var builder = ObjectBuilder()
        builder.add("version", version)
        builder.add("workspace", workspace)
        builder.add("name", name)
        builder.add("type", type)
        builder.add("phase", phase.rawValue)
        builder.add("observedGeneration", observedGeneration)
        builder.add("vendor", vendor)
        builder.add("currentRun", currentRun)
        builder.add("lastRun", lastRun)
        builder.add("lastError", lastError)
        builder.add("createdAt", createdAt)
        builder.add("updatedAt", updatedAt)
        builder.add("deletedAt", deletedAt)
        return builder.value
    }
}
