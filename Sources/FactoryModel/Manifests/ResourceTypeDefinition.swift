import JSONSchema

/// A resource type an operator manages (`operator.resources[]`): its spec schema and subjects.
public struct ResourceTypeDefinition: Sendable {
    /// The type name, e.g. `hightouch` (follows ``NameRule``).
    public var name: String
    /// Whether resources of this type can be run (`op: run`).
    public var isRunnable: Bool
    /// The schema text as written (`specSchema.jsonSchema`).
    public var specSchemaText: String
    /// The compiled spec schema.
    public var specSchema: JSONSchema
    public var natsAPI: NATSAPIConfig

    public init(name: String, isRunnable: Bool, specSchemaText: String, specSchema: JSONSchema, natsAPI: NATSAPIConfig) {
        self.name = name
        self.isRunnable = isRunnable
        self.specSchemaText = specSchemaText
        self.specSchema = specSchema
        self.natsAPI = natsAPI
    }

    /// The built-in `hightouch` type: the seed schema and subjects.
    public static func hightouchDefault() throws(SchemaCompilationError) -> ResourceTypeDefinition {
        ResourceTypeDefinition(
            name: "hightouch", isRunnable: true,
            specSchemaText: BuiltInSchemas.hightouchSpecJSONSchema,
            specSchema: try JSONSchema(jsonText: BuiltInSchemas.hightouchSpecJSONSchema),
            natsAPI: .hightouchDefault)
    }

    init(fields: ManifestFields) throws(ManifestError) {
        name = try fields.string("name")
        do {
            try NameRule.validate(name, as: .resourceType)
        } catch {
            throw fields.invalidName("name", error)
        }
        isRunnable = try fields.optionalBool("isRunnable") ?? false

        let specSchemaFields = try fields.fields("specSchema", describedAs: "specSchema")
        let schemaPointer = specSchemaFields.pointer("jsonSchema")
        let schemaDocument: JSONValue
        switch specSchemaFields.value("jsonSchema") {
        case .string(let text)?:
            // In the seed, the schema is JSON text inside a YAML block scalar.
            specSchemaText = text
            do {
                schemaDocument = try JSONValue(parsing: text)
            } catch {
                throw ManifestError(kind: .invalidSchema, message: "jsonSchema is not valid JSON: \(error)", field: schemaPointer)
            }
        case .object(let object)?:
            // Also accepted: the schema written directly as YAML.
            schemaDocument = .object(object)
            specSchemaText = schemaDocument.serialized()
        case let other?:
            throw ManifestError(kind: .wrongType, message: "expected the JSON Schema as a string of JSON (or a mapping), got \(other.typeName)", field: schemaPointer)
        case nil:
            throw specSchemaFields.missing("jsonSchema")
        }
        do {
            specSchema = try JSONSchema(schemaDocument)
        } catch {
            throw ManifestError(kind: .invalidSchema, message: "the spec schema of resource type \(name) does not compile: \(error)", field: schemaPointer)
        }
        natsAPI = try NATSAPIConfig(fields: try fields.fields("natsApi", describedAs: "natsApi"))
    }
}
