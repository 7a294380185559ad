import JSONSchema

/// One problem found by ``ResourceTypeRegistry/validate(_:workspace:maxErrors:)``.
public struct ResourceValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, Codable {
        case unknownResourceType
        case workspaceNotEnabled
        case schemaViolation
    }

    public let reason: Reason
    /// Pointer relative to the resource section (e.g. `/spec/model/isSchema`), when the problem is
    /// in the manifest.
    public let location: JSONPointer?
    /// The JSON Schema keyword, for schema violations.
    public let keyword: String?
    public let message: String

    public init(reason: Reason, location: JSONPointer?, keyword: String?, message: String) {
        self.reason = reason
        self.location = location
        self.keyword = keyword
        self.message = message
    }

    /// `/spec/model/isSchema: expected boolean, got string`
    public var description: String {
        guard let location else { return message }
        return "\(location.isRoot ? "/" : location.description): \(message)"
    }
}
