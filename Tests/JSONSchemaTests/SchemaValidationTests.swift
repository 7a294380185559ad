import Testing

@testable import JSONSchema

@Suite("Schema compilation and validation errors")
struct SchemaValidationTests {
    static let modelSchema = #"""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": {
            "model": {
              "type": "object",
              "properties": {
                "name": {"type": "string", "minLength": 2},
                "isSchema": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}
              },
              "required": ["name", "isSchema"],
              "additionalProperties": false
            }
          },
          "required": ["model"]
        }
        """#

    // MARK: - Errors

    @Test func errorsCarryPointerKeywordSchemaLocationAndMessage() throws {
        let schema = try JSONSchema(jsonText: Self.modelSchema)
        let errors = schema.validate(["model": ["name": "x", "isSchema": "no", "colour": 1, "tags": ["a", 3, "a"]]])
        let lines = errors.map(\.description)
        #expect(lines == [
            "/model/name: string has 1 character, fewer than the minimum of 2",
            "/model/isSchema: expected boolean, got string",
            "/model/colour: property \"colour\" is not allowed; allowed properties are name, isSchema, tags",
            "/model/tags/1: expected string, got integer",
            "/model/tags: items at positions 0 and 2 are equal; items must be unique",
        ])
        let typeError = try #require(errors.first { $0.keyword == "type" })
        #expect(typeError.instanceLocation == "/model/isSchema")
        #expect(typeError.schemaLocation == "/properties/model/properties/isSchema/type")
        #expect(typeError.message == "expected boolean, got string")
        #expect(schema.validate(["model": ["name": "ok", "isSchema": true]]).isEmpty)
    }

    @Test func listsEveryErrorUpToTheCap() throws {
        let schema = try JSONSchema(jsonText: ##"{"type": "array", "items": {"type": "integer"}}"##)
        let instance = JSONValue.array((0..<500).map { .string("item \($0)") })
        #expect(schema.validate(instance).count == 100)  // default cap
        #expect(schema.validate(instance, maxErrors: 7).count == 7)
        #expect(schema.validate(instance, maxErrors: 1000).count == 500)
        let capped = try JSONSchema(jsonText: ##"{"type": "array", "items": {"type": "integer"}}"##, options: .init(maxErrors: 3))
        #expect(capped.validate(instance).map(\.instanceLocation.description) == ["/0", "/1", "/2"])
    }

    @Test func missingRequiredAndRootErrors() throws {
        let schema = try JSONSchema(jsonText: Self.modelSchema)
        #expect(schema.validate(["model": [:]]).map(\.description) == [
            "/model: missing required property \"name\"", "/model: missing required property \"isSchema\"",
        ])
        #expect(schema.validate("text").map(\.description) == ["/: expected object, got string"])
        #expect(schema.validate(["model": .null]).map(\.description) == ["/model: expected object, got null"])
    }

    @Test func applicatorMessages() throws {
        let schema = try JSONSchema(jsonText: #"""
            {"properties": {
              "a": {"anyOf": [{"type": "string"}, {"type": "null"}]},
              "o": {"oneOf": [{"minimum": 0}, {"maximum": 10}]},
              "n": {"not": {"const": 5}},
              "c": {"contains": {"const": 1}, "maxContains": 1},
              "e": {"enum": ["x", "y"]},
              "m": {"multipleOf": 0.0001}
            }}
            """#)
        let errors = schema.validate(["a": 1, "o": 5, "n": 5, "c": [1, 1], "e": "z", "m": 0.00751])
        #expect(errors.map(\.keyword) == ["anyOf", "oneOf", "not", "maxContains", "enum", "multipleOf"])
        #expect(errors[1].message.contains("matches 2 schemas"))
        #expect(schema.validate(["m": 0.0075, "c": [1, 2]]).isEmpty)
    }

    // MARK: - Numbers, strings, regexes

    @Test func exactMultipleOfAndCodePointLengths() throws {
        let schema = try JSONSchema(jsonText: ##"{"multipleOf": 0.01}"##)
        #expect(schema.isValid(19.99))
        #expect(schema.isValid(0.3))
        #expect(!schema.isValid(0.305))
        let length = try JSONSchema(jsonText: ##"{"maxLength": 2, "minLength": 2}"##)
        #expect(length.isValid("😀😀"))  // two code points, eight UTF-8 bytes
        #expect(!length.isValid("😀"))
        #expect(length.isValid("e\u{301}"))  // one grapheme, two code points
    }

    @Test func regexDialectFollowsECMA262() throws {
        let anchored = try JSONSchema(jsonText: ##"{"pattern": "^abc$"}"##)
        #expect(anchored.isValid("abc"))
        #expect(!anchored.isValid("abc\n"))  // ICU's $ would match before a final newline
        let digits = try JSONSchema(jsonText: ##"{"pattern": "^\\d+$"}"##)
        #expect(digits.isValid("123"))
        #expect(!digits.isValid("١٢٣"))  // Arabic-Indic digits are not \d in ECMA-262
        let letters = try JSONSchema(jsonText: ##"{"pattern": "^\\p{Letter}+$"}"##)
        #expect(letters.isValid("héllo"))
        let unanchored = try JSONSchema(jsonText: ##"{"pattern": "a+"}"##)
        #expect(unanchored.isValid("xaay"))
        let classes = try JSONSchema(jsonText: ##"{"pattern": "^[\\w.-]+$"}"##)
        #expect(classes.isValid("a_b.c-d"))
        #expect(!classes.isValid("é"))
    }

    // MARK: - Refused schemas

    @Test(arguments: [
        (##"{"properties": {"a": {"$dynamicRef": "#x"}}}"##, "$dynamicRef", "/properties/a/$dynamicRef"),
        (##"{"unevaluatedProperties": false}"##, "unevaluatedProperties", "/unevaluatedProperties"),
        (##"{"items": {"unevaluatedItems": false}}"##, "unevaluatedItems", "/items/unevaluatedItems"),
        (##"{"$vocabulary": {}}"##, "$vocabulary", "/$vocabulary"),
        (##"{"dependencies": {"a": ["b"]}}"##, "dependencies", "/dependencies"),
        (##"{"additionalItems": false}"##, "additionalItems", "/additionalItems"),
        (##"{"$defs": {"unused": {"$recursiveRef": "#"}}}"##, "$recursiveRef", "/$defs/unused/$recursiveRef"),
    ])
    func refusesUnsupportedKeywordsNamingThem(schema: String, keyword: String, location: String) throws {
        let error = try #require(throws: SchemaCompilationError.self) { try JSONSchema(jsonText: schema) }
        #expect(error.kind == .unsupportedKeyword)
        #expect(error.keyword == keyword)
        #expect(error.schemaLocation.description == location)
        #expect(error.description.contains(keyword))
    }

    @Test func refusesRemoteReferencesDialectsLoopsAndBadValues() throws {
        let remote = try #require(throws: SchemaCompilationError.self) {
            try JSONSchema(jsonText: ##"{"$ref": "https://example.com/other.json"}"##)
        }
        #expect(remote.kind == .remoteReference)
        let dialect = try #require(throws: SchemaCompilationError.self) {
            try JSONSchema(jsonText: ##"{"$schema": "http://json-schema.org/draft-07/schema#"}"##)
        }
        #expect(dialect.kind == .unsupportedDialect)
        let loop = try #require(throws: SchemaCompilationError.self) {
            try JSONSchema(jsonText: ##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}"##)
        }
        #expect(loop.kind == .referenceLoop)
        let missing = try #require(throws: SchemaCompilationError.self) { try JSONSchema(jsonText: ##"{"$ref": "#/$defs/nothing"}"##) }
        #expect(missing.kind == .unresolvableReference)
        let negative = try #require(throws: SchemaCompilationError.self) { try JSONSchema(jsonText: ##"{"minLength": -1}"##) }
        #expect(negative.kind == .invalidKeywordValue)
        #expect(negative.schemaLocation == "/minLength")
        let regex = try #require(throws: SchemaCompilationError.self) { try JSONSchema(jsonText: ##"{"pattern": "("}"##) }
        #expect(regex.kind == .invalidPattern)
        let notJSON = try #require(throws: SchemaCompilationError.self) { try JSONSchema(jsonText: "{") }
        #expect(notJSON.kind == .invalidJSON)
    }

    @Test func unknownKeywordsAreAnnotationsUnlessRefused() throws {
        #expect(try JSONSchema(jsonText: ##"{"x-vendor": 1, "type": "string"}"##).isValid("a"))
        let error = try #require(throws: SchemaCompilationError.self) {
            try JSONSchema(jsonText: ##"{"requried": ["a"]}"##, options: .init(unknownKeywords: .refuse))
        }
        #expect(error.keyword == "requried")
    }

    @Test func recursiveSchemasAndDeepValuesStaySafe() throws {
        let tree = try JSONSchema(jsonText: ##"{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}"##)
        var value: JSONValue = ["children": []]
        for _ in 0..<100 {
            value = ["children": [value]]
        }
        #expect(tree.isValid(value))
        // A value nested deeper than the evaluation limit (built in code, not parsed) is reported,
        // not a stack overflow.
        for _ in 0..<400 {
            value = ["children": [value]]
        }
        let errors = tree.validate(value)
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("validation stopped") == true)
    }
}
