import JSONSchema

/// The NATS subjects of a resource type (`operator.resources[].natsApi`).
public struct NATSAPIConfig: Sendable, Hashable {
    /// Where commands are published: the JetStream stream and its subject.
    public struct Command: Sendable, Hashable {
        public var stream: String
        public var subject: String

        public init(stream: String, subject: String) {
            self.stream = stream
            self.subject = subject
        }
    }

    /// Where status queries go, and where answers without a reply inbox are sent.
    public struct Query: Sendable, Hashable {
        public var subject: String
        public var replySubject: String

        public init(subject: String, replySubject: String) {
            self.subject = subject
            self.replySubject = replySubject
        }
    }

    public var command: Command
    public var query: Query

    public init(command: Command, query: Query) {
        self.command = command
        self.query = query
    }

    /// The seed operator's subjects for `hightouch`.
    public static let hightouchDefault = NATSAPIConfig(
        command: Command(stream: "dataos-hightouch-entities", subject: "hightouch.pipeline.run"),
        query: Query(subject: "hightouch.pipeline.run.query", replySubject: "dataos.operator.hightouch.reply"))

    init(fields: ManifestFields) throws(ManifestError) {
        let command = try fields.fields("command", describedAs: "natsApi.command")
        let query = try fields.fields("query", describedAs: "natsApi.query")
        self.command = Command(
            stream: try Self.streamName(command, "stream"),
            subject: try Self.subject(command, "subject"))
        self.query = Query(
            subject: try Self.subject(query, "subject"),
            replySubject: try Self.subject(query, "replySubject"))
    }

    /// A publishable subject: dot-separated non-empty tokens, no whitespace, no wildcards.
    private static func subject(_ fields: ManifestFields, _ key: String) throws(ManifestError) -> String {
        let subject = try fields.string(key)
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        let valid = tokens.allSatisfy { token in
            !token.isEmpty && token != "*" && token != ">" && !token.contains(where: { $0.isWhitespace })
        }
        guard valid else {
            throw ManifestError(
                kind: .invalidValue,
                message: "\"\(subject)\" is not a NATS subject: use dot-separated tokens without spaces or wildcards, e.g. hightouch.pipeline.run",
                field: fields.pointer(key))
        }
        return subject
    }

    /// A JetStream stream name: no whitespace, `.`, `*`, `>`, `/` or `\`.
    private static func streamName(_ fields: ManifestFields, _ key: String) throws(ManifestError) -> String {
        let name = try fields.string(key)
        guard !name.contains(where: { $0.isWhitespace || ".*>/\\".contains($0) }) else {
            throw ManifestError(kind: .invalidValue, message: "\"\(name)\" is not a JetStream stream name: no spaces, '.', '*', '>', '/' or '\\'", field: fields.pointer(key))
        }
        return name
    }
}

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
