import JSONSchema

/// Why a command was refused. The operator records ``reason`` (a stable code) in the resource's
/// status and on the dead-letter subject, and never retries a refused command.
public struct CommandRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable code. Raw values never change.
    public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
        /// Larger than the size limit (checked before parsing).
        case oversize
        /// Not strict JSON.
        case notJSON
        /// JSON, but not an object.
        case notAnObject
        /// A `version` this build does not understand.
        case unsupportedVersion
        /// `op` is not `apply`, `delete` or `run`.
        case unknownOp
        /// A required field is missing.
        case missingField
        /// A field has the wrong JSON type.
        case wrongType
        /// A resource or workspace name breaks the name rule.
        case invalidName
        /// The resource manifest is malformed in another way (e.g. wrong `type`).
        case invalidManifest
        /// The resource type is not one the operator manages.
        case unknownResourceType
        /// The workspace is not in `enabledWorkspaces`.
        case workspaceNotEnabled
        /// The spec does not satisfy its type's schema; see ``CommandRejection/violations``.
        case schemaViolation
        /// `run` on a resource type that is not runnable.
        case notRunnable
    }

    public let reason: Reason
    /// A plain sentence saying what was wrong.
    public let message: String
    /// The field concerned, as a pointer into the command (e.g. `/resource/name`).
    public let field: JSONPointer?
    /// For ``Reason/schemaViolation``: every violation (capped), located relative to the resource
    /// section (e.g. `/spec/model/isSchema`).
    public let violations: [SchemaValidationError]

    public init(reason: Reason, message: String, field: JSONPointer? = nil, violations: [SchemaValidationError] = []) {
        self.reason = reason
        self.message = message
        self.field = field
        self.violations = violations
    }

    /// `schemaViolation: /spec/model/isSchema: expected boolean, got string`
    public var description: String {
        var text = "\(reason.rawValue): "
        if let field { text += "\(field.isRoot ? "/" : field.description): " }
        text += message
        if !violations.isEmpty {
            text += "; " + violations.map(\.description).joined(separator: "; ")
        }
        return text
    }
}
