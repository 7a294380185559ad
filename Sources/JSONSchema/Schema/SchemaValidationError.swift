/// One reason an instance does not satisfy a schema.
public struct SchemaValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// JSON pointer of the offending value in the instance, e.g. `/model/isSchema`.
    public var instanceLocation: JSONPointer
    /// The keyword that failed, e.g. `type`, `required`, `additionalProperties`.
    public var keyword: String
    /// JSON pointer of the failing keyword in the schema document, e.g.
    /// `/properties/model/properties/isSchema/type`.
    public var schemaLocation: JSONPointer
    /// A plain sentence, e.g. `expected boolean, got string`.
    public var message: String

    public init(instanceLocation: JSONPointer, keyword: String, schemaLocation: JSONPointer, message: String) {
        self.instanceLocation = instanceLocation
        self.keyword = keyword
        self.schemaLocation = schemaLocation
        self.message = message
    }

    /// `"/model/isSchema: expected boolean, got string"`; the document root is written `/`.
    public var description: String {
        "\(instanceLocation.isRoot ? "/" : instanceLocation.description): \(message)"
    }

    /// The same error located under `prefix`, e.g. to report a spec error at `/spec/…`.
    public func prefixed(by prefix: JSONPointer) -> SchemaValidationError {
        var copy = self
        copy.instanceLocation = instanceLocation.prepending(prefix)
        return copy
    }
}
