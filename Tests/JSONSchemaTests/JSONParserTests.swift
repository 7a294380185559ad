import Foundation
import Testing

@testable import JSONSchema

@Suite("Strict JSON parser")
struct JSONParserTests {
    private func parseError(_ text: String, limits: JSONParsingLimits = .default) -> JSONParseError? {
        do {
            _ = try JSONValue(parsing: text, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    private func parseError(bytes: [UInt8], limits: JSONParsingLimits = .default) -> JSONParseError? {
        do {
            _ = try JSONValue(parsing: bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Accepted input

    @Test func parsesAllValueKindsAndKeepsKeyOrder() throws {
        let value = try JSONValue(parsing: #" {"z": 1, "a": [true, false, null, -2.5e3, "x\n\u00e9\ud83d\ude00"], "m": {}} "#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value["a"] == [true, false, .null, -2500.0, "x\né😀"])
        #expect(value["m"] == .object(JSONObject()))
        #expect(value.serialized() == #"{"z":1,"a":[true,false,null,-2500.0,"x\né😀"],"m":{}}"#)
    }

    @Test func acceptsScalarsAtTopLevelAndAllInputForms() throws {
        #expect(try JSONValue(parsing: "42") == 42)
        #expect(try JSONValue(parsing: Data("\"s\"".utf8)) == "s")
        #expect(try JSONValue(parsing: Array("null".utf8)) == .null)
        #expect(try JSONValue(parsing: ArraySlice(Array(" true ".utf8))) == true)
    }

    @Test func numbersKeepIntegersExactAndCompareByValue() throws {
        let big = try JSONValue(parsing: "9223372036854775807")
        #expect(big.numberValue?.int64Value == Int64.max)
        #expect(try JSONValue(parsing: "-9223372036854775808").numberValue?.int64Value == Int64.min)
        // 1.0 is an integer and equals 1; -0 equals 0.
        let one = try JSONValue(parsing: "1.0")
        #expect(one.numberValue?.isInteger == true)
        #expect(one == 1)
        #expect(try JSONValue(parsing: "-0") == 0)
        #expect(Set([one, JSONValue(1)]).count == 1)
        // Integers beyond Int64 keep their digits on the way out.
        let huge = "123456789012345678901234567890"
        #expect(try JSONValue(parsing: huge).serialized() == huge)
        let precise = "0.10000000000000000000001"
        #expect(try JSONValue(parsing: precise).serialized() == precise)
        // Ordinary decimals print in their shortest form.
        #expect(try JSONValue(parsing: "0.1").serialized() == "0.1")
        // Exact comparison between Int64 and Double storage.
        #expect(JSONNumber(9_007_199_254_740_993) > JSONNumber(9_007_199_254_740_992.0)!)
        #expect(JSONNumber(3) < JSONNumber(3.5)!)
    }

    // MARK: - Refused input

    @Test func refusesDuplicateKeysNamingTheKeyAndPosition() throws {
        let error = try #require(parseError("{\n  \"a\": 1,\n  \"a\": 2\n}"))
        #expect(error.reason == .duplicateKey)
        #expect(error.line == 3)
        #expect(error.column == 3)
        #expect(error.message.contains("\"a\""))
    }

    @Test func duplicateKeysAreCodePointExact() throws {
        // Precomposed and decomposed é are different keys in JSON (Swift's == would merge them).
        let value = try JSONValue(parsing: "{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(value.objectValue?.count == 2)
        #expect(JSONValue.string("\u{E9}") != JSONValue.string("e\u{301}"))
    }

    @Test(arguments: [
        ([0x22, 0xC3, 0x28, 0x22], JSONParseError.Reason.invalidUTF8),  // bad continuation
        ([0x22, 0xC0, 0xAF, 0x22], .invalidUTF8),  // overlong
        ([0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8),  // UTF-8 encoded surrogate
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8),  // above U+10FFFF
        ([0x22, 0xE2, 0x82], .invalidUTF8),  // truncated
        ([0x22, 0x0A, 0x22], .controlCharacterInString),
        ([0xFF], .unexpectedCharacter),
    ])
    func refusesBadBytes(bytes: [UInt8], reason: JSONParseError.Reason) throws {
        let error = try #require(parseError(bytes: bytes))
        #expect(error.reason == reason, "\(error)")
    }

    @Test(arguments: [
        (#""\ud800""#, JSONParseError.Reason.loneSurrogate),
        (#""\udc00""#, .loneSurrogate),
        (#""\ud800\u0041""#, .loneSurrogate),
        (#""\x""#, .invalidEscape),
        (#""\u12""#, .invalidEscape),
        ("[1] x", .trailingContent),
        ("{} {}", .trailingContent),
        ("NaN", .nonFiniteNumber),
        ("-Infinity", .nonFiniteNumber),
        ("[Infinity]", .nonFiniteNumber),
        ("01", .invalidNumber),
        ("1.", .invalidNumber),
        ("1e", .invalidNumber),
        ("-", .invalidNumber),
        ("1e400", .numberOutOfRange),
        ("", .unexpectedEndOfInput),
        ("[1,", .unexpectedEndOfInput),
        ("{\"a\" 1}", .unexpectedCharacter),
        ("[1 2]", .unexpectedCharacter),
        ("{'a': 1}", .unexpectedCharacter),
        ("[1,]", .unexpectedCharacter),
        ("\"abc", .unexpectedEndOfInput),
        ("tru", .unexpectedCharacter),
    ])
    func refusesMalformedText(text: String, reason: JSONParseError.Reason) throws {
        let error = try #require(parseError(text), "\(text) should be refused")
        #expect(error.reason == reason, "\(text): \(error)")
        #expect(!error.message.isEmpty)
    }

    @Test func errorsNameLineAndColumnInScalars() throws {
        let error = try #require(parseError("{\n  \"ключ\": tru\n}"))
        #expect(error.line == 2)
        #expect(error.column == 11)
        #expect(error.description.hasPrefix("line 2, column 11"))
    }

    @Test func enforcesLimits() throws {
        let limits = JSONParsingLimits(maxBytes: 20, maxDepth: 3, maxStringBytes: 4)
        #expect(parseError(String(repeating: " ", count: 21) + "1", limits: limits)?.reason == .inputTooLarge)
        #expect(parseError("[[[1]]]", limits: limits) == nil)
        #expect(parseError("[[[[1]]]]", limits: limits)?.reason == .depthLimitExceeded)
        #expect(parseError(#""abcd""#, limits: limits) == nil)
        #expect(parseError(#""abcde""#, limits: limits)?.reason == .stringTooLong)
        #expect(parseError(#""ab\ncde""#, limits: limits)?.reason == .stringTooLong)
        #expect(parseError(#"{"abcde": 1}"#, limits: limits)?.reason == .stringTooLong)
    }

    @Test func hostileNestingNeverRecurses() throws {
        // A million open brackets: refused at the depth limit, not by a stack overflow.
        let deep = String(repeating: "[", count: 1_000_000)
        let error = try #require(parseError(deep, limits: JSONParsingLimits(maxBytes: 2_000_000, maxDepth: 10_000, maxStringBytes: 10)))
        #expect(error.reason == .depthLimitExceeded)
        #expect(JSONParsingLimits(maxBytes: 1, maxDepth: 10_000, maxStringBytes: 1).maxDepth == JSONParsingLimits.hardMaxDepth)
    }

    // MARK: - Serializer

    @Test func serializerEscapesAndSortsKeys() throws {
        let value: JSONValue = ["b": "quote\" back\\slash \u{1} tab\t nl\n", "a": [1, 2.5, .null], "é": true]
        #expect(value.serialized() == #"{"b":"quote\" back\\slash \u0001 tab\t nl\n","a":[1,2.5,null],"é":true}"#)
        #expect(value.serialized(sortedKeys: true) == #"{"a":[1,2.5,null],"b":"quote\" back\\slash \u0001 tab\t nl\n","é":true}"#)
        // Round trip.
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test func equalityIgnoresMemberOrderButOutputKeepsIt() {
        let first: JSONValue = ["a": 1, "b": 2]
        let second: JSONValue = ["b": 2, "a": 1]
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first.serialized() != second.serialized())
        #expect(first.serialized(sortedKeys: true) == second.serialized(sortedKeys: true))
    }

    @Test func codableRoundTripThroughFoundation() throws {
        struct Envelope: Codable, Equatable {
            var spec: JSONValue
        }
        let original = Envelope(spec: ["n": 1, "f": 1.5, "s": "x", "b": false, "z": .null, "a": [1, "2"]])
        let data = try JSONEncoder().encode(original)
        let decoded = try JSONDecoder().decode(Envelope.self, from: data)
        #expect(decoded == original)
    }

    // MARK: - JSON Pointer

    @Test func jsonPointerEscapingAndParsing() throws {
        let pointer = JSONPointer(tokens: ["a/b", "c~d", "", "0"])
        #expect(pointer.description == "/a~1b/c~0d//0")
        #expect(try JSONPointer(parsing: "/a~1b/c~0d//0") == pointer)
        #expect(try JSONPointer(parsing: "") == .root)
        #expect(throws: JSONPointerError.self) { try JSONPointer(parsing: "a/b") }
        #expect(throws: JSONPointerError.self) { try JSONPointer(parsing: "/a~2") }
        let document: JSONValue = ["a/b": ["c~d": ["": [10, 20]]]]
        #expect(document.value(at: pointer) == 10)
        #expect(document.value(at: "/a~1b/c~0d//01") == nil)
        #expect(JSONPointer("/spec").appending("model").appending(index: 2).description == "/spec/model/2")
    }
}
