/// A resource or workspace name that breaks ``NameRule``.
public struct InvalidNameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What the name names.
    public enum Kind: String, Sendable, Hashable {
        case resource
        case workspace
        case resourceType = "resource type"
    }

    public let kind: Kind
    /// The refused value.
    public let value: String
    /// What is wrong with it, e.g. `it contains '.'`.
    public let violation: String

    public var description: String {
        let shown = value.count > 80 ? String(value.prefix(80)) + "…" : value
        return "invalid \(kind.rawValue) name \"\(shown)\": \(violation); names must be \(NameRule.summary)"
    }
}
