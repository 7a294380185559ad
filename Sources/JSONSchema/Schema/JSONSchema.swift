/// A JSON Schema (draft 2020-12), compiled once and then used to validate any number of values.
///
/// ```swift
/// let schema = try JSONSchema(jsonText: #"{"type": "object", "required": ["name"]}"#)
/// let errors = schema.validate(value)   // [] when valid
/// ```
///
/// ## Supported
/// `type`, `enum`, `const`; `properties`, `required`, `additionalProperties`,
/// `patternProperties`, `propertyNames`, `minProperties`, `maxProperties`, `dependentRequired`,
/// `dependentSchemas`; `items`, `prefixItems`, `contains` (with `minContains`/`maxContains`),
/// `minItems`, `maxItems`, `uniqueItems`; `minLength`, `maxLength` (in code points), `pattern`
/// (see ``SchemaRegex`` for the dialect); `minimum`, `maximum`, `exclusiveMinimum`,
/// `exclusiveMaximum`, `multipleOf` (exact decimal arithmetic); `allOf`, `anyOf`, `oneOf`, `not`,
/// `if`/`then`/`else`; `$ref` to `$defs`, to any JSON pointer, to `$anchor`s and to embedded
/// `$id` resources in the same document (recursion is fine); `$id`, `$anchor`, `$defs`; boolean
/// schemas.
///
/// ## Accepted as annotations (no effect on validity)
/// `title`, `description`, `default`, `examples`, `$comment`, `deprecated`, `readOnly`,
/// `writeOnly`, `format` (asserted instead with ``Options/assertFormats``), `contentMediaType`, `contentEncoding`, `contentSchema`, `$schema`
/// (which must name draft 2020-12), `definitions` (a container like `$defs`), and, by default,
/// any keyword JSON Schema does not define, as draft 2020-12 requires (see
/// ``Options/unknownKeywords``).
///
/// ## Refused at compile time
/// `$dynamicRef`, `$dynamicAnchor`, `$recursiveRef`, `$recursiveAnchor`, `$vocabulary`,
/// `unevaluatedProperties`, `unevaluatedItems`, the older `dependencies` and `additionalItems`,
/// remote `$ref`s (bundle the documents they name: ``Options/bundledDocuments``), other `$schema` dialects, and `$ref` loops that never descend into the value.
/// The error names the keyword and its location: nothing is silently ignored.
public struct JSONSchema: Sendable {
    /// How to compile and run a schema.
    public struct Options: Sendable, Hashable {
        /// What to do with keywords JSON Schema does not define.
        public enum UnknownKeywordPolicy: Sendable, Hashable {
            /// Treat them as annotations (draft 2020-12 behaviour).
            case annotation
            /// Refuse the schema, naming the keyword (catches misspellings like `requried`).
            case refuse
        }

        /// Default: annotations.
        public var unknownKeywords: UnknownKeywordPolicy
        /// Most errors ``JSONSchema/validate(_:maxErrors:)`` returns. Default 100.
        public var maxErrors: Int
        /// Most nested subschema applications before validation stops with an error (guards
        /// against stack exhaustion on values built in code). Default 512.
        public var maxEvaluationDepth: Int
        /// Base URI of a schema without `$id`; `nil` uses an internal URN.
        public var baseURI: String?
        /// Other schema documents, each with an absolute `$id`, that `$ref`s may name: the schema
        /// is compiled as a compound document with them embedded (draft 2020-12 section 9.3), so
        /// `{"$ref": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"}`
        /// resolves with no network. Default: none (a `$ref` outside the document is refused).
        public var bundledDocuments: [JSONValue]
        /// Whether `format` asserts (the format-assertion vocabulary) rather than annotates:
        /// `date-time`, `date`, `time` (RFC 3339), `uri`, `uri-reference` (RFC 3986), `uuid`
        /// (RFC 4122), `ipv4`, `ipv6` are checked exactly (``SchemaFormat``); any other format
        /// then fails to compile. Default false, as draft 2020-12's default vocabulary says.
        public var assertFormats: Bool

        public init(
            unknownKeywords: UnknownKeywordPolicy = .annotation,
            maxErrors: Int = 100,
            maxEvaluationDepth: Int = 512,
            baseURI: String? = nil,
            bundledDocuments: [JSONValue] = [],
            assertFormats: Bool = false
        ) {
            self.unknownKeywords = unknownKeywords
            self.maxErrors = maxErrors
            self.maxEvaluationDepth = maxEvaluationDepth
            self.baseURI = baseURI
            self.bundledDocuments = bundledDocuments
            self.assertFormats = assertFormats
        }
    }

    /// The schema document as given.
    public let document: JSONValue
    /// The options it was compiled with.
    public let options: Options
    private let program: SchemaProgram

    // MARK: - Compiling

    /// Compiles `document`.
    /// - Throws: ``SchemaCompilationError`` naming the keyword and its location.
    public init(_ document: JSONValue, options: Options = Options()) throws(SchemaCompilationError) {
        let compound = try SchemaCompiler.compound(document, bundling: options.bundledDocuments)
        var compiler = SchemaCompiler(document: compound, options: options)
        program = try compiler.compile()
        self.document = document
        self.options = options
    }

    /// Parses and compiles schema text (JSON).
    /// - Throws: ``SchemaCompilationError``; a parse failure has kind `invalidJSON` and a message
    ///   with the line and column.
    public init(jsonText: String, options: Options = Options()) throws(SchemaCompilationError) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: jsonText)
        } catch {
            throw SchemaCompilationError(kind: .invalidJSON, keyword: nil, schemaLocation: .root, message: "the schema is not valid JSON: \(error)")
        }
        try self.init(document, options: options)
    }

    // MARK: - Validating

    /// Every way `instance` fails the schema (up to `maxErrors`, default ``Options/maxErrors``),
    /// in schema order; empty when it is valid.
    public func validate(_ instance: JSONValue, maxErrors: Int? = nil) -> [SchemaValidationError] {
        var evaluator = SchemaEvaluator(program: program, maxErrors: maxErrors ?? options.maxErrors, maxDepth: options.maxEvaluationDepth)
        // Fast pass first: valid values (the common case) never pay for path tracking.
        if evaluator.evaluate(program.root, instance, collect: false, depth: 0) { return [] }
        _ = evaluator.evaluate(program.root, instance, collect: true, depth: 0)
        guard evaluator.errors.isEmpty else { return evaluator.errors }
        // Both passes run the same checks, so this is unreachable; never report "invalid" without a reason.
        return [SchemaValidationError(instanceLocation: .root, keyword: "", schemaLocation: .root, message: "value does not match the schema")]
    }

    /// True when `instance` satisfies the schema; stops at the first failure.
    public func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = SchemaEvaluator(program: program, maxErrors: 1, maxDepth: options.maxEvaluationDepth)
        return evaluator.evaluate(program.root, instance, collect: false, depth: 0)
    }
}
