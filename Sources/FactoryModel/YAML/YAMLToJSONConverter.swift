import JSONSchema
import Yams

/// Converts a Yams node tree to ``JSONValue`` with YAML 1.2 core-schema scalars (see
/// ``YAMLLoader`` for the rules). Recursion is bounded by `maxDepth` (libyaml itself stops at
/// 1,000 levels) and alias expansion by `valueBudget`.
struct YAMLToJSONConverter {
    let maxDepth: Int
    var valueBudget: Int
    let document: Int
    private(set) var positions: [JSONPointer: YAMLSourcePosition] = [:]
    private(set) var scalarTexts: [JSONPointer: String] = [:]
    private var path: [String] = []

    /// Positions are recorded for this many values at most (aliases can multiply values).
    private static let maxRecordedPositions = 100_000

    init(maxDepth: Int, valueBudget: Int, document: Int) {
        self.maxDepth = maxDepth
        self.valueBudget = valueBudget
        self.document = document
    }

    private enum KnownTag {
        static let string = "tag:yaml.org,2002:str"
        static let integer = "tag:yaml.org,2002:int"
        static let float = "tag:yaml.org,2002:float"
        static let boolean = "tag:yaml.org,2002:bool"
        static let null = "tag:yaml.org,2002:null"
        static let map = "tag:yaml.org,2002:map"
        static let sequence = "tag:yaml.org,2002:seq"
        static let nonSpecific = "!"
    }

    mutating func convert(_ node: Node) throws(ManifestError) -> JSONValue {
        try convert(node, depth: 1)
    }

    private mutating func convert(_ node: Node, depth: Int) throws(ManifestError) -> JSONValue {
        valueBudget -= 1
        guard valueBudget >= 0 else {
            throw error(.tooLarge, "the YAML expands to too many values (anchors and aliases multiply them); simplify the document", node.mark)
        }
        let pointer = JSONPointer(tokens: path)
        if let mark = node.mark, positions.count < Self.maxRecordedPositions {
            positions[pointer] = YAMLSourcePosition(line: mark.line, column: mark.column)
        }
        switch node {
        case .scalar(let scalar):
            let value = try resolve(scalar)
            switch value {
            case .string, .array, .object: break
            default: scalarTexts[pointer] = scalar.string
            }
            return value

        case .mapping(let mapping):
            guard depth <= maxDepth else { throw tooDeep(node.mark) }
            let tag = mapping.tag.rawValue
            guard tag.isEmpty || tag == KnownTag.map || tag == KnownTag.nonSpecific else {
                throw error(.unsupportedYAML, "the tag \(Self.shortTag(tag)) has no JSON equivalent; remove it", mapping.mark)
            }
            var object = JSONObject()
            for (keyNode, valueNode) in mapping {
                let key = try self.key(keyNode)
                path.append(key)
                let value = try convert(valueNode, depth: depth + 1)
                path.removeLast()
                guard object.insertNew(key: key, value: value) else {
                    throw error(.syntax, "duplicate key \"\(key)\" in a mapping", keyNode.mark)
                }
            }
            return .object(object)

        case .sequence(let sequence):
            guard depth <= maxDepth else { throw tooDeep(node.mark) }
            let tag = sequence.tag.rawValue
            guard tag.isEmpty || tag == KnownTag.sequence || tag == KnownTag.nonSpecific else {
                throw error(.unsupportedYAML, "the tag \(Self.shortTag(tag)) has no JSON equivalent; remove it", sequence.mark)
            }
            var array: [JSONValue] = []
            array.reserveCapacity(sequence.count)
            for (index, element) in sequence.enumerated() {
                path.append(String(index))
                array.append(try convert(element, depth: depth + 1))
                path.removeLast()
            }
            return .array(array)

        case .alias:
            throw error(.unsupportedYAML, "unexpected unresolved alias", node.mark)
        }
    }

    // MARK: - Keys

    private func key(_ node: Node) throws(ManifestError) -> String {
        guard case .scalar(let scalar) = node else {
            throw error(.unsupportedYAML, "a mapping or sequence cannot be a key in JSON; use a string key", node.mark)
        }
        if scalar.style == .plain {
            if scalar.string.isEmpty {
                throw error(.unsupportedYAML, "empty key; give the key a name", scalar.mark)
            }
            // (Yams resolves key tags while checking duplicates, so the tag is not looked at.)
            if scalar.string == "<<" {
                throw error(.unsupportedYAML, "merge keys (<<) are a YAML 1.1 feature and are not supported; write the keys out (quote '<<' if you mean the text)", scalar.mark)
            }
        }
        return scalar.string
    }

    // MARK: - Scalars (YAML 1.2 core schema)

    private func resolve(_ scalar: Node.Scalar) throws(ManifestError) -> JSONValue {
        let text = scalar.string
        switch scalar.tag.rawValue {
        case "":
            // libyaml marks quoted and block scalars with !!str; plain ones are resolved here.
            return scalar.style == .plain ? try resolvePlain(text, scalar.mark) : .string(text)
        case KnownTag.nonSpecific, KnownTag.string:
            return .string(text)
        case KnownTag.null:
            guard Self.isNull(text) else { throw error(.invalidValue, "\"\(text)\" is not a null (!!null)", scalar.mark) }
            return .null
        case KnownTag.boolean:
            guard let bool = Self.bool(text) else { throw error(.invalidValue, "\"\(text)\" is not a boolean (!!bool)", scalar.mark) }
            return .bool(bool)
        case KnownTag.integer:
            guard let number = try integer(text, scalar.mark) else { throw error(.invalidValue, "\"\(text)\" is not an integer (!!int)", scalar.mark) }
            return .number(number)
        case KnownTag.float:
            if let number = try integer(text, scalar.mark) { return .number(number) }
            guard let number = try float(text, scalar.mark) else { throw error(.invalidValue, "\"\(text)\" is not a number (!!float)", scalar.mark) }
            return .number(number)
        case let tag:
            throw error(.unsupportedYAML, "the tag \(Self.shortTag(tag)) has no JSON equivalent; quote the value or remove the tag", scalar.mark)
        }
    }

    private func resolvePlain(_ text: String, _ mark: Mark?) throws(ManifestError) -> JSONValue {
        if Self.isNull(text) { return .null }
        if let bool = Self.bool(text) { return .bool(bool) }
        guard let first = text.utf8.first, Self.mayStartNumber(first) else { return .string(text) }
        if let number = try integer(text, mark) { return .number(number) }
        if let number = try float(text, mark) { return .number(number) }
        return .string(text)
    }

    private static func isNull(_ text: String) -> Bool {
        text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    private static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    private static func mayStartNumber(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`; `nil` if `text` is none of these.
    private func integer(_ text: String, _ mark: Mark?) throws(ManifestError) -> JSONNumber? {
        let bytes = Array(text.utf8)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "o") || bytes[1] == UInt8(ascii: "x") {
            let radix = bytes[1] == UInt8(ascii: "o") ? 8 : 16
            let digits = String(decoding: bytes[2...], as: UTF8.self)
            guard digits.allSatisfy({ $0.isHexDigit && (radix == 16 || ("0"..."7").contains($0)) }) else { return nil }
            guard let value = Int64(digits, radix: radix) else {
                throw error(.invalidValue, "the integer \(text) is too large (the limit is \(Int64.max))", mark)
            }
            return JSONNumber(value)
        }
        var digits = bytes[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        let canonical = (negative && !significant.isEmpty ? "-" : "") + (significant.isEmpty ? "0" : String(decoding: significant, as: UTF8.self))
        // Integers beyond Int64 keep their exact digits (see JSONNumber).
        return JSONNumber(jsonLiteral: canonical)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, and `.inf` / `.nan`, which are refused.
    private func float(_ text: String, _ mark: Mark?) throws(ManifestError) -> JSONNumber? {
        var unsigned = Substring(text)
        if unsigned.hasPrefix("+") || unsigned.hasPrefix("-") { unsigned = unsigned.dropFirst() }
        if [".inf", ".Inf", ".INF"].contains(unsigned) || [".nan", ".NaN", ".NAN"].contains(text) {
            throw error(.unsupportedYAML, "\(text) cannot be represented in JSON; quote it if you mean the string", mark)
        }
        var bytes = Array(text.utf8)[...]
        var sign = ""
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            if first == UInt8(ascii: "-") { sign = "-" }
            bytes = bytes.dropFirst()
        }
        var mantissa = bytes
        var exponent: ArraySlice<UInt8> = []
        if let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = bytes[..<e]
            exponent = bytes[(e + 1)...]
            var exponentDigits = exponent
            if let first = exponentDigits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { exponentDigits = exponentDigits.dropFirst() }
            guard !exponentDigits.isEmpty, exponentDigits.allSatisfy(Self.isDigit) else { return nil }
        }
        let parts = mantissa.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count <= 2, let integerPart = parts.first, integerPart.allSatisfy(Self.isDigit) else { return nil }
        let fractionPart = parts.count == 2 ? parts[1] : []
        guard fractionPart.allSatisfy(Self.isDigit), !(integerPart.isEmpty && fractionPart.isEmpty) else { return nil }
        guard !integerPart.isEmpty || parts.count == 2 else { return nil }
        // Rewrite in JSON syntax (`.5` → `0.5`, `5.` → `5.0`, no `+`) so the exact digits are kept.
        let trimmedInteger = integerPart.drop { $0 == UInt8(ascii: "0") }
        var json = sign + (trimmedInteger.isEmpty ? "0" : String(decoding: trimmedInteger, as: UTF8.self))
        if parts.count == 2 { json += "." + (fractionPart.isEmpty ? "0" : String(decoding: fractionPart, as: UTF8.self)) }
        if !exponent.isEmpty { json += "e" + String(decoding: exponent, as: UTF8.self) }
        guard let number = JSONNumber(jsonLiteral: json) else {
            throw error(.invalidValue, "the number \(text) is outside the range of a 64-bit floating-point value", mark)
        }
        return number
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Errors

    private func error(_ kind: ManifestError.Kind, _ message: String, _ mark: Mark?) -> ManifestError {
        ManifestError(kind: kind, message: message, field: JSONPointer(tokens: path), line: mark?.line, column: mark?.column, document: document)
    }

    private func tooDeep(_ mark: Mark?) -> ManifestError {
        error(.invalidValue, "mappings and sequences nest deeper than the limit of \(maxDepth) levels", mark)
    }

    private static func shortTag(_ tag: String) -> String {
        tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag
    }
}
