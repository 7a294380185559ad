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
/// `writeOnly`, `format`, `contentMediaType`, `contentEncoding`, `contentSchema`, `$schema`
/// (which must name draft 2020-12), `definitions` (a container like `$defs`), and, by default,
/// any keyword JSON Schema does not define, as draft 2020-12 requires (see
/// ``Options/unknownKeywords``).
///
/// ## Refused at compile time
/// `$dynamicRef`, `$dynamicAnchor`, `$recursiveRef`, `$recursiveAnchor`, `$vocabulary`,
/// `unevaluatedProperties`, `unevaluatedItems`, the older `dependencies` and `additionalItems`,
/// remote `$ref`s, other `$schema` dialects, and `$ref` loops that never descend into the value.
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

        public init(
            unknownKeywords: UnknownKeywordPolicy = .annotation,
            maxErrors: Int = 100,
            maxEvaluationDepth: Int = 512,
            baseURI: String? = nil
        ) {
            self.unknownKeywords = unknownKeywords
            self.maxErrors = maxErrors
            self.maxEvaluationDepth = maxEvaluationDepth
            self.baseURI = baseURI
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
        var compiler = SchemaCompiler(document: document, options: options)
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
