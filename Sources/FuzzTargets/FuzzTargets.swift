import FactoryModel
import Foundation
import JSONSchema

/// The fuzz targets of FactoryOperator (issue 8, item 3). Each takes arbitrary bytes, must never
/// crash, hang or grow without bound, and checks invariants that make a wrong answer visible (a
/// failed `precondition` is a crash to libFuzzer, with the input saved).
///
/// `factory-fuzz` runs them under libFuzzer (`scripts/fuzz`); `HostileInputTests` replays the
/// saved regression inputs and the seeds through the same functions in every test run.
public enum FuzzTargets {
    public typealias Target = @Sendable ([UInt8]) -> Void

    /// Every target by name.
    public static let all: [String: Target] = [
        "envelope": envelope,
        "json": json,
        "resource-yaml": resourceYAML,
        "resource-json": resourceJSON,
        "operator-yaml": operatorYAML,
        "schema-compile": schemaCompile,
        "schema-validate": schemaValidate,
    ]

    public static var names: [String] { all.keys.sorted() }

    // MARK: - The command envelope

    static let validator = CommandValidator(limits: CommandDecodingLimits(maxBytes: 256 << 10))

    /// `CommandValidator.validate` (which runs `CommandEnvelope(decoding:)`) and
    /// `CommandIdentity.identify` on the same bytes.
    @Sendable public static func envelope(_ bytes: [UInt8]) {
        switch validator.validate(bytes) {
        case .success(let command):
            // What is accepted re-encodes to a command that decodes to the same envelope, with a
            // stable de-duplication id.
            let encoded = command.envelope.encoded()
            let again: CommandEnvelope
            do {
                again = try CommandEnvelope(decoding: encoded)
            } catch {
                preconditionFailure("an accepted command does not decode after encoding: \(error)")
            }
            precondition(again == command.envelope, "round trip changed the command")
            precondition(again.deduplicationID == command.envelope.deduplicationID, "unstable de-duplication id")
            if case .failure(let rejection) = validator.validate(encoded) {
                preconditionFailure("an accepted command is refused after encoding: \(rejection)")
            }
        case .failure(let rejection):
            precondition(!rejection.message.isEmpty, "a rejection without a message")
        }
        let identity = CommandIdentity.identify(bytes)
        // Names are only returned when they follow the name rule (they become KV keys).
        if let workspace = identity.workspace { precondition((try? WorkspaceName(workspace.rawValue)) != nil) }
        if let name = identity.resourceName { precondition((try? ResourceName(name.rawValue)) != nil) }
    }

    // MARK: - The JSON parser

    /// `JSONValue(parsing:)`; what parses serialises to text that parses to the same value.
    @Sendable public static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let text = value.serializedBytes()
        let again: JSONValue
        do {
            again = try JSONValue(parsing: text)
        } catch {
            preconditionFailure("serialised JSON does not parse: \(error)")
        }
        precondition(again == value, "round trip changed the value")
        let sorted = value.serializedBytes(sortedKeys: true)
        precondition((try? JSONValue(parsing: sorted))?.serializedBytes(sortedKeys: true) == sorted, "sorted serialisation is not stable")
    }

    // MARK: - Manifest loaders

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func checkRoundTrip(_ results: [Result<ResourceManifest, ManifestError>]) {
        for case .success(let manifest) in results {
            let again: ResourceManifest
            do {
                again = try ResourceManifest(json: manifest.jsonValue)
            } catch {
                preconditionFailure("a loaded manifest does not load from its own JSON: \(error)")
            }
            precondition(again == manifest, "manifest round trip changed it")
        }
    }

    /// `ResourceManifest.loadAll(from:)` on YAML text (several documents, aliases, tags, tabs).
    @Sendable public static func resourceYAML(_ bytes: [UInt8]) {
        if let results = try? ResourceManifest.loadAll(from: text(bytes)) { checkRoundTrip(results) }
    }

    /// `ResourceManifest.loadAll(from:format: .json)`.
    @Sendable public static func resourceJSON(_ bytes: [UInt8]) {
        if let results = try? ResourceManifest.loadAll(from: text(bytes), format: .json) { checkRoundTrip(results) }
    }

    /// `OperatorManifest.load(from:)` (YAML), which also compiles each declared spec schema,
    /// then a registry built from it validating the seed spec.
    @Sendable public static func operatorYAML(_ bytes: [UInt8]) {
        guard let manifest = try? OperatorManifest.load(from: text(bytes)) else { return }
        let registry = ResourceTypeRegistry(operatorManifest: manifest)
        for definition in manifest.operator.resources {
            _ = registry.definition(forType: definition.name)?.specSchema.validate(seedSpec)
        }
    }

    // MARK: - The schema validator

    static let seedSpec: JSONValue = {
        let text = #"""
            {"model":{"name":"city-retail-01","slug":"city-retail-01","queryType":"raw_sql","sourceId":"23474","isSchema":false,
             "primaryKey":"__metadata","raw":{"sql":"SELECT * FROM icebase.retail.city LIMIT 10000"}},
             "sync":{"slug":"icebase-excel-01","configuration":{"mode":"mirror","driveId":"me/drive","mappings":[]},"destinationId":"80565",
             "schedule":{"type":"cron","schedule":{"expression":"*/5 * * * *"}},"disabled":false},
             "trigger":{"resetCDC":false,"fullResync":false}}
            """#
        return (try? JSONValue(parsing: text)) ?? .null
    }()

    static let seedSchema: JSONSchema? = try? JSONSchema(jsonText: BuiltInSchemas.hightouchSpecJSONSchema)

    /// Validation must agree with itself: `isValid` exactly when `validate` finds nothing, and
    /// never more errors than asked for.
    static func checkConsistent(_ schema: JSONSchema, _ instance: JSONValue) {
        let errors = schema.validate(instance, maxErrors: 10)
        precondition(errors.count <= 10, "more errors than the cap")
        precondition(schema.isValid(instance) == errors.isEmpty, "isValid disagrees with validate")
    }

    /// `JSONSchema(jsonText:)` on random schema text; a schema that compiles validates a few
    /// instances (the seed spec, the schema document itself, simple values).
    @Sendable public static func schemaCompile(_ bytes: [UInt8]) {
        guard let schema = try? JSONSchema(jsonText: text(bytes)) else { return }
        var instances: [JSONValue] = [seedSpec, .null, .bool(true), .object(JSONObject()), .array([]), .string("x")]
        if let document = try? JSONValue(parsing: bytes) { instances.append(document) }
        for instance in instances { checkConsistent(schema, instance) }
    }

    /// Random JSON instances validated against the seed's spec schema.
    @Sendable public static func schemaValidate(_ bytes: [UInt8]) {
        guard let schema = seedSchema, let instance = try? JSONValue(parsing: bytes) else { return }
        checkConsistent(schema, instance)
        // The same instance placed where the schema looks deepest.
        if case .object(var spec) = seedSpec {
            spec["model"] = instance
            checkConsistent(schema, .object(spec))
        }
    }
}
