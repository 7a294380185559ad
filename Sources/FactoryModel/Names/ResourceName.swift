/// A resource name that follows ``NameRule``, so it can be a NATS subject token and a KV key token.
public struct ResourceName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The name, e.g. `pipeline-01`.
    public let rawValue: String

    /// Checks `rawValue` against ``NameRule``.
    public init(_ rawValue: String) throws(InvalidNameError) {
        try NameRule.validate(rawValue, as: .resource)
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: ResourceName, rhs: ResourceName) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public init(from decoder: any Decoder) throws {
        try self.init(decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
