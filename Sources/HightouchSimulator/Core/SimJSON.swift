import Foundation

// MARK: - SimJSON

/// The simulator's own JSON value: it parses request bodies into it, validates them field by field
/// as the API would, and writes answers from it. Independent of the client's types on purpose, so
/// the simulator checks the client instead of agreeing with it by construction.
enum SimJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([SimJSON])
    /// Members in insertion order, so answers list fields in the order the API documents them.
    case object(SimObject)

    /// Parses `bytes`, or returns `nil` if they are not JSON.
    static func parse(_ bytes: some Collection<UInt8>) -> SimJSON? {
        try? JSONDecoder().decode(SimJSON.self, from: Data(bytes))
    }

    var objectValue: SimObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The API's JSON type name, for validation messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    static func int(_ value: Int) -> SimJSON { .number(Double(value)) }
    static func optionalString(_ value: String?) -> SimJSON { value.map { .string($0) } ?? .null }
}

// MARK: - SimObject

/// A JSON object that keeps its members' order.
struct SimObject: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    private(set) var members: [(key: String, value: SimJSON)] = []

    init() {}

    init(dictionaryLiteral elements: (String, SimJSON)...) {
        for (key, value) in elements { self[key] = value }
    }

    var keys: [String] { self.members.map(\.key) }

    subscript(key: String) -> SimJSON? {
        get { self.members.first { $0.key == key }?.value }
        set {
            if let index = self.members.firstIndex(where: { $0.key == key }) {
                if let newValue { self.members[index].value = newValue } else { self.members.remove(at: index) }
            } else if let newValue {
                self.members.append((key, newValue))
            }
        }
    }

    static func == (lhs: SimObject, rhs: SimObject) -> Bool {
        lhs.members.count == rhs.members.count && lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }

    func hash(into hasher: inout Hasher) {
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

    init(from decoder: any Decoder) throws {
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

    /// For the state file: objects keep their members' order, whole numbers stay whole.
    func encode(to encoder: any Encoder) throws {
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
    var text: String {
        var output = ""
        self.write(into: &output)
        return output
    }

    func write(into output: inout String) {
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
