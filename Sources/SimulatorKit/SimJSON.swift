import Foundation

// MARK: - SimJSON

/// A simulator's own JSON value: request bodies are parsed into it and checked field by field as
/// the vendor's API would check them, answers are written from it. Independent of the clients'
/// types on purpose, so a simulator checks a client instead of agreeing with it by construction.
public enum SimJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([SimJSON])
    /// Members in insertion order, so answers list fields in the order the vendor's API does.
    case object(SimObject)

    public static func int(_ value: Int) -> SimJSON { .number(Double(value)) }
    public static func optionalInt(_ value: Int?) -> SimJSON { value.map { .number(Double($0)) } ?? .null }
    public static func optionalString(_ value: String?) -> SimJSON { value.map { .string($0) } ?? .null }

    /// Parses `bytes`, or returns `nil` if they are not JSON.
    public static func parse(_ bytes: some Collection<UInt8>) -> SimJSON? {
        try? JSONDecoder().decode(SimJSON.self, from: Data(bytes))
    }

    public var objectValue: SimObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    public var arrayValue: [SimJSON]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type's name, for validation messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension SimJSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

// MARK: - SimObject

/// A JSON object that keeps its members' order.
public struct SimObject: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public private(set) var members: [(key: String, value: SimJSON)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, SimJSON)...) {
        self.init(elements)
    }

    /// The members in order; a repeated key keeps its first place and its last value.
    public init(_ members: [(String, SimJSON)]) {
        for (key, value) in members { self[key] = value }
    }

    public var keys: [String] { self.members.map(\.key) }
    public var isEmpty: Bool { self.members.isEmpty }

    public subscript(key: String) -> SimJSON? {
        get { self.members.first { $0.key == key }?.value }
        set {
            if let index = self.members.firstIndex(where: { $0.key == key }) {
                if let newValue { self.members[index].value = newValue } else { self.members.remove(at: index) }
            } else if let newValue {
                self.members.append((key, newValue))
            }
        }
    }

    /// Equal members, whatever their order.
    public static func == (lhs: SimObject, rhs: SimObject) -> Bool {
        lhs.members.count == rhs.members.count && lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.members.count)
        for key in self.keys.sorted() { hasher.combine(key) }
    }
}

// MARK: - Decoding

extension SimJSON: Decodable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Objects come with their keys sorted (JSONDecoder does not keep the sender's order).
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: AnyKey.self) {
            var object = SimObject()
            for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                object[key.stringValue] = try container.decode(SimJSON.self, forKey: key)
            }
            self = .object(object)
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var elements: [SimJSON] = []
            while !container.isAtEnd { elements.append(try container.decode(SimJSON.self)) }
            self = .array(elements)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }
}

// MARK: - Encoding

extension SimJSON: Encodable {
    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// For files a simulator keeps: objects keep their members' order, whole numbers stay whole.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let bool):
            var container = encoder.singleValueContainer()
            try container.encode(bool)
        case .number(let number):
            var container = encoder.singleValueContainer()
            if number.rounded() == number, abs(number) < 9_007_199_254_740_992 {
                try container.encode(Int64(number))
            } else {
                try container.encode(number)
            }
        case .string(let string):
            var container = encoder.singleValueContainer()
            try container.encode(string)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let object):
            var container = encoder.container(keyedBy: MemberKey.self)
            for member in object.members { try container.encode(member.value, forKey: MemberKey(stringValue: member.key)) }
        }
    }
}

// MARK: - Writing

extension SimJSON {
    /// Compact JSON text.
    public var text: String {
        var output = ""
        self.write(into: &output)
        return output
    }

    /// Appends the compact JSON text to `output`.
    public func write(into output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let bool): output += bool ? "true" : "false"
        case .number(let number):
            if number.rounded() == number, abs(number) < 9_007_199_254_740_992 {
                output += String(Int64(number))
            } else if number.isFinite {
                output += String(number)
            } else {
                output += "null"
            }
        case .string(let string): Self.writeQuoted(string, into: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(into: &output)
            }
            output += "]"
        case .object(let object):
            output += "{"
            for (index, member) in object.members.enumerated() {
                if index > 0 { output += "," }
                Self.writeQuoted(member.key, into: &output)
                output += ":"
                member.value.write(into: &output)
            }
            output += "}"
        }
    }

    private static func writeQuoted(_ string: String, into output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
