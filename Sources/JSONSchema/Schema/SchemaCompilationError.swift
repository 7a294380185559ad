/// Why a schema could not be compiled. Nothing in a schema is silently ignored: keywords this
/// validator does not implement, remote references and other dialects are refused here.
public struct SchemaCompilationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem, as a stable code.
    public enum Kind: String, Sendable, Hashable {
        /// The schema text is not JSON.
        case invalidJSON
        /// A keyword this validator knows but does not implement (e.g. `$dynamicRef`,
        /// `unevaluatedProperties`), or an unknown keyword when unknown keywords are refused.
        case unsupportedKeyword
        /// `$schema` names a dialect other than draft 2020-12.
        case unsupportedDialect
        /// A keyword has a value of the wrong shape (e.g. `"minLength": -1`).
        case invalidKeywordValue
        /// A `$ref` to a document other than this one.
        case remoteReference
        /// A `$ref` whose target does not exist in this document.
        case unresolvableReference
        /// A `pattern` or `patternProperties` regex that does not compile.
        case invalidPattern
        /// Subschemas that apply to each other in place forever (e.g. `$ref` chains that never
        /// descend into the instance).
        case referenceLoop
    }

    /// What kind of problem.
    public let kind: Kind
    /// The keyword concerned (e.g. `$dynamicRef`), or `nil` when the whole schema is concerned.
    public let keyword: String?
    /// JSON pointer of the problem in the schema document.
    public let schemaLocation: JSONPointer
    /// A plain sentence saying what is wrong and what to do.
    public let message: String

    public init(kind: Kind, keyword: String?, schemaLocation: JSONPointer, message: String) {
        self.kind = kind
        self.keyword = keyword
        self.schemaLocation = schemaLocation
        self.message = message
    }

    public var description: String {
        let location = schemaLocation.isRoot ? "/" : schemaLocation.description
        return "schema \(location): \(message)"
    }
}
