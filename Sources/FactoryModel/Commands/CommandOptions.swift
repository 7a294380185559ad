import JSONSchema

/// How a `cancel` stops a run: `stop` lets the run wind down (a pipeline runs its `finally`
/// tasks), `terminate` does not. Vendors with one way of cancelling treat both alike.
public enum CancelMode: String, Sendable, Hashable, Codable, CaseIterable {
    case stop, terminate
}

/// The optional fields a `run`, `apply` or `cancel` command may carry besides the resource:
///
/// ```json
/// {"op": "run", "workspace": "public", "resource": {"name": "daily"}, "input": "orders-landed", "event": {"subject": "…"}}
/// {"op": "cancel", "workspace": "public", "resource": {"name": "daily"}, "mode": "terminate", "run": "20261121-100000-3fa2c1"}
/// {"op": "run", "workspace": "public", "resource": {"name": "crm"}, "parent": {"type": "pipeline", "name": "daily", "command": "…"}}
/// ```
///
/// They are top-level members of the command, read only for their operation (ignored on the
/// others, as any unknown member is), refused when malformed, and part of the command's content,
/// so of its de-duplication id.
public struct CommandOptions: Sendable, Hashable {
    /// `run`: what happened that asked for the run (an input's event), as JSON.
    public var event: JSONValue?
    /// `run`: the name of the input that asked for it (nil: asked for by hand).
    public var input: String?
    /// `cancel`: how (nil: the vendor's only way, `stop` where there are two).
    public var mode: CancelMode?
    /// `cancel`: which run, by its id (the vendor's run id or the key of the command that caused
    /// it); nil: the run in progress.
    public var run: String?
    /// `run` and `apply`: the run the run it causes is part of (a pipeline's task attempt names
    /// its pipeline run); kept on the run record, named by lineage's `parent` facet.
    public var parent: RunParent?

    public init(event: JSONValue? = nil, input: String? = nil, mode: CancelMode? = nil, run: String? = nil, parent: RunParent? = nil) {
        self.event = event
        self.input = input
        self.mode = mode
        self.run = run
        self.parent = parent
    }

    public var isEmpty: Bool { event == nil && input == nil && mode == nil && run == nil && parent == nil }

    /// The longest run id a cancel may name.
    public static let maxRunIDLength = 200

    /// The members for `operation`, as they are encoded.
    func members(for operation: CommandOperation) -> [(String, JSONValue)] {
        switch operation {
        case .run:
            return [("input", input.map(JSONValue.string)), ("event", event), ("parent", parent?.json)].compactMap { key, value in value.map { (key, $0) } }
        case .cancel:
            return [("mode", mode.map { JSONValue.string($0.rawValue) }), ("run", run.map(JSONValue.string))].compactMap { key, value in value.map { (key, $0) } }
        case .apply:
            return [("parent", parent?.json)].compactMap { key, value in value.map { (key, $0) } }
        case .delete:
            return []
        }
    }

    /// Reads the members `operation` may carry from a command object.
    init(decoding object: JSONObject, for operation: CommandOperation) throws(CommandRejection) {
        self.init()
        switch operation {
        case .run:
            if let value = object["input"] {
                guard case .string(let text) = value else {
                    throw CommandRejection(reason: .wrongType, message: "expected input to be a string (the input's name), got \(value.typeName)", field: "/input")
                }
                if let violation = NameRule.violation(in: text) {
                    throw CommandRejection(reason: .invalidName, message: "invalid input name \"\(text.prefix(80))\": \(violation); names must be \(NameRule.summary)", field: "/input")
                }
                input = text
            }
            if let value = object["event"] {
                guard case .object = value else {
                    throw CommandRejection(reason: .wrongType, message: "expected event to be a JSON object, got \(value.typeName)", field: "/event")
                }
                event = value
            }
            parent = try Self.parent(in: object)
        case .cancel:
            if let value = object["mode"] {
                guard case .string(let text) = value, let parsed = CancelMode(rawValue: text) else {
                    throw CommandRejection(reason: .wrongType, message: "expected mode to be \"stop\" or \"terminate\", got \(value.serialized().prefix(40))", field: "/mode")
                }
                mode = parsed
            }
            if let value = object["run"] {
                guard case .string(let text) = value, !text.isEmpty, text.count <= Self.maxRunIDLength,
                    text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 })
                else {
                    throw CommandRejection(
                        reason: .wrongType, message: "expected run to be a run id (1 to \(Self.maxRunIDLength) printable ASCII characters), got \(value.serialized().prefix(40))",
                        field: "/run")
                }
                run = text
            }
        case .apply:
            parent = try Self.parent(in: object)
        case .delete:
            break
        }
    }

    /// The `parent` member: an object with `type`, `name` and `command`, each valid.
    private static func parent(in object: JSONObject) throws(CommandRejection) -> RunParent? {
        guard let value = object["parent"] else { return nil }
        guard case .object = value else {
            throw CommandRejection(reason: .wrongType, message: "expected parent to be an object {type, name, command} (the run this one is part of), got \(value.typeName)", field: "/parent")
        }
        for member in ["type", "name", "command"] {
            guard case .string = value[member] else {
                throw CommandRejection(
                    reason: .wrongType, message: "expected parent.\(member) to be a string, got \(value[member]?.typeName ?? "nothing")", field: JSONPointer(tokens: ["parent", member]))
            }
        }
        guard let parent = RunParent(json: value) else { return nil }
        if let violation = parent.violation {
            throw CommandRejection(reason: .wrongType, message: violation.message, field: JSONPointer(tokens: ["parent", violation.member]))
        }
        return parent
    }
}

extension CommandEnvelope {
    /// A `run` of `resource` asked for by `input` with its `event` (a pipeline's input).
    public static func run(_ resource: ResourceReference, workspace: WorkspaceName, input: String?, event: JSONValue?) -> CommandEnvelope {
        CommandEnvelope(workspace: workspace, payload: .run(resource), options: CommandOptions(event: event, input: input))
    }

    /// A `run` of `resource` as part of the run `parent` (a pipeline's task attempt).
    public static func run(_ resource: ResourceReference, workspace: WorkspaceName, parent: RunParent?) -> CommandEnvelope {
        CommandEnvelope(workspace: workspace, payload: .run(resource), options: CommandOptions(parent: parent))
    }

    /// A `cancel` of `resource`'s run `run` (nil: the one in progress), in `mode`.
    public static func cancel(_ resource: ResourceReference, workspace: WorkspaceName, mode: CancelMode?, run: String?) -> CommandEnvelope {
        CommandEnvelope(workspace: workspace, payload: .cancel(resource), options: CommandOptions(mode: mode, run: run))
    }
}
