import JSONSchema

/// Why a manifest (resource or operator, YAML or JSON) could not be loaded.
///
/// Names the document (in a multi-document file), the field as a JSON pointer (e.g.
/// `/operator/components/0/replicas`) and, for YAML, the line and column when known.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem, as a stable code.
    public enum Kind: String, Sendable, Hashable {
        /// The file could not be read.
        case unreadable
        /// The input is larger than the loader accepts.
        case tooLarge
        /// The text is not UTF-8.
        case notUTF8
        /// YAML or JSON syntax error.
        case syntax
        /// A tab character where YAML does not allow one, that the loader did not repair.
        case tabCharacter
        /// A YAML feature with no JSON equivalent (custom tags, complex keys, merge keys, .inf…).
        case unsupportedYAML
        /// The file holds no document.
        case empty
        /// A required field is missing.
        case missingField
        /// A field has the wrong JSON type.
        case wrongType
        /// A field has the right type but a value that is not allowed.
        case invalidValue
        /// A resource or workspace name breaks the name rule.
        case invalidName
        /// A `specSchema.jsonSchema` that does not compile.
        case invalidSchema
    }

    public var kind: Kind
    /// A plain sentence saying what is wrong and what to do.
    public var message: String
    /// The field concerned, when there is one.
    public var field: JSONPointer?
    /// 1-based line in the file, when known.
    public var line: Int?
    /// 1-based column in the file, when known.
    public var column: Int?
    /// 1-based document number in a multi-document file, when known.
    public var document: Int?

    public init(kind: Kind, message: String, field: JSONPointer? = nil, line: Int? = nil, column: Int? = nil, document: Int? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
        self.line = line
        self.column = column
        self.document = document
    }

    /// `document 2, line 14, column 9: /operator/components/0/replicas: expected integer, got string`
    public var description: String {
        var parts: [String] = []
        if let document { parts.append("document \(document)") }
        if let line {
            parts.append(column.map { "line \(line), column \($0)" } ?? "line \(line)")
        }
        var text = parts.joined(separator: ", ")
        if let field, !field.isRoot {
            text += text.isEmpty ? field.description : ": \(field.description)"
        }
        return text.isEmpty ? message : "\(text): \(message)"
    }

    /// The same error, attributed to document `number` and placed with `locate`.
    func located(document number: Int?, using source: YAMLDocument?) -> ManifestError {
        var copy = self
        if copy.document == nil { copy.document = number }
        if copy.line == nil, let field, let position = source?.position(of: field) {
            copy.line = position.line
            copy.column = position.column
        }
        return copy
    }
}
