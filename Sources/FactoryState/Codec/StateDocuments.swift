import FactoryModel
import Foundation
import JSONSchema

// How each record is stored (version 2), and read back from version 1 or 2. docs/state.md shows
// both versions; the version-1 reading is the upgrade: a replica of this build reads what the
// previous release wrote and writes it back as version 2 with its next change.

extension CommandReference {
    var stateJSON: JSONValue {
        var builder = StateObjectBuilder()
        builder.add("id", id)
        builder.add("sequence", sequence)
        builder.add("operation", operation)
        builder.add("receivedAt", receivedAt)
        return builder.value
    }

    init(_ fields: StateFields) throws(StateDocumentError) {
        self.init(id: try fields.string("id"), sequence: try fields.uint64("sequence"), operation: try fields.string("operation"), receivedAt: try fields.date("receivedAt"))
    }
}

extension ActiveCommand {
    var stateJSON: JSONValue {
        var builder = StateObjectBuilder()
        builder.add("command", command.stateJSON)
        builder.add("owner", owner)
        builder.add("heartbeatAt", heartbeatAt)
        builder.add("stage", stage.rawValue)
        builder.add("triggerIntentAt", triggerIntentAt)
        builder.add("objects", objects)
        builder.add("baseline", baseline)
        return builder.value
    }

    init(_ fields: StateFields, version: Int) throws(StateDocumentError) {
        self.init(
            command: try CommandReference(try fields.fields("command")),
            owner: try fields.string("owner"),
            heartbeatAt: try fields.date("heartbeatAt"),
            stage: try fields.choice("stage", as: Stage.self),
            triggerIntentAt: try fields.optionalDate("triggerIntentAt"),
            // Version 1 called the vendor objects `vendor` (Hightouch's model and sync).
            objects: version == 1 ? LegacyV1.objects(fields.value("vendor")) : fields.value("objects"),
            baseline: fields.value("baseline")
        )
    }
}

extension EntityRecord: StateDocument {
    public var stateJSON: JSONValue {
        var builder = StateObjectBuilder()
        builder.add("version", StateVersion.current)
        builder.add("workspace", workspace)
        builder.add("name", name)
        builder.add("type", type)
        builder.add("owner", owner)
        builder.add("manifest", manifest)
        builder.add("specDigest", specDigest)
        builder.add("generation", generation)
        builder.add("deleted", deleted)
        builder.add("lastCommand", lastCommand?.stateJSON)
        builder.add("activeCommand", activeCommand?.stateJSON)
        builder.add("createdAt", createdAt)
        builder.add("updatedAt", updatedAt)
        return builder.value
    }

    public init(stateJSON object: JSONObject, version: Int, key: String) throws(StateDocumentError) {
        let fields = StateFields(object, key: key)
        guard let manifest = object["manifest"] else {
            throw StateDocumentError(key: key, message: "/manifest: expected the applied manifest, found nothing")
        }
        self.init(
            workspace: try fields.string("workspace"),
            name: try fields.string("name"),
            type: try fields.string("type"),
            owner: try fields.optionalString("owner"),
            manifest: manifest,
            specDigest: try fields.string("specDigest"),
            generation: try fields.int("generation"),
            deleted: try fields.bool("deleted"),
            lastCommand: try fields.optionalFields("lastCommand").map { fields throws(StateDocumentError) in try CommandReference(fields) },
            activeCommand: try fields.optionalFields("activeCommand").map { fields throws(StateDocumentError) in try ActiveCommand(fields, version: version) },
            createdAt: try fields.date("createdAt"),
            updatedAt: try fields.date("updatedAt")
        )
        self.version = version
    }
}

extension ErrorRecord {
    var stateJSON: JSONValue {
        var builder = StateObjectBuilder()
        builder.add("reason", reason)
        builder.add("message", message)
        builder.add("commandID", commandID)
        builder.add("at", at)
        return builder.value
    }

    init(_ fields: StateFields) throws(StateDocumentError) {
        self.init(reason: try fields.string("reason"), message: try fields.string("message"), commandID: try fields.optionalString("commandID"), at: try fields.date("at"))
    }
}

extension DriftRecord {
    var stateJSON: JSONValue {
        var builder = StateObjectBuilder()
        builder.add("found", found)
        builder.add("repair", repair)
        builder.add("kind", kind)
        builder.add("commandID", commandID)
        builder.add("at", at)
        return builder.value
    }

    init(_ fields: StateFields) throws(StateDocumentError) {
        self.init(
            found: try fields.string("found"), repair: try fields.string("repair"), kind: try fields.string("kind"),
            commandID: try fields.optionalString("commandID"), at: try fields.date("at")
        )
    }
}

extension RunRecord {
    var stateJSON: JSONValue {
        var builder = StateObjectBuilder()
        builder.add("key", key)
        builder.add("vendorRunID", vendorRunID)
        builder.add("reference", reference)
        builder.add("phase", phase.rawValue)
        builder.add("vendorStatus", vendorStatus)
        builder.add("createdAt", createdAt)
        builder.add("startedAt", startedAt)
        builder.add("finishedAt", finishedAt)
        builder.add("progress", progress)
        builder.add("summary", summary)
        builder.add("error", error)
        builder.add("details", details)
        builder.add("recordedAt", recordedAt)
        builder.add("deadline", deadline)
        builder.add("checkedAt", checkedAt)
        if !lineagePublished.isEmpty { builder.add("lineage", ["published": .array(lineagePublished.map { .string($0) })]) }
        builder.add("parent", parent?.json)
        return builder.value
    }

    init(_ fields: StateFields, version: Int) throws(StateDocumentError) {
        if version == 1 {
            self = try LegacyV1.run(fields)
            return
        }
        self.init(
            key: try fields.string("key"),
            vendorRunID: try fields.optionalString("vendorRunID"),
            reference: fields.value("reference"),
            phase: try fields.choice("phase", as: RunPhase.self),
            vendorStatus: try fields.string("vendorStatus"),
            createdAt: try fields.optionalDate("createdAt"),
            startedAt: try fields.optionalDate("startedAt"),
            finishedAt: try fields.optionalDate("finishedAt"),
            progress: try fields.optionalDouble("progress"),
            summary: try fields.optionalString("summary"),
            error: try fields.optionalString("error"),
            details: fields.value("details"),
            recordedAt: try fields.date("recordedAt"),
            checkedAt: try fields.date("checkedAt")
        )
        deadline = try fields.optionalDate("deadline")
        // Lenient: an outbox that cannot be read is an empty one (its events are published
        // again, and JetStream's duplicate window or the consumers drop them by identity).
        lineagePublished = fields.value("lineage")?["published"]?.arrayValue?.compactMap(\.stringValue) ?? []
        // Lenient too: a parent that cannot be read is none (the run's events then name no parent).
        parent = fields.value("parent").flatMap(RunParent.init(json:))
    }
}

extension StatusRecord: StateDocument {
    public var stateJSON: JSONValue {
        var builder = StateObjectBuilder()
        builder.add("version", StateVersion.current)
        builder.add("workspace", workspace)
        builder.add("name", name)
        builder.add("type", type)
        builder.add("phase", phase.rawValue)
        builder.add("observedGeneration", observedGeneration)
        builder.add("objects", objects)
        builder.add("currentRun", currentRun?.stateJSON)
        builder.add("lastRun", lastRun?.stateJSON)
        builder.add("lastError", lastError?.stateJSON)
        builder.add("lastDrift", lastDrift?.stateJSON)
        builder.add("createdAt", createdAt)
        builder.add("updatedAt", updatedAt)
        builder.add("deletedAt", deletedAt)
        return builder.value
    }

    public init(stateJSON object: JSONObject, version: Int, key: String) throws(StateDocumentError) {
        let fields = StateFields(object, key: key)
        self.init(
            workspace: try fields.string("workspace"), name: try fields.string("name"), type: try fields.string("type"),
            phase: try fields.choice("phase", as: ResourcePhase.self), at: try fields.date("createdAt")
        )
        self.version = version
        observedGeneration = try fields.int("observedGeneration")
        objects = version == 1 ? LegacyV1.objects(fields.value("vendor")) : fields.value("objects")
        currentRun = try fields.optionalFields("currentRun").map { fields throws(StateDocumentError) in try RunRecord(fields, version: version) }
        lastRun = try fields.optionalFields("lastRun").map { fields throws(StateDocumentError) in try RunRecord(fields, version: version) }
        lastError = try fields.optionalFields("lastError").map { fields throws(StateDocumentError) in try ErrorRecord(fields) }
        lastDrift = try fields.optionalFields("lastDrift").map { fields throws(StateDocumentError) in try DriftRecord(fields) }
        updatedAt = try fields.date("updatedAt")
        deletedAt = try fields.optionalDate("deletedAt")
    }
}

// MARK: - Version 1

/// Reading the documents of state version 1, written by the release before drivers: every
/// resource was a Hightouch one, and the run fields were Hightouch's.
enum LegacyV1 {
    /// Version 1's `vendor` object (`modelID`, `modelSlug`, `syncID`, `syncSlug`) is the Hightouch
    /// driver's objects as they are; an empty one meant "nothing yet".
    static func objects(_ vendor: JSONValue?) -> JSONValue? {
        guard let vendor, let object = vendor.objectValue, !object.isEmpty else { return nil }
        return vendor
    }

    /// The fields a version-1 run had besides its vendor's own; the rest become `details`.
    static let runFields: Set<String> = ["id", "status", "createdAt", "startedAt", "finishedAt", "error", "commandID", "checkedAt"]

    static func run(_ fields: StateFields) throws(StateDocumentError) -> RunRecord {
        let id = try fields.string("id")
        let status = try fields.string("status")
        let commandID = try fields.optionalString("commandID")
        var details = JSONObject()
        for member in fields.object where !runFields.contains(member.key) && !member.value.isNull {
            _ = details.insertNew(key: member.key, value: member.value)
        }
        let createdAt = try fields.optionalDate("createdAt")
        let checkedAt = try fields.date("checkedAt")
        return RunRecord(
            key: commandID ?? "v1-\(id)",
            vendorRunID: id,
            reference: nil,
            phase: phase(status),
            vendorStatus: status,
            createdAt: createdAt,
            startedAt: try fields.optionalDate("startedAt"),
            finishedAt: try fields.optionalDate("finishedAt"),
            progress: try fields.optionalDouble("completionRatio"),
            error: try fields.optionalString("error"),
            details: details.isEmpty ? nil : .object(details),
            recordedAt: createdAt ?? checkedAt,
            checkedAt: checkedAt
        )
    }

    /// The run status words of version 1 and what they meant (docs/state.md of that release).
    static func phase(_ status: String) -> RunPhase {
        switch status {
        case "queued", "pending": return .queued
        case "querying", "processing", "reporting": return .running
        case "success": return .succeeded
        case "warning": return .warning
        case "failed", "interrupted": return .failed
        case "cancelled", "canceled", "aborted": return .cancelled
        default: return .running
        }
    }
}
