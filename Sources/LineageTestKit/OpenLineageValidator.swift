import Foundation
import JSONSchema
import Lineage
import Synchronization

/// Validates OpenLineage events against the official schemas, offline: the 2-0-2 spec and the
/// latest version of each standard facet this project writes, copied unmodified into
/// `Resources/openlineage` (Apache-2.0, see its LICENSE and NOTICE), bundled by their `$id` so
/// the absolute `$ref`s between them resolve locally, with `date-time`, `uri` and `uuid`
/// asserted. As the OpenLineage project checks its own facets: the event against its
/// `schemaURL`, then each standard facet against its own `_schemaURL`; this project's
/// `factory_trimmed` facet against the schema docs/lineage.md gives for it.
///
/// Every test that emits events calls ``errors(_:)`` (or ``check(_:)``) on each of them.
public final class OpenLineageValidator: Sendable {
    /// Loaded once per process (compiling the schemas takes a few milliseconds each).
    public static let shared: OpenLineageValidator = {
        do {
            return try OpenLineageValidator()
        } catch {
            fatalError("the OpenLineage schemas in LineageTestKit's resources cannot be loaded: \(error)")
        }
    }()

    /// The schema of the `factory_trimmed` run facet (docs/lineage.md).
    public static let trimmedFacetSchema: JSONValue = [
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [["$ref": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"]],
        "type": "object",
        "properties": [
            "removed": [
                "type": "array", "minItems": 1,
                "items": ["enum": ["columnLineage", "schema", "datasetFacets", "errorMessage", "datasets"]],
            ],
            "originalBytes": ["type": "integer", "minimum": 0],
            "limitBytes": ["type": "integer", "minimum": 0],
        ],
        "required": ["removed", "originalBytes", "limitBytes"],
    ]

    private let documents: [JSONValue]
    private let compiled = Mutex<[String: JSONSchema]>([:])

    public init() throws {
        let root = try Self.resourceDirectory()
        var documents: [JSONValue] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "json" else { continue }
            documents.append(try JSONValue(parsing: Data(contentsOf: url)))
        }
        guard documents.count >= 8 else { throw ValidatorError(message: "expected the spec and 7 facet schemas under \(root.path), found \(documents.count)") }
        self.documents = documents
    }

    /// The schema for `url` (an `$id` with a fragment), compiled once.
    public func schema(for url: String) throws -> JSONSchema {
        if let cached = compiled.withLock({ $0[url] }) { return cached }
        let schema = try JSONSchema(["$ref": .string(url)], options: .init(bundledDocuments: documents, assertFormats: true))
        compiled.withLock { $0[url] = schema }
        return schema
    }

    private func trimmedSchema() throws -> JSONSchema {
        let key = "factory_trimmed"
        if let cached = compiled.withLock({ $0[key] }) { return cached }
        let schema = try JSONSchema(Self.trimmedFacetSchema, options: .init(bundledDocuments: documents, assertFormats: true))
        compiled.withLock { $0[key] = schema }
        return schema
    }

    /// Every way `event` fails the official schemas, as `location: message` lines; empty when
    /// it is valid.
    public func errors(_ event: JSONValue) -> [String] {
        var out: [String] = []
        guard let schemaURL = event["schemaURL"]?.stringValue else { return ["/schemaURL: missing"] }
        guard schemaURL == OpenLineage.runEventSchemaURL else { return ["/schemaURL: \(schemaURL) is not the 2-0-2 RunEvent this project writes"] }
        do {
            out += try schema(for: schemaURL).validate(event).map { "event \($0.description)" }
            var groups: [(String, JSONValue?)] = [("/run/facets", event["run"]?["facets"]), ("/job/facets", event["job"]?["facets"])]
            for side in ["inputs", "outputs"] {
                for (index, dataset) in (event[side]?.arrayValue ?? []).enumerated() {
                    for key in ["facets", "inputFacets", "outputFacets"] { groups.append(("/\(side)/\(index)/\(key)", dataset[key])) }
                }
            }
            for (location, facets) in groups {
                guard let facets = facets?.objectValue else { continue }
                for member in facets {
                    let url = member.value["_schemaURL"]?.stringValue ?? ""
                    let facetSchema: JSONSchema
                    if url.hasPrefix("https://openlineage.io/spec/facets/") {
                        facetSchema = try schema(for: url)
                    } else if member.key == OpenLineage.FacetName.trimmed, url == OpenLineage.FacetSchema.trimmed {
                        facetSchema = try trimmedSchema()
                    } else {
                        out.append("\(location)/\(member.key): no schema known for _schemaURL \(url)")
                        continue
                    }
                    out += facetSchema.validate(member.value).map { "\(location)/\(member.key)\($0.description)" }
                }
            }
        } catch {
            out.append("the schemas do not compile: \(error)")
        }
        return out
    }

    /// Parses `bytes` (an event as published) and validates it.
    public func errors(encoded bytes: [UInt8]) -> [String] {
        do {
            return errors(try JSONValue(parsing: bytes))
        } catch {
            return ["not JSON: \(error)"]
        }
    }

    static func resourceDirectory() throws -> URL {
        // Where SwiftPM puts copied resources differs between platforms; look in both places.
        let candidates = [Bundle.module.resourceURL, Bundle.module.bundleURL].compactMap { $0 }.flatMap { base in
            [base.appendingPathComponent("Resources/openlineage/spec"), base.appendingPathComponent("openlineage/spec")]
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw ValidatorError(message: "the OpenLineage schemas are not in LineageTestKit's bundle (looked in \(candidates.map(\.path)))")
        }
        return found
    }

    struct ValidatorError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
