/// A strict RFC 8259 JSON parser.
///
/// Refuses duplicate object keys, invalid UTF-8, lone surrogates in `\u` escapes, control
/// characters in strings, leading zeros, NaN/Infinity, numbers outside the `Double` range and
/// anything after the top-level value. It is iterative (an explicit stack, no recursion), so deep
/// input cannot exhaust the call stack, and it enforces ``JSONParsingLimits``.
struct JSONParser {
    let limits: JSONParsingLimits
    private var input = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private var position = 0
    /// Reused buffer for strings with escapes.
    private var scratch: [UInt8] = []

    init(limits: JSONParsingLimits) {
        self.limits = limits
    }

    private enum Container {
        case array
        case object
    }

    // MARK: - Entry points

    mutating func parseDocument(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        input = bytes
        position = 0
        guard bytes.count <= limits.maxBytes else {
            throw JSONParseError(
                reason: .inputTooLarge, byteOffset: limits.maxBytes, line: 1, column: 1,
                message: "input is \(bytes.count) bytes, more than the limit of \(limits.maxBytes) bytes")
        }
        return try parseValueTree()
    }

    mutating func parseStandaloneNumber(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONNumber {
        input = bytes
        position = 0
        guard !bytes.isEmpty else { throw error(.invalidNumber, "expected a number") }
        let number = try parseNumber()
        guard position == input.count else { throw error(.trailingContent, "unexpected text after the number") }
        return number
    }

    // MARK: - Structure

    private mutating func parseValueTree() throws(JSONParseError) -> JSONValue {
        var containers: [Container] = []
        var arrays: [[JSONValue]] = []
        var objects: [JSONObject] = []
        var pendingKeys: [(key: String, offset: Int)] = []

        skipWhitespace()
        parseValue: while true {
            guard position < input.count else {
                throw error(.unexpectedEndOfInput, containers.isEmpty ? "expected a JSON value, found nothing" : "unexpected end of input: expected a value")
            }
            var value: JSONValue
            switch input[position] {
            case UInt8(ascii: "{"):
                try checkDepth(containers.count + 1)
                position += 1
                skipWhitespace()
                if position < input.count, input[position] == UInt8(ascii: "}") {
                    position += 1
                    value = .object(JSONObject())
                } else {
                    containers.append(.object)
                    objects.append(JSONObject())
                    pendingKeys.append(try parseMemberKey())
                    continue parseValue
                }
            case UInt8(ascii: "["):
                try checkDepth(containers.count + 1)
                position += 1
                skipWhitespace()
                if position < input.count, input[position] == UInt8(ascii: "]") {
                    position += 1
                    value = .array([])
                } else {
                    containers.append(.array)
                    arrays.append([])
                    continue parseValue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try parseNumber())
            default:
                value = try parseLiteral()
            }

            // Attach the finished value to its container; closing a container finishes another value.
            while true {
                guard let container = containers.last else {
                    skipWhitespace()
                    guard position == input.count else {
                        throw error(.trailingContent, "unexpected \(describeByte(at: position)) after the end of the JSON value")
                    }
                    return value
                }
                switch container {
                case .array:
                    arrays[arrays.count - 1].append(value)
                    skipWhitespace()
                    guard position < input.count else {
                        throw error(.unexpectedEndOfInput, "unexpected end of input: expected ',' or ']' in an array")
                    }
                    if input[position] == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                        continue parseValue
                    }
                    guard input[position] == UInt8(ascii: "]") else {
                        throw error(.unexpectedCharacter, "expected ',' or ']' after an array element, found \(describeByte(at: position))")
                    }
                    position += 1
                    containers.removeLast()
                    value = .array(arrays.removeLast())
                case .object:
                    let (key, keyOffset) = pendingKeys.removeLast()
                    guard objects[objects.count - 1].insertNew(key: key, value: value) else {
                        throw error(.duplicateKey, "duplicate key \"\(Self.abbreviate(key))\" in object", at: keyOffset)
                    }
                    skipWhitespace()
                    guard position < input.count else {
                        throw error(.unexpectedEndOfInput, "unexpected end of input: expected ',' or '}' in an object")
                    }
                    if input[position] == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                        pendingKeys.append(try parseMemberKey())
                        continue parseValue
                    }
                    guard input[position] == UInt8(ascii: "}") else {
                        throw error(.unexpectedCharacter, "expected ',' or '}' after an object member, found \(describeByte(at: position))")
                    }
                    position += 1
                    containers.removeLast()
                    value = .object(objects.removeLast())
                }
            }
        }
    }

    /// Reads `"key"` and the `:` after it; leaves `position` at the member's value.
    private mutating func parseMemberKey() throws(JSONParseError) -> (key: String, offset: Int) {
        guard position < input.count else {
            throw error(.unexpectedEndOfInput, "unexpected end of input: expected an object key")
        }
        guard input[position] == UInt8(ascii: "\"") else {
            throw error(.unexpectedCharacter, "expected a double-quoted object key, found \(describeByte(at: position))")
        }
        let offset = position
        let key = try parseString()
        skipWhitespace()
        guard position < input.count else {
            throw error(.unexpectedEndOfInput, "unexpected end of input: expected ':' after an object key")
        }
        guard input[position] == UInt8(ascii: ":") else {
            throw error(.unexpectedCharacter, "expected ':' after an object key, found \(describeByte(at: position))")
        }
        position += 1
        skipWhitespace()
        return (key, offset)
    }

    private func checkDepth(_ depth: Int) throws(JSONParseError) {
        guard depth <= limits.maxDepth else {
            throw error(.depthLimitExceeded, "arrays and objects nest deeper than the limit of \(limits.maxDepth) levels")
        }
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                position += 1
            default:
                return
            }
        }
    }

    // MARK: - Literals

    private mutating func parseLiteral() throws(JSONParseError) -> JSONValue {
        if matches("true") {
            position += 4
            return .bool(true)
        }
        if matches("false") {
            position += 5
            return .bool(false)
        }
        if matches("null") {
            position += 4
            return .null
        }
        if matches("NaN") || matches("Infinity") {
            throw error(.nonFiniteNumber, "NaN and Infinity are not JSON numbers")
        }
        throw error(.unexpectedCharacter, "expected a JSON value, found \(describeByte(at: position))")
    }

    private func matches(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard input.count - position >= count else { return false }
        let bytes = literal.utf8Start
        for offset in 0..<count where input[position + offset] != bytes[offset] {
            return false
        }
        return true
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = position
        var index = position
        var isNegative = false
        if input[index] == UInt8(ascii: "-") {
            isNegative = true
            index += 1
        }
        guard index < input.count, Self.isDigit(input[index]) else {
            position = index
            if index < input.count, input[index] == UInt8(ascii: "I") {
                throw error(.nonFiniteNumber, "NaN and Infinity are not JSON numbers")
            }
            throw error(.invalidNumber, "expected a digit after '-'")
        }
        var magnitude: UInt64 = 0
        var overflowed = false
        var mantissaDigits = 0
        if input[index] == UInt8(ascii: "0") {
            index += 1
            mantissaDigits = 1
            if index < input.count, Self.isDigit(input[index]) {
                position = start
                throw error(.invalidNumber, "numbers must not have leading zeros")
            }
        } else {
            while index < input.count, Self.isDigit(input[index]) {
                let digit = UInt64(input[index] - UInt8(ascii: "0"))
                let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                overflowed = overflowed || overflow1 || overflow2
                magnitude = sum
                mantissaDigits += 1
                index += 1
            }
        }
        var isIntegerSyntax = true
        if index < input.count, input[index] == UInt8(ascii: ".") {
            isIntegerSyntax = false
            index += 1
            guard index < input.count, Self.isDigit(input[index]) else {
                position = index
                throw error(.invalidNumber, "expected a digit after the decimal point")
            }
            while index < input.count, Self.isDigit(input[index]) {
                mantissaDigits += 1
                index += 1
            }
        }
        if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            isIntegerSyntax = false
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < input.count, Self.isDigit(input[index]) else {
                position = index
                throw error(.invalidNumber, "expected a digit in the exponent")
            }
            while index < input.count, Self.isDigit(input[index]) {
                index += 1
            }
        }
        position = index

        if isIntegerSyntax, !overflowed {
            if isNegative {
                if magnitude <= UInt64(Int64.max) { return JSONNumber(-Int64(magnitude)) }
                if magnitude == UInt64(Int64.max) + 1 { return JSONNumber(Int64.min) }
            } else if magnitude <= UInt64(Int64.max) {
                return JSONNumber(Int64(magnitude))
            }
        }
        let textBytes = UnsafeBufferPointer(rebasing: input[start..<index])
        let text = String(decoding: textBytes, as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            position = start
            throw error(.numberOutOfRange, "number \(Self.abbreviate(text)) is outside the range of a 64-bit floating-point value")
        }
        return JSONNumber(storage: .double(double), preservedLiteral: Self.literalToPreserve(text, textBytes, double, mantissaDigits))
    }

    /// The literal, when `double` does not hold it exactly (see ``JSONNumber``). Doubles hold any
    /// decimal of up to 15 significant digits in the normal range, so only longer ones are checked.
    private static func literalToPreserve(
        _ text: String, _ bytes: UnsafeBufferPointer<UInt8>, _ double: Double, _ mantissaDigits: Int
    ) -> String? {
        let mayBeInexact = mantissaDigits > 15 || double == 0 || double.isSubnormal
        guard mayBeInexact, let written = DecimalDigits(text: bytes) else { return nil }
        let held = DecimalDigits(text: Array(JSONNumber.shortestJSONText(double).utf8))
        return written == held ? nil : text
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Strings

    /// Parses a string starting at the opening quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        let start = position + 1
        var index = start
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                guard index - start <= limits.maxStringBytes else {
                    throw error(.stringTooLong, "string is longer than the limit of \(limits.maxStringBytes) bytes", at: position)
                }
                position = index + 1
                return String(decoding: UnsafeBufferPointer(rebasing: input[start..<index]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(contentStart: start, firstEscape: index)
            }
            if byte < 0x20 {
                throw error(.controlCharacterInString, "control character \(Self.hex(byte)) must be escaped in a string", at: index)
            }
            index = byte < 0x80 ? index + 1 : try validateUTF8Scalar(at: index)
        }
        throw error(.unexpectedEndOfInput, "unterminated string", at: position)
    }

    private mutating func parseEscapedString(contentStart: Int, firstEscape: Int) throws(JSONParseError) -> String {
        let openingQuote = contentStart - 1
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[contentStart..<firstEscape]))
        var index = firstEscape
        while index < input.count {
            if scratch.count > limits.maxStringBytes {
                throw error(.stringTooLong, "string is longer than the limit of \(limits.maxStringBytes) bytes", at: openingQuote)
            }
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard scratch.count <= limits.maxStringBytes else {
                    throw error(.stringTooLong, "string is longer than the limit of \(limits.maxStringBytes) bytes", at: openingQuote)
                }
                position = index + 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index = try appendEscape(at: index)
            case 0..<0x20:
                throw error(.controlCharacterInString, "control character \(Self.hex(byte)) must be escaped in a string", at: index)
            case 0..<0x80:
                scratch.append(byte)
                index += 1
            default:
                let next = try validateUTF8Scalar(at: index)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[index..<next]))
                index = next
            }
        }
        throw error(.unexpectedEndOfInput, "unterminated string", at: openingQuote)
    }

    /// Decodes the escape at `index` (the backslash) into `scratch`; returns the index after it.
    private mutating func appendEscape(at index: Int) throws(JSONParseError) -> Int {
        guard index + 1 < input.count else {
            throw error(.unexpectedEndOfInput, "unterminated escape sequence", at: index)
        }
        let simple: UInt8?
        switch input[index + 1] {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default:
            throw error(.invalidEscape, "invalid escape sequence \\\(describeByte(at: index + 1)); valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: index)
        }
        if let simple {
            scratch.append(simple)
            return index + 2
        }
        let first = try hexQuad(at: index + 2, escapeStart: index)
        var scalarValue = UInt32(first)
        var next = index + 6
        if (0xD800...0xDBFF).contains(first) {
            guard next + 1 < input.count, input[next] == UInt8(ascii: "\\"), input[next + 1] == UInt8(ascii: "u") else {
                throw error(.loneSurrogate, "high surrogate \\u\(Self.hex4(first)) is not followed by a low surrogate escape", at: index)
            }
            let second = try hexQuad(at: next + 2, escapeStart: next)
            guard (0xDC00...0xDFFF).contains(second) else {
                throw error(.loneSurrogate, "high surrogate \\u\(Self.hex4(first)) is followed by \\u\(Self.hex4(second)), not a low surrogate", at: index)
            }
            scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            next += 6
        } else if (0xDC00...0xDFFF).contains(first) {
            throw error(.loneSurrogate, "low surrogate \\u\(Self.hex4(first)) without a preceding high surrogate", at: index)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else {
            throw error(.loneSurrogate, "\\u escape does not denote a Unicode scalar", at: index)
        }
        if let encoded = UTF8.encode(scalar) { scratch.append(contentsOf: encoded) }
        return next
    }

    private func hexQuad(at index: Int, escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard index + 4 <= input.count else {
            throw error(.invalidEscape, "\\u must be followed by four hexadecimal digits", at: escapeStart)
        }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = input[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw error(.invalidEscape, "\\u must be followed by four hexadecimal digits", at: escapeStart)
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// Validates the multi-byte UTF-8 sequence at `index` (Unicode Table 3-7: no overlongs, no
    /// surrogates, nothing above U+10FFFF); returns the index after it.
    private func validateUTF8Scalar(at index: Int) throws(JSONParseError) -> Int {
        let lead = input[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default:
            throw error(.invalidUTF8, "invalid UTF-8 byte \(Self.hex(lead))", at: index)
        }
        guard index + length <= input.count else {
            throw error(.invalidUTF8, "truncated UTF-8 sequence", at: index)
        }
        guard secondRange.contains(input[index + 1]) else {
            throw error(.invalidUTF8, "invalid UTF-8 sequence starting with \(Self.hex(lead))", at: index)
        }
        for offset in 2..<max(2, length) where !(0x80...0xBF).contains(input[index + offset]) {
            throw error(.invalidUTF8, "invalid UTF-8 sequence starting with \(Self.hex(lead))", at: index)
        }
        return index + length
    }

    // MARK: - Errors

    private func error(_ reason: JSONParseError.Reason, _ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError.at(offset ?? position, in: input, reason, message)
    }

    /// A short description of the byte at `index` for messages: `'x'`, `end of input`, or hex.
    private func describeByte(at index: Int) -> String {
        guard index < input.count else { return "end of input" }
        let byte = input[index]
        if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80, let end = try? validateUTF8Scalar(at: index) {
            return "'\(String(decoding: UnsafeBufferPointer(rebasing: input[index..<end]), as: UTF8.self))'"
        }
        return "byte \(Self.hex(byte))"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
    }

    private static func hex4(_ value: UInt16) -> String {
        let digits = Array("0123456789ABCDEF")
        return (0..<4).reversed().map { String(digits[Int((value >> (UInt16($0) * 4)) & 0xF)]) }.joined()
    }

    static func abbreviate(_ text: String, limit: Int = 60) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}

// MARK: - Public parsing API

extension JSONValue {
    /// Parses JSON text strictly (see ``JSONParseError/Reason`` for what is refused).
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text, e.g. `Data` or `[UInt8]`.
    ///   - limits: size, depth and string-length bounds.
    /// - Throws: ``JSONParseError`` naming the byte offset, line and column of the problem.
    public init(parsing bytes: some Collection<UInt8>, limits: JSONParsingLimits = .default) throws(JSONParseError) {
        if bytes.count > limits.maxBytes {
            throw JSONParseError(
                reason: .inputTooLarge, byteOffset: limits.maxBytes, line: 1, column: 1,
                message: "input is \(bytes.count) bytes, more than the limit of \(limits.maxBytes) bytes")
        }
        var parser = JSONParser(limits: limits)
        let parse = { (buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> in
            do throws(JSONParseError) {
                return .success(try parser.parseDocument(buffer))
            } catch {
                return .failure(error)
            }
        }
        let result = bytes.withContiguousStorageIfAvailable(parse) ?? Array(bytes).withUnsafeBufferPointer(parse)
        self = try result.get()
    }

    /// Parses JSON text strictly; see ``init(parsing:limits:)-(Collection<UInt8>,_)``.
    public init(parsing text: String, limits: JSONParsingLimits = .default) throws(JSONParseError) {
        var text = text
        let result = text.withUTF8 { buffer -> Result<JSONValue, JSONParseError> in
            do throws(JSONParseError) {
                return .success(try JSONValue(parsing: buffer, limits: limits))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }
}
