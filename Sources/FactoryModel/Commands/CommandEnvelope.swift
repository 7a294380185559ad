import Foundation
import JSONSchema

/// A command as it travels on the command subject (JSON):
///
/// ```json
/// {"version": 1, "op": "apply", "workspace": "public", "resource": { …the resource manifest… }}
/// {"version": 1, "op": "delete", "workspace": "public", "resource": {"name": "pipeline-01", "type": "hightouch"}}
/// ```
///
/// `version` is optional and defaults to 1; higher versions are refused. `apply` carries a full
/// resource manifest; `delete` and `run` need only the resource `name` (without `type`, the type
/// is the one served on the subject the command is sent to; a full manifest is accepted too, and
/// then `resource.type` is the type). A `run` may carry `input` and `event`, a `cancel` `mode`
/// and `run`, a `run` or `apply` `parent` (``CommandOptions``).
///
/// An `apply` may carry `"adopt": true` beside `op` (`factoryctl apply --adopt`): vendor objects
/// found under the spec's names that the resource did not record are taken over even when they
/// differ from the spec. Still version 1: a replica that predates the field ignores it, as it
/// ignores every member it does not read, and does what it always did (it takes such objects
/// over anyway). `false` is never written, so a plain apply's bytes and message id are what they
/// were; a non-boolean is refused; on another op the member is ignored.
public struct CommandEnvelope: Sendable, Hashable {
    /// The envelope version this build writes and the highest it reads.
    public static let currentVersion = 1

    /// The operation and what it carries.
    public enum Payload: Sendable, Hashable {
        case apply(ResourceManifest)
        case delete(ResourceReference)
        case run(ResourceReference)
        case cancel(ResourceReference)
    }

    public var version: Int
    public var workspace: WorkspaceName
    public var payload: Payload
    /// An `apply` that takes over vendor objects someone else made under the spec's names
    /// (`"adopt": true`); written and read for `apply` only.
    public var adopt: Bool
    /// What a `run` or `cancel` may carry besides the resource (``CommandOptions``).
    public var options: CommandOptions

    public init(
        version: Int = CommandEnvelope.currentVersion, workspace: WorkspaceName, payload: Payload, adopt: Bool = false, options: CommandOptions = CommandOptions()
    ) {
        self.version = version
        self.workspace = workspace
        self.payload = payload
        if case .apply = payload { self.adopt = adopt } else { self.adopt = false }
        self.options = options
    }

    /// An `apply` of `manifest` in `workspace`; `adopt`: take over what is found under the spec's
    /// names (`factoryctl apply --adopt`).
    public static func apply(_ manifest: ResourceManifest, workspace: WorkspaceName, adopt: Bool = false) -> CommandEnvelope {
        CommandEnvelope(workspace: workspace, payload: .apply(manifest), adopt: adopt)
    }

    /// A `delete` of `resource` in `workspace`.
    public static func delete(_ resource: ResourceReference, workspace: WorkspaceName) -> CommandEnvelope {
        CommandEnvelope(workspace: workspace, payload: .delete(resource))
    }

    /// A `run` of `resource` in `workspace`.
    public static func run(_ resource: ResourceReference, workspace: WorkspaceName) -> CommandEnvelope {
        CommandEnvelope(workspace: workspace, payload: .run(resource))
    }

    /// A `cancel` of `resource`'s run in progress in `workspace`.
    public static func cancel(_ resource: ResourceReference, workspace: WorkspaceName) -> CommandEnvelope {
        CommandEnvelope(workspace: workspace, payload: .cancel(resource))
    }

    public var operation: CommandOperation {
        switch payload {
        case .apply: return .apply
        case .delete: return .delete
        case .run: return .run
        case .cancel: return .cancel
        }
    }

    /// The resource the command is about.
    public var resource: ResourceReference {
        switch payload {
        case .apply(let manifest): return ResourceReference(name: manifest.name, type: manifest.resource.type)
        case .delete(let reference), .run(let reference), .cancel(let reference): return reference
        }
    }

    // MARK: - Encoding

    /// The command as JSON.
    public var jsonValue: JSONValue {
        let resource: JSONValue
        switch payload {
        case .apply(let manifest):
            resource = manifest.jsonValue
        case .delete(let reference), .run(let reference), .cancel(let reference):
            var object: JSONObject = ["name": .string(reference.name.rawValue)]
            if let type = reference.type { object["type"] = .string(type) }
            resource = .object(object)
        }
        var object: JSONObject = [
            "version": .number(JSONNumber(version)),
            "op": .string(operation.rawValue),
        ]
        // Beside `op`, early in the bytes; only when set, so a plain apply is what it always was.
        if adopt, operation == .apply { object["adopt"] = .bool(true) }
        object["workspace"] = .string(workspace.rawValue)
        object["resource"] = resource
        for (key, value) in options.members(for: operation) { object[key] = value }
        return .object(object)
    }

    /// The command as compact JSON bytes. By default the fields come in envelope order (`version`,
    /// `op`, `workspace`, then `resource` with its `name` early), so even a command too large to
    /// decode shows its workspace and resource name in its first bytes (see ``CommandIdentity``).
    /// With `sortedKeys` the bytes depend only on the content (see ``deduplicationID``).
    public func encoded(sortedKeys: Bool = false) -> [UInt8] {
        jsonValue.serializedBytes(sortedKeys: sortedKeys)
    }

    /// A content-derived id for the `Nats-Msg-Id` header: the SHA-256 (hex) of the sorted-key
    /// encoding, so publishing the same command twice inside the stream's duplicate window is
    /// dropped by JetStream.
    public var deduplicationID: String {
        SHA256.hexDigest(encoded(sortedKeys: true))
    }

    // MARK: - Decoding

    /// Decodes a command, refusing anything malformed with a ``CommandRejection``.
    ///
    /// Checks, in order: size (before parsing), strict JSON, object, `version`, `op`, `workspace`
    /// (name rule), `resource` (a full manifest for `apply`, at least `name` otherwise). It does
    /// not check enabled workspaces or the spec schema: ``CommandValidator`` does.
    public init(decoding bytes: some Collection<UInt8>, limits: CommandDecodingLimits = .default) throws(CommandRejection) {
        let size = bytes.count
        guard size <= limits.maxBytes else {
            throw CommandRejection(reason: .oversize, message: "the command is \(size) bytes, more than the limit of \(limits.maxBytes) bytes")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes, limits: JSONParsingLimits(maxBytes: limits.maxBytes, maxDepth: limits.maxDepth, maxStringBytes: limits.maxBytes))
        } catch {
            throw CommandRejection(reason: .notJSON, message: "the command is not valid JSON: \(error)")
        }
        try self.init(json: value)
    }

    /// Decodes a command from its JSON value (see ``init(decoding:limits:)``).
    public init(json value: JSONValue) throws(CommandRejection) {
        guard case .object(let object) = value else {
            throw CommandRejection(reason: .notAnObject, message: "the command must be a JSON object, got \(value.typeName)", field: .root)
        }

        // version
        version = Self.currentVersion
        if let versionValue = object["version"] {
            guard case .number(let number) = versionValue, let decoded = number.intValue else {
                throw CommandRejection(reason: .wrongType, message: "expected an integer version, got \(versionValue.typeName)", field: "/version")
            }
            guard (1...Self.currentVersion).contains(decoded) else {
                throw CommandRejection(
                    reason: .unsupportedVersion,
                    message: "command version \(decoded) is not supported; this operator reads versions 1 to \(Self.currentVersion)",
                    field: "/version")
            }
            version = decoded
        }

        // op
        guard let opValue = object["op"] else {
            throw CommandRejection(reason: .missingField, message: "missing required field \"op\" (apply, delete, run or cancel)", field: "/op")
        }
        guard case .string(let opText) = opValue else {
            throw CommandRejection(reason: .wrongType, message: "expected op to be a string, got \(opValue.typeName)", field: "/op")
        }
        guard let operation = CommandOperation(rawValue: opText) else {
            throw CommandRejection(reason: .unknownOp, message: "unknown op \"\(Self.abbreviate(opText))\"; expected apply, delete, run or cancel", field: "/op")
        }

        // adopt: optional, a boolean; meaningful for apply only.
        var adopt = false
        if let adoptValue = object["adopt"] {
            guard case .bool(let flag) = adoptValue else {
                throw CommandRejection(reason: .wrongType, message: "expected adopt to be a boolean (true to take over vendor objects found under the spec's names), got \(adoptValue.typeName)", field: "/adopt")
            }
            adopt = flag && operation == .apply
        }
        self.adopt = adopt

        // workspace
        guard let workspaceValue = object["workspace"] else {
            throw CommandRejection(reason: .missingField, message: "missing required field \"workspace\"", field: "/workspace")
        }
        guard case .string(let workspaceText) = workspaceValue else {
            throw CommandRejection(reason: .wrongType, message: "expected workspace to be a string, got \(workspaceValue.typeName)", field: "/workspace")
        }
        do {
            workspace = try WorkspaceName(workspaceText)
        } catch {
            throw CommandRejection(reason: .invalidName, message: error.description, field: "/workspace")
        }

        // resource
        guard let resourceValue = object["resource"] else {
            throw CommandRejection(reason: .missingField, message: "missing required field \"resource\"", field: "/resource")
        }
        guard case .object(let resourceObject) = resourceValue else {
            throw CommandRejection(reason: .wrongType, message: "expected resource to be an object, got \(resourceValue.typeName)", field: "/resource")
        }
        switch operation {
        case .apply:
            do {
                payload = .apply(try ResourceManifest(json: resourceValue))
            } catch {
                throw Self.rejection(from: error)
            }
        case .delete:
            payload = .delete(try Self.reference(from: resourceObject))
        case .run:
            payload = .run(try Self.reference(from: resourceObject))
        case .cancel:
            payload = .cancel(try Self.reference(from: resourceObject))
        }
        options = try CommandOptions(decoding: object, for: operation)
    }

    /// `name` at the top; the type from `resource.type`, else a top-level `type` other than
    /// `resource` (the short form), else none (the type served on the command's subject).
    private static func reference(from object: JSONObject) throws(CommandRejection) -> ResourceReference {
        guard let nameValue = object["name"] else {
            throw CommandRejection(reason: .missingField, message: "missing required field \"name\"", field: "/resource/name")
        }
        guard case .string(let nameText) = nameValue else {
            throw CommandRejection(reason: .wrongType, message: "expected name to be a string, got \(nameValue.typeName)", field: "/resource/name")
        }
        let name: ResourceName
        do {
            name = try ResourceName(nameText)
        } catch {
            throw CommandRejection(reason: .invalidName, message: error.description, field: "/resource/name")
        }
        var type: String?
        var typeField: JSONPointer = "/resource/type"
        if let section = object["resource"] {
            guard case .object(let sectionObject) = section else {
                throw CommandRejection(reason: .wrongType, message: "expected the resource section to be an object, got \(section.typeName)", field: "/resource/resource")
            }
            if let sectionType = sectionObject["type"] {
                guard case .string(let text) = sectionType else {
                    throw CommandRejection(reason: .wrongType, message: "expected type to be a string, got \(sectionType.typeName)", field: "/resource/resource/type")
                }
                type = text
                typeField = "/resource/resource/type"
            }
        } else if let topType = object["type"] {
            guard case .string(let text) = topType else {
                throw CommandRejection(reason: .wrongType, message: "expected type to be a string, got \(topType.typeName)", field: "/resource/type")
            }
            if text != "resource" { type = text }
        }
        if let type {
            do {
                try NameRule.validate(type, as: .resourceType)
            } catch {
                throw CommandRejection(reason: .invalidName, message: error.description, field: typeField)
            }
        }
        return ResourceReference(name: name, type: type)
    }

    static func rejection(from error: ManifestError) -> CommandRejection {
        let reason: CommandRejection.Reason
        switch error.kind {
        case .missingField: reason = .missingField
        case .wrongType: reason = .wrongType
        case .invalidName: reason = .invalidName
        default: reason = .invalidManifest
        }
        let field = (error.field ?? .root).prepending("/resource")
        return CommandRejection(reason: reason, message: error.message, field: field)
    }

    private static func abbreviate(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(40)) + "…"
    }
}
