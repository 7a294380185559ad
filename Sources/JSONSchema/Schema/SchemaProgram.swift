/// A compiled schema: a flat table of nodes that refer to each other by index.
///
/// Indices (rather than references) make recursive `$ref`s trivially safe and keep the whole
/// program an immutable, `Sendable` value built once by ``SchemaCompiler``.
struct SchemaProgram: Sendable {
    var nodes: [SchemaNode]
    /// Index of the root schema.
    var root: Int
}

/// One (sub)schema.
struct SchemaNode: Sendable {
    enum Body: Sendable {
        /// `true` or `{}`.
        case alwaysValid
        /// `false`.
        case alwaysInvalid
        case keywords([CompiledKeyword])
    }

    /// Where the subschema is in the schema document.
    let location: JSONPointer
    var body: Body
}

/// One keyword (or a group of keywords that act together, such as `properties`,
/// `patternProperties` and `additionalProperties`).
struct CompiledKeyword: Sendable {
    /// The keyword name, for errors.
    let name: String
    /// Where the keyword is in the schema document.
    let location: JSONPointer
    let check: KeywordCheck
}

enum KeywordCheck: Sendable {
    case type(JSONTypeSet)
    case enumeration(EnumerationRule)
    case constant(JSONValue)

    case objectMembers(ObjectMembersRule)
    case required([String])
    case propertyNames(Int)
    case minProperties(Int)
    case maxProperties(Int)
    case dependentRequired([(property: String, required: [String])])
    case dependentSchemas([(property: String, node: Int)])

    case arrayItems(ArrayItemsRule)
    case contains(ContainsRule)
    case minItems(Int)
    case maxItems(Int)
    case uniqueItems

    case minLength(Int)
    case maxLength(Int)
    case pattern(SchemaRegex)
    /// `format`, when formats are asserted (``JSONSchema/Options/assertFormats``).
    case format(SchemaFormat)

    case minimum(JSONNumber)
    case maximum(JSONNumber)
    case exclusiveMinimum(JSONNumber)
    case exclusiveMaximum(JSONNumber)
    case multipleOf(JSONNumber, DecimalDigits?)

    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int])
    case not(Int)
    case conditional(ConditionalRule)
    case reference(node: Int, reference: String)
}

/// `properties`, `patternProperties` and `additionalProperties` of one schema object, evaluated in
/// one pass over the instance's members (additionalProperties depends on the other two).
struct ObjectMembersRule: Sendable {
    struct Property: Sendable {
        let name: String
        let node: Int
    }

    struct PatternProperty: Sendable {
        let regex: SchemaRegex
        let node: Int
    }

    let properties: [Property]
    /// Hash lookup for schemas with many properties; linear search otherwise.
    let propertyIndex: [JSONKey: Int]?
    let patternProperties: [PatternProperty]
    let additionalProperties: Int?
    let propertiesLocation: JSONPointer
    let patternPropertiesLocation: JSONPointer
    let additionalPropertiesLocation: JSONPointer

    func property(named key: String) -> Property? {
        if let propertyIndex {
            return propertyIndex[JSONKey(key)].map { properties[$0] }
        }
        for property in properties where UTF8String.equal(property.name, key) {
            return property
        }
        return nil
    }
}

/// `prefixItems` and `items` of one schema object.
struct ArrayItemsRule: Sendable {
    let prefixItems: [Int]
    let items: Int?
    let prefixItemsLocation: JSONPointer
    let itemsLocation: JSONPointer
}

/// `contains` with its `minContains` / `maxContains`.
struct ContainsRule: Sendable {
    let node: Int
    let minContains: Int
    let maxContains: Int?
    let minContainsLocation: JSONPointer?
    let maxContainsLocation: JSONPointer?
}

/// `if` / `then` / `else`.
struct ConditionalRule: Sendable {
    let condition: Int
    let then: Int?
    let otherwise: Int?
}

/// `enum`, with a hash set for long lists.
struct EnumerationRule: Sendable {
    let values: [JSONValue]
    let set: Set<JSONValue>?

    init(_ values: [JSONValue]) {
        self.values = values
        set = values.count > 8 ? Set(values) : nil
    }

    func contains(_ value: JSONValue) -> Bool {
        if let set { return set.contains(value) }
        return values.contains(value)
    }
}

/// The JSON Schema primitive types named by `type`.
struct JSONTypeSet: OptionSet, Sendable {
    let rawValue: UInt8

    static let null = JSONTypeSet(rawValue: 1 << 0)
    static let boolean = JSONTypeSet(rawValue: 1 << 1)
    static let object = JSONTypeSet(rawValue: 1 << 2)
    static let array = JSONTypeSet(rawValue: 1 << 3)
    static let number = JSONTypeSet(rawValue: 1 << 4)
    static let string = JSONTypeSet(rawValue: 1 << 5)
    static let integer = JSONTypeSet(rawValue: 1 << 6)

    static let names: [(String, JSONTypeSet)] = [
        ("null", .null), ("boolean", .boolean), ("object", .object), ("array", .array),
        ("number", .number), ("string", .string), ("integer", .integer),
    ]

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    init?(name: String) {
        guard let match = Self.names.first(where: { $0.0 == name }) else { return nil }
        self = match.1
    }

    func matches(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return contains(.null)
        case .bool: return contains(.boolean)
        case .object: return contains(.object)
        case .array: return contains(.array)
        case .string: return contains(.string)
        case .number(let number): return contains(.number) || (contains(.integer) && number.isInteger)
        }
    }

    /// `"boolean"`, `"object or null"`, `"string, integer or null"`.
    var readableList: String {
        let names = Self.names.filter { contains($0.1) }.map(\.0)
        guard names.count > 1 else { return names.first ?? "nothing" }
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }
}
