// MARK: - CensusID

/// The id of a Census object (sync, sync run, source, destination).
///
/// The API sends ids as JSON numbers (`"sync_run_id": 1234567890`); a few clients and older
/// examples carry them as strings. A `CensusID` decodes from either and keeps the canonical text
/// (`61`, never `61.0`), so ids compare equal whichever way they arrived.
public struct CensusID: Sendable, Hashable, Comparable {
    /// The id as text, e.g. `"61"`.
    public let rawValue: String

    /// Wraps an id given as text; surrounding white space is removed and `"42.0"` becomes `"42"`.
    public init(_ text: String) {
        let trimmed = text.censusTrimmed
        if let number = Double(trimmed), number.rounded() == number, abs(number) < 9_007_199_254_740_992,
            trimmed.contains(".") || trimmed.contains("e") || trimmed.contains("E")
        {
            self.rawValue = String(Int64(number))
        } else {
            self.rawValue = trimmed
        }
    }

    /// Wraps a numeric id.
    public init(_ number: Int) {
        self.rawValue = String(number)
    }

    private init(rawText: String) {
        self.rawValue = rawText
    }

    /// The id as an integer, if it is one (every id the API documents is).
    public var intValue: Int? { Int(self.rawValue) }

    /// Whether the id is a positive whole number, the only kind Census issues.
    public var isWellFormed: Bool {
        guard let value = self.intValue else { return false }
        return value > 0
    }

    /// Numeric ids order numerically; anything else orders as text after them.
    public static func < (lhs: CensusID, rhs: CensusID) -> Bool {
        switch (lhs.intValue, rhs.intValue) {
        case (let left?, let right?): left < right
        case (.some, .none): true
        case (.none, .some): false
        case (.none, .none): lhs.rawValue < rhs.rawValue
        }
    }
}

// MARK: - Literals and description

extension CensusID: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, CustomStringConvertible {
    public init(integerLiteral value: Int) { self.init(value) }
    public init(stringLiteral value: String) { self.init(value) }
    public var description: String { self.rawValue }
}

// MARK: - Codable

extension CensusID: Codable {
    /// Accepts a JSON number or a JSON string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let integer = try? container.decode(Int64.self) {
            self.init(rawText: String(integer))
        } else if let number = try? container.decode(Double.self) {
            guard number.rounded() == number, abs(number) < 9_007_199_254_740_992 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "Census id \(number) is not a whole number.")
            }
            self.init(rawText: String(Int64(number)))
        } else if let text = try? container.decode(String.self) {
            self.init(text)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "A Census id must be a JSON number or string.")
        }
    }

    /// Writes a number when the id is numeric (as the API does), else text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let integer = Int64(self.rawValue) {
            try container.encode(integer)
        } else {
            try container.encode(self.rawValue)
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    var censusTrimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
