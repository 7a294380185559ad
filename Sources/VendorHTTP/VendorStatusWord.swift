// MARK: - VendorStatusWord

/// A word a vendor API uses for a state (`syncing`, `success`, `connected`, ...), as an enum whose
/// `unknown` case keeps a word the vendor adds later instead of failing the whole answer. It is
/// decoded from and encoded as the word, and described by it; each enum keeps only its words.
public protocol VendorStatusWord: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The case of `rawValue`, or `unknown(rawValue)`.
    init(rawValue: String)
    /// The word as the API writes it.
    var rawValue: String { get }
}

extension VendorStatusWord {
    public var description: String { self.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}
