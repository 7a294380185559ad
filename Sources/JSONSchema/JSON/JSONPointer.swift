/// A JSON Pointer (RFC 6901): the location of a value inside a JSON document, such as
/// `/spec/model/isSchema` or `/tags/0`.
///
/// The empty pointer (`""`) is the whole document. Tokens are stored unescaped; ``description``
/// escapes `~` as `~0` and `/` as `~1`.
public struct JSONPointer: Sendable, Hashable {
    /// The unescaped reference tokens, outermost first.
    public private(set) var tokens: [String]

    /// The whole document.
    public static let root = JSONPointer(tokens: [])

    /// A pointer made of `tokens` (unescaped).
    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses the RFC 6901 text form, e.g. `/a~1b/0`. Throws when the text does not start with `/`
    /// (and is not empty) or contains `~` not followed by `0` or `1`.
    public init(parsing text: String) throws(JSONPointerError) {
        guard !text.isEmpty else {
            self = .root
            return
        }
        guard text.utf8.first == UInt8(ascii: "/") else {
            throw JSONPointerError(text: text, message: "a JSON pointer must be empty or start with '/'")
        }
        var tokens: [String] = []
        for rawToken in text.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            tokens.append(try Self.unescape(Substring(rawToken), in: text))
        }
        self.tokens = tokens
    }

    /// True for the whole-document pointer.
    public var isRoot: Bool { tokens.isEmpty }

    /// The pointer one level up, or `nil` for the root.
    public var parent: JSONPointer? {
        isRoot ? nil : JSONPointer(tokens: Array(tokens.dropLast()))
    }

    /// The last token, or `nil` for the root.
    public var lastToken: String? { tokens.last }

    /// This pointer followed by `token`.
    public func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [token])
    }

    /// This pointer followed by an array index.
    public func appending(index: Int) -> JSONPointer {
        appending(String(index))
    }

    /// This pointer followed by all tokens of `other`.
    public func appending(_ other: JSONPointer) -> JSONPointer {
        JSONPointer(tokens: tokens + other.tokens)
    }

    /// `prefix` followed by this pointer.
    public func prepending(_ prefix: JSONPointer) -> JSONPointer {
        JSONPointer(tokens: prefix.tokens + tokens)
    }

    /// True when `prefix` is this pointer or one of its ancestors.
    public func hasPrefix(_ prefix: JSONPointer) -> Bool {
        tokens.count >= prefix.tokens.count && zip(tokens, prefix.tokens).allSatisfy { UTF8String.equal($0, $1) }
    }

    // MARK: - Escaping

    /// Escapes one token: `~` becomes `~0`, `/` becomes `~1`.
    public static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var escaped = ""
        escaped.reserveCapacity(token.utf8.count + 2)
        for scalar in token.unicodeScalars {
            switch scalar {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private static func unescape(_ token: Substring, in text: String) throws(JSONPointerError) -> String {
        guard token.contains("~") else { return String(token) }
        var result = ""
        var iterator = token.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            guard scalar == "~" else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch iterator.next() {
            case "0": result += "~"
            case "1": result += "/"
            default:
                throw JSONPointerError(text: text, message: "'~' must be followed by '0' or '1' (write '~0' for '~', '~1' for '/')")
            }
        }
        return result
    }

    /// The array index a token denotes per RFC 6901 (`0`, or digits without a leading zero).
    static func arrayIndex(_ token: String) -> Int? {
        let utf8 = token.utf8
        guard let first = utf8.first, utf8.count <= 18 else { return nil }
        if first == UInt8(ascii: "0") { return utf8.count == 1 ? 0 : nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

// MARK: - Text form

extension JSONPointer: CustomStringConvertible {
    /// The RFC 6901 text form, e.g. `/spec/model/isSchema`; the root is the empty string.
    public var description: String {
        var text = ""
        for token in tokens {
            text += "/"
            text += Self.escape(token)
        }
        return text
    }
}

extension JSONPointer: ExpressibleByStringLiteral {
    /// A pointer literal such as `"/spec/model"`. An invalid literal is a programming error.
    public init(stringLiteral value: String) {
        do {
            try self.init(parsing: value)
        } catch {
            preconditionFailure("invalid JSON pointer literal \(value): \(error.message)")
        }
    }
}

extension JSONPointer: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A JSON pointer that could not be parsed.
public struct JSONPointerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text that was given.
    public let text: String
    /// What is wrong with it.
    public let message: String

    public var description: String { "invalid JSON pointer \"\(text)\": \(message)" }
}
