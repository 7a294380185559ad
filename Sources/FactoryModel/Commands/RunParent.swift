import JSONSchema

/// The run a command's run is part of: the run of the resource `type`/`name` (in the command's
/// workspace) that the command `commandID` caused. A pipeline's advancer sets it on each task
/// attempt's command (the pipeline run and the command that started it), the engine keeps it on
/// the run it records (`RunRecord.parent`), and lineage names it in the run's `parent` facet.
///
/// ```json
/// "parent": {"type": "pipeline", "name": "nightly", "command": "d3f1c2a0-5b7e-4c41-9a55-2f0e8c6b1a77"}
/// ```
public struct RunParent: Sendable, Hashable {
    /// The parent resource's type (`pipeline`).
    public var type: String
    /// The parent resource's name.
    public var name: String
    /// The id of the command that caused the parent run (its run id in the state, and the seed
    /// of its OpenLineage run id).
    public var commandID: String

    /// The longest command id a parent may name.
    public static let maxCommandIDLength = 512

    public init(type: String, name: String, commandID: String) {
        self.type = type
        self.name = name
        self.commandID = commandID
    }

    /// Why this parent cannot be carried, naming the member (`type`, `name`, `command`), or nil
    /// when it can.
    public var violation: (member: String, message: String)? {
        if let violation = NameRule.violation(in: type) { return ("type", "invalid parent type \"\(type.prefix(80))\": \(violation); types must be \(NameRule.summary)") }
        if let violation = NameRule.violation(in: name) { return ("name", "invalid parent name \"\(name.prefix(80))\": \(violation); names must be \(NameRule.summary)") }
        guard !commandID.isEmpty, commandID.utf8.count <= Self.maxCommandIDLength, commandID.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) else {
            return ("command", "expected parent.command to be a command id (1 to \(Self.maxCommandIDLength) printable ASCII characters), got \(JSONValue.string(commandID).serialized().prefix(40))")
        }
        return nil
    }

    /// As the command and the state write it.
    public var json: JSONValue {
        ["type": .string(type), "name": .string(name), "command": .string(commandID)]
    }

    /// Reads one written by ``json``; nil when it is not such an object.
    public init?(json: JSONValue) {
        guard let type = json["type"]?.stringValue, let name = json["name"]?.stringValue, let command = json["command"]?.stringValue else { return nil }
        self.init(type: type, name: name, commandID: command)
    }
}
