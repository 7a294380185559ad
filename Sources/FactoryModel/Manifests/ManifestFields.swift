import JSONSchema

/// Reads typed fields from one JSON object of a manifest, with errors that name the field.
///
/// A field whose value is `null` (in YAML: `key:` with nothing after it) counts as absent.
struct ManifestFields {
    let object: JSONObject
    let location: JSONPointer

    init(_ value: JSONValue, at location: JSONPointer, describedAs what: String) throws(ManifestError) {
        guard case .object(let object) = value else {
            throw ManifestError(kind: .wrongType, message: "expected \(what) to be a mapping (an object), got \(value.typeName)", field: location)
        }
        self.object = object
        self.location = location
    }

    func pointer(_ key: String) -> JSONPointer {
        location.appending(key)
    }

    /// The value of `key`, `nil` when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    /// Members other than `known`, in order.
    func additionalFields(excluding known: Set<String>) -> JSONObject {
        JSONObject(object.filter { !known.contains($0.key) }.map { ($0.key, $0.value) })
    }

    // MARK: - Scalars

    func string(_ key: String) throws(ManifestError) -> String {
        guard let value = value(key) else { throw missing(key) }
        guard case .string(let string) = value else { throw wrongType(key, "a string", value) }
        guard !string.isEmpty else {
            throw ManifestError(kind: .invalidValue, message: "\(key) must not be empty", field: pointer(key))
        }
        return string
    }

    func optionalString(_ key: String) throws(ManifestError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let string) = value else { throw wrongType(key, "a string", value) }
        return string
    }

    func optionalBool(_ key: String) throws(ManifestError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let bool) = value else { throw wrongType(key, "true or false", value) }
        return bool
    }

    func optionalInteger(_ key: String, in range: ClosedRange<Int>) throws(ManifestError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, let integer = number.intValue else { throw wrongType(key, "an integer", value) }
        guard range.contains(integer) else {
            throw ManifestError(kind: .invalidValue, message: "\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(integer)", field: pointer(key))
        }
        return integer
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(ManifestError) -> Int {
        guard let integer = try optionalInteger(key, in: range) else { throw missing(key) }
        return integer
    }

    // MARK: - Collections

    func optionalStringArray(_ key: String) throws(ManifestError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let array) = value else { throw wrongType(key, "a list of strings", value) }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            guard case .string(let string) = element else {
                throw ManifestError(kind: .wrongType, message: "expected a string, got \(element.typeName)", field: pointer(key).appending(index: index))
            }
            strings.append(string)
        }
        return strings
    }

    func stringArray(_ key: String) throws(ManifestError) -> [String] {
        guard let strings = try optionalStringArray(key) else { throw missing(key) }
        return strings
    }

    func fields(_ key: String, describedAs what: String) throws(ManifestError) -> ManifestFields {
        guard let value = value(key) else { throw missing(key) }
        return try ManifestFields(value, at: pointer(key), describedAs: what)
    }

    func optionalFields(_ key: String, describedAs what: String) throws(ManifestError) -> ManifestFields? {
        guard let value = value(key) else { return nil }
        return try ManifestFields(value, at: pointer(key), describedAs: what)
    }

    /// Each element of the list `key` as fields; `[]` when absent.
    func list(_ key: String, describedAs what: String) throws(ManifestError) -> [ManifestFields] {
        guard let value = value(key) else { return [] }
        guard case .array(let array) = value else { throw wrongType(key, "a list", value) }
        var elements: [ManifestFields] = []
        for (index, element) in array.enumerated() {
            elements.append(try ManifestFields(element, at: pointer(key).appending(index: index), describedAs: what))
        }
        return elements
    }

    // MARK: - Errors

    func missing(_ key: String) -> ManifestError {
        ManifestError(kind: .missingField, message: "missing required field \"\(key)\"", field: pointer(key))
    }

    func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> ManifestError {
        ManifestError(kind: .wrongType, message: "expected \(expected), got \(value.typeName)", field: pointer(key))
    }

    func invalidName(_ key: String, _ error: InvalidNameError, field: JSONPointer? = nil) -> ManifestError {
        ManifestError(kind: .invalidName, message: error.description, field: field ?? pointer(key))
    }
}
