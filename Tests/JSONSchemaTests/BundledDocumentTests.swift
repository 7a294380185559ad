import Testing

@testable import JSONSchema

/// `$ref`s between documents, resolved from documents bundled by their `$id` (a compound
/// document), never fetched.
@Suite("Bundled documents")
struct BundledDocumentTests {
    static let core: JSONValue = [
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.com/spec/core.json",
        "$defs": [
            "Facet": ["type": "object", "properties": ["_producer": ["type": "string", "format": "uri"]], "required": ["_producer"]],
            "Name": ["$anchor": "name", "type": "string", "minLength": 1],
        ],
    ]
    static let facet: JSONValue = [
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.com/spec/facets/ErrorFacet.json",
        "$defs": [
            "ErrorFacet": [
                "allOf": [["$ref": "https://example.com/spec/core.json#/$defs/Facet"], ["type": "object", "properties": ["message": ["$ref": "../core.json#name"]]]]
            ]
        ],
        "properties": ["error": ["$ref": "#/$defs/ErrorFacet"]],
    ]

    @Test func referencesResolveAcrossBundledDocuments() throws {
        // The root names the facet document by $id and fragment; that one names the core by
        // absolute and by relative reference (resolved against its own $id).
        let schema = try JSONSchema(
            ["$ref": "https://example.com/spec/facets/ErrorFacet.json#/$defs/ErrorFacet"],
            options: .init(bundledDocuments: [Self.core, Self.facet], assertFormats: true))
        #expect(schema.isValid(["_producer": "https://example.com/p", "message": "boom"]))
        let errors = schema.validate(["_producer": "not a uri", "message": ""]).map(\.description)
        #expect(errors == ["/_producer: string \"not a uri\" is not a valid uri", "/message: string has 0 characters, fewer than the minimum of 1"])
        #expect(!schema.isValid(["message": "x"]))
    }

    @Test func aReferenceToAnUnbundledDocumentIsStillRefused() throws {
        do {
            _ = try JSONSchema(["$ref": "https://example.com/spec/core.json#/$defs/Facet"], options: .init(bundledDocuments: [Self.facet]))
            Issue.record("compiled a reference to a document not bundled")
        } catch {
            #expect(error.kind == .remoteReference)
            #expect(error.message.contains("bundledDocuments"))
        }
        // And a reference into a bundled document that names nothing.
        #expect(throws: SchemaCompilationError.self) {
            try JSONSchema(["$ref": "https://example.com/spec/core.json#/$defs/Missing"], options: .init(bundledDocuments: [Self.core]))
        }
    }

    @Test func aBundledDocumentNeedsAnAbsoluteID() throws {
        do {
            _ = try JSONSchema(["$ref": "x.json"], options: .init(bundledDocuments: [["$id": "x.json", "type": "string"]]))
            Issue.record("bundled a document without an absolute $id")
        } catch {
            #expect(error.message.contains("bundled document 0 has no absolute $id"))
        }
        #expect(throws: SchemaCompilationError.self) {
            try JSONSchema(true, options: .init(bundledDocuments: [Self.core]))
        }
    }

    @Test func theRootKeepsItsOwnDefinitions() throws {
        let schema = try JSONSchema(
            ["$defs": ["Local": ["type": "integer"]], "properties": ["a": ["$ref": "#/$defs/Local"], "b": ["$ref": "https://example.com/spec/core.json#name"]]],
            options: .init(bundledDocuments: [Self.core]))
        #expect(schema.isValid(["a": 1, "b": "x"]))
        #expect(!schema.isValid(["a": "1"]))
        #expect(!schema.isValid(["b": ""]))
        #expect(schema.document == ["$defs": ["Local": ["type": "integer"]], "properties": ["a": ["$ref": "#/$defs/Local"], "b": ["$ref": "https://example.com/spec/core.json#name"]]])
    }
}
