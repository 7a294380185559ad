/// Which keywords this validator implements, accepts as annotations, or refuses.
enum SchemaKeywords {
    /// Where a keyword keeps subschemas (used to find `$id` / `$anchor` and to compile).
    enum SubschemaShape {
        /// The value is one schema.
        case single
        /// The value is an array of schemas.
        case array
        /// The value is an object whose member values are schemas.
        case map
    }

    static func subschemaShape(_ keyword: String) -> SubschemaShape? {
        switch keyword {
        case "additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else":
            return .single
        case "prefixItems", "allOf", "anyOf", "oneOf":
            return .array
        case "properties", "patternProperties", "$defs", "definitions", "dependentSchemas":
            return .map
        default:
            return nil
        }
    }

    /// Keywords that only carry information for people or tools and never affect validity.
    /// `format` is an annotation in draft 2020-12 unless the format-assertion vocabulary is in use,
    /// and so are the content keywords.
    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly",
        "format", "contentMediaType", "contentEncoding", "contentSchema",
    ]

    /// Known JSON Schema keywords this validator does not implement, with what to do instead.
    /// A schema using one of them fails to compile rather than being half-understood.
    static let refused: [String: String] = [
        "$dynamicRef": "dynamic references ($dynamicRef) are not supported; use $ref",
        "$dynamicAnchor": "dynamic anchors ($dynamicAnchor) are not supported; use $anchor",
        "$recursiveRef": "$recursiveRef (draft 2019-09) is not supported; use $ref",
        "$recursiveAnchor": "$recursiveAnchor (draft 2019-09) is not supported; use $anchor",
        "$vocabulary": "custom vocabularies ($vocabulary) are not supported",
        "unevaluatedProperties": "unevaluatedProperties is not supported; use additionalProperties",
        "unevaluatedItems": "unevaluatedItems is not supported; use items with prefixItems",
        "dependencies": "dependencies is a draft-07 keyword; use dependentRequired or dependentSchemas",
        "additionalItems": "additionalItems is a draft 2019-09 keyword; in draft 2020-12 use items (after prefixItems)",
    ]

    /// The `$schema` values accepted: draft 2020-12 only.
    static let supportedDialects: Set<String> = [
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2020-12/schema#",
    ]
}
