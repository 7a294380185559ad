/// Turns a schema document into a ``SchemaProgram``, once.
///
/// Three passes, none recursive (so deep schemas cannot exhaust the stack):
/// 1. index every schema resource (`$id`) and `$anchor` with its base URI;
/// 2. compile subschemas from a work list, resolving `$ref`s to node indices;
/// 3. refuse subschemas that apply to each other in place forever.
struct SchemaCompiler {
    /// Base URI of a schema without `$id`; relative references resolve against it.
    static let defaultBaseURI = "urn:factory-operator:schema"

    private let document: JSONValue
    private let options: JSONSchema.Options

    private var nodes: [SchemaNode] = []
    private var indexByLocation: [JSONPointer: Int] = [:]
    private var worklist: [Int] = []
    /// Schema resources by absolute URI (without fragment).
    private var resources: [String: JSONPointer] = [:]
    /// `$anchor`s by `absolute-URI#name`.
    private var anchors: [String: JSONPointer] = [:]
    /// Base URI in effect at each indexed subschema (after its own `$id`).
    private var baseURIs: [JSONPointer: URIReference] = [:]

    /// Key under the root's `$defs` of the `index`th bundled document in the compound document
    /// the compiler works on (a key no schema author writes).
    static func bundledKey(_ index: Int) -> String { "$bundled:\(index)" }

    init(document: JSONValue, options: JSONSchema.Options) {
        self.document = document
        self.options = options
    }

    /// `document` with `options.bundledDocuments` embedded in its `$defs`: JSON Schema's compound
    /// document (draft 2020-12 section 9.3), so `$ref`s to their `$id`s resolve as references
    /// inside one document. Each must be an object with an absolute `$id`.
    static func compound(_ document: JSONValue, bundling bundled: [JSONValue]) throws(SchemaCompilationError) -> JSONValue {
        guard !bundled.isEmpty else { return document }
        guard case .object(var root) = document else {
            throw SchemaCompilationError(
                kind: .invalidKeywordValue, keyword: nil, schemaLocation: .root,
                message: "a boolean schema cannot bundle other documents; wrap it as {\"allOf\": [true]} or bundle nothing")
        }
        var defs = JSONObject()
        if let existing = root["$defs"] {
            guard case .object(let object) = existing else {
                throw SchemaCompilationError(kind: .invalidKeywordValue, keyword: "$defs", schemaLocation: JSONPointer.root.appending("$defs"), message: "$defs must be an object whose values are schemas")
            }
            defs = object
        }
        for (index, bundledDocument) in bundled.enumerated() {
            guard case .string(let id)? = bundledDocument["$id"], URIReference(id).scheme != nil else {
                throw SchemaCompilationError(
                    kind: .invalidKeywordValue, keyword: "$id", schemaLocation: .root,
                    message: "bundled document \(index) has no absolute $id; a bundled document is found by its $id, so give it one (e.g. https://example.com/schema.json)")
            }
            defs[bundledKey(index)] = bundledDocument
        }
        root["$defs"] = .object(defs)
        return .object(root)
    }

    mutating func compile() throws(SchemaCompilationError) -> SchemaProgram {
        try indexResources()
        let root = nodeIndex(for: .root)
        while let next = worklist.popLast() {
            try compileNode(next)
        }
        try refuseInPlaceLoops()
        return SchemaProgram(nodes: nodes, root: root)
    }

    // MARK: - Pass 1: resources and anchors

    private mutating func indexResources() throws(SchemaCompilationError) {
        let rootBase = URIReference(options.baseURI ?? Self.defaultBaseURI).withoutFragment
        resources[rootBase.description] = .root
        var stack: [(location: JSONPointer, value: JSONValue, base: URIReference)] = [(.root, document, rootBase)]
        while let (location, value, inheritedBase) = stack.popLast() {
            guard case .object(let object) = value else {
                baseURIs[location] = inheritedBase
                continue
            }
            var base = inheritedBase
            if let idValue = object["$id"] {
                let idLocation = location.appending("$id")
                guard case .string(let id) = idValue else {
                    throw invalid("$id", idLocation, "$id must be a string (a URI reference)")
                }
                let reference = URIReference(id)
                if let fragment = reference.fragment, !fragment.isEmpty {
                    throw invalid("$id", idLocation, "$id \"\(id)\" must not contain a fragment; name locations with $anchor")
                }
                base = reference.resolved(against: inheritedBase).withoutFragment
                let key = base.description
                if let existing = resources[key], existing != location {
                    throw invalid("$id", idLocation, "$id \"\(key)\" is also declared at \(Self.display(existing))")
                }
                resources[key] = location
            }
            baseURIs[location] = base
            if let anchorValue = object["$anchor"] {
                let anchorLocation = location.appending("$anchor")
                guard case .string(let anchor) = anchorValue, Self.isValidAnchor(anchor) else {
                    throw invalid("$anchor", anchorLocation, "$anchor must be a name: a letter or '_' followed by letters, digits, '-', '_' or '.'")
                }
                let key = base.description + "#" + anchor
                if let existing = anchors[key], existing != location {
                    throw invalid("$anchor", anchorLocation, "$anchor \"\(anchor)\" is also declared at \(Self.display(existing)) in the same resource")
                }
                anchors[key] = location
            }
            for member in object {
                let memberLocation = location.appending(member.key)
                switch SchemaKeywords.subschemaShape(member.key) {
                case .single:
                    stack.append((memberLocation, member.value, base))
                case .array:
                    guard case .array(let elements) = member.value else { continue }
                    for (index, element) in elements.enumerated() {
                        stack.append((memberLocation.appending(index: index), element, base))
                    }
                case .map:
                    guard case .object(let map) = member.value else { continue }
                    for entry in map {
                        stack.append((memberLocation.appending(entry.key), entry.value, base))
                    }
                case nil:
                    continue
                }
            }
        }
    }

    private static func isValidAnchor(_ anchor: String) -> Bool {
        guard let first = anchor.unicodeScalars.first, first == "_" || first.properties.isAlphabetic && first.isASCII else {
            return false
        }
        return anchor.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".")
        }
    }

    private func baseURI(for location: JSONPointer) -> URIReference {
        var current: JSONPointer? = location
        while let candidate = current {
            if let base = baseURIs[candidate] { return base }
            current = candidate.parent
        }
        return URIReference(options.baseURI ?? Self.defaultBaseURI)
    }

    // MARK: - Pass 2: nodes

    /// The node for the subschema at `location`, compiled later from the work list.
    private mutating func nodeIndex(for location: JSONPointer) -> Int {
        if let existing = indexByLocation[location] { return existing }
        let index = nodes.count
        nodes.append(SchemaNode(location: location, body: .alwaysValid))
        indexByLocation[location] = index
        worklist.append(index)
        return index
    }

    private mutating func compileNode(_ index: Int) throws(SchemaCompilationError) {
        let location = nodes[index].location
        guard let value = document.value(at: location) else {
            throw SchemaCompilationError(kind: .unresolvableReference, keyword: nil, schemaLocation: location, message: "no schema at \(Self.display(location))")
        }
        switch value {
        case .bool(true):
            nodes[index].body = .alwaysValid
        case .bool(false):
            nodes[index].body = .alwaysInvalid
        case .object(let object):
            let keywords = try compileKeywords(object, at: location)
            nodes[index].body = keywords.isEmpty ? .alwaysValid : .keywords(keywords)
        default:
            throw SchemaCompilationError(
                kind: .invalidKeywordValue, keyword: location.lastToken, schemaLocation: location,
                message: "expected a schema (an object or a boolean) at \(Self.display(location)), got \(value.typeName)")
        }
    }

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    private mutating func compileKeywords(_ object: JSONObject, at location: JSONPointer) throws(SchemaCompilationError) -> [CompiledKeyword] {
        // Keywords that act together are collected first and emitted at the position of the
        // first of them, so errors come out in document order.
        var ordered: [(order: Int, keyword: CompiledKeyword)] = []
        var groupOrder: [String: Int] = [:]
        func noteGroup(_ group: String, _ order: Int) {
            if groupOrder[group] == nil { groupOrder[group] = order }
        }

        var properties: [ObjectMembersRule.Property] = []
        var patternProperties: [ObjectMembersRule.PatternProperty] = []
        var additionalProperties: Int?
        var prefixItems: [Int] = []
        var items: Int?
        var contains: Int?
        var minContains: (Int, JSONPointer)?
        var maxContains: (Int, JSONPointer)?
        var condition: Int?
        var then: Int?
        var otherwise: Int?

        for (order, member) in object.enumerated() {
            let keyword = member.key
            let value = member.value
            let at = location.appending(keyword)
            func add(_ check: KeywordCheck) {
                ordered.append((order, CompiledKeyword(name: keyword, location: at, check: check)))
            }

            switch keyword {
            // MARK: Any instance
            case "type":
                // `type` goes first: when it fails, the other keywords rarely add anything useful.
                ordered.append((-1, CompiledKeyword(name: keyword, location: at, check: .type(try typeSet(value, at)))))
            case "enum":
                guard case .array(let values) = value else { throw invalid(keyword, at, "enum must be an array of the allowed values") }
                add(.enumeration(EnumerationRule(values)))
            case "const":
                add(.constant(value))

            // MARK: Objects
            case "properties":
                noteGroup("object", order)
                for entry in try schemaMap(value, keyword, at) {
                    properties.append(.init(name: entry.key, node: nodeIndex(for: at.appending(entry.key))))
                }
            case "patternProperties":
                noteGroup("object", order)
                for entry in try schemaMap(value, keyword, at) {
                    let regex = try compileRegex(entry.key, keyword, at.appending(entry.key))
                    patternProperties.append(.init(regex: regex, node: nodeIndex(for: at.appending(entry.key))))
                }
            case "additionalProperties":
                noteGroup("object", order)
                additionalProperties = nodeIndex(for: at)
            case "required":
                add(.required(try uniqueStrings(value, keyword, at)))
            case "propertyNames":
                add(.propertyNames(nodeIndex(for: at)))
            case "minProperties":
                add(.minProperties(try nonNegativeInteger(value, keyword, at)))
            case "maxProperties":
                add(.maxProperties(try nonNegativeInteger(value, keyword, at)))
            case "dependentRequired":
                guard case .object(let map) = value else {
                    throw invalid(keyword, at, "dependentRequired must be an object mapping a property to the properties it requires")
                }
                var rules: [(property: String, required: [String])] = []
                for entry in map {
                    rules.append((entry.key, try uniqueStrings(entry.value, keyword, at.appending(entry.key))))
                }
                add(.dependentRequired(rules))
            case "dependentSchemas":
                var rules: [(property: String, node: Int)] = []
                for entry in try schemaMap(value, keyword, at) {
                    rules.append((entry.key, nodeIndex(for: at.appending(entry.key))))
                }
                add(.dependentSchemas(rules))

            // MARK: Arrays
            case "prefixItems":
                noteGroup("array", order)
                let count = try schemaArrayCount(value, keyword, at)
                prefixItems = (0..<count).map { nodeIndex(for: at.appending(index: $0)) }
            case "items":
                noteGroup("array", order)
                if case .array = value {
                    throw invalid(keyword, at, "in draft 2020-12 items takes one schema for all remaining items; use prefixItems for per-position schemas")
                }
                items = nodeIndex(for: at)
            case "contains":
                noteGroup("contains", order)
                contains = nodeIndex(for: at)
            case "minContains":
                minContains = (try nonNegativeInteger(value, keyword, at), at)
            case "maxContains":
                maxContains = (try nonNegativeInteger(value, keyword, at), at)
            case "minItems":
                add(.minItems(try nonNegativeInteger(value, keyword, at)))
            case "maxItems":
                add(.maxItems(try nonNegativeInteger(value, keyword, at)))
            case "uniqueItems":
                guard case .bool(let unique) = value else { throw invalid(keyword, at, "uniqueItems must be true or false") }
                if unique { add(.uniqueItems) }

            // MARK: Strings
            case "minLength":
                add(.minLength(try nonNegativeInteger(value, keyword, at)))
            case "maxLength":
                add(.maxLength(try nonNegativeInteger(value, keyword, at)))
            case "pattern":
                guard case .string(let pattern) = value else { throw invalid(keyword, at, "pattern must be a string (a regular expression)") }
                add(.pattern(try compileRegex(pattern, keyword, at)))
            case "format":
                guard options.assertFormats else { continue }  // an annotation
                guard case .string(let name) = value else { throw invalid(keyword, at, "format must be a string (a format name such as date-time)") }
                guard let format = SchemaFormat(rawValue: name) else {
                    // The format-assertion vocabulary must not pass what it cannot check.
                    throw SchemaCompilationError(
                        kind: .unsupportedKeyword, keyword: keyword, schemaLocation: at,
                        message: "format \"\(name)\" cannot be asserted (asserted formats: \(SchemaFormat.allCases.map(\.rawValue).joined(separator: ", "))); compile without format assertion to treat it as an annotation")
                }
                add(.format(format))

            // MARK: Numbers
            case "minimum":
                add(.minimum(try number(value, keyword, at)))
            case "maximum":
                add(.maximum(try number(value, keyword, at)))
            case "exclusiveMinimum":
                add(.exclusiveMinimum(try number(value, keyword, at)))
            case "exclusiveMaximum":
                add(.exclusiveMaximum(try number(value, keyword, at)))
            case "multipleOf":
                let divisor = try number(value, keyword, at)
                guard divisor > JSONNumber(0) else { throw invalid(keyword, at, "multipleOf must be greater than 0") }
                add(.multipleOf(divisor, DecimalDigits(divisor)))

            // MARK: Applicators
            case "allOf", "anyOf", "oneOf":
                let count = try schemaArrayCount(value, keyword, at)
                let members = (0..<count).map { nodeIndex(for: at.appending(index: $0)) }
                add(keyword == "allOf" ? .allOf(members) : keyword == "anyOf" ? .anyOf(members) : .oneOf(members))
            case "not":
                add(.not(nodeIndex(for: at)))
            case "if":
                noteGroup("conditional", order)
                condition = nodeIndex(for: at)
            case "then":
                then = nodeIndex(for: at)
            case "else":
                otherwise = nodeIndex(for: at)

            // MARK: Core
            case "$ref":
                guard case .string(let reference) = value else { throw invalid(keyword, at, "$ref must be a string (a URI reference)") }
                let target = try resolveReference(reference, from: location, keywordLocation: at)
                add(.reference(node: nodeIndex(for: target), reference: reference))
            case "$schema":
                guard case .string(let dialect) = value, SchemaKeywords.supportedDialects.contains(dialect) else {
                    throw SchemaCompilationError(
                        kind: .unsupportedDialect, keyword: keyword, schemaLocation: at,
                        message: "$schema \(value) is not supported; this validator implements draft 2020-12 (https://json-schema.org/draft/2020-12/schema)")
                }
            case "$id", "$anchor":
                continue  // validated and indexed in pass 1
            case "$defs", "definitions":
                // Compiled even when unreferenced, so a bad or unsupported keyword in them is reported.
                for entry in try schemaMap(value, keyword, at) {
                    _ = nodeIndex(for: at.appending(entry.key))
                }

            default:
                if SchemaKeywords.annotations.contains(keyword) { continue }
                if let reason = SchemaKeywords.refused[keyword] {
                    throw SchemaCompilationError(kind: .unsupportedKeyword, keyword: keyword, schemaLocation: at, message: reason)
                }
                if options.unknownKeywords == .refuse {
                    throw SchemaCompilationError(
                        kind: .unsupportedKeyword, keyword: keyword, schemaLocation: at,
                        message: "unknown keyword \"\(keyword)\"; remove it or compile with unknown keywords treated as annotations")
                }
            }
        }

        if let order = groupOrder["object"] {
            let propertyIndex: [JSONKey: Int]? = properties.count > 8
                ? Dictionary(properties.enumerated().map { (JSONKey($0.element.name), $0.offset) }, uniquingKeysWith: { first, _ in first })
                : nil
            let rule = ObjectMembersRule(
                properties: properties, propertyIndex: propertyIndex, patternProperties: patternProperties,
                additionalProperties: additionalProperties,
                propertiesLocation: location.appending("properties"),
                patternPropertiesLocation: location.appending("patternProperties"),
                additionalPropertiesLocation: location.appending("additionalProperties"))
            let name = object["properties"] != nil ? "properties" : object["patternProperties"] != nil ? "patternProperties" : "additionalProperties"
            ordered.append((order, CompiledKeyword(name: name, location: location.appending(name), check: .objectMembers(rule))))
        }
        if let order = groupOrder["array"] {
            let rule = ArrayItemsRule(
                prefixItems: prefixItems, items: items,
                prefixItemsLocation: location.appending("prefixItems"), itemsLocation: location.appending("items"))
            let name = prefixItems.isEmpty ? "items" : "prefixItems"
            ordered.append((order, CompiledKeyword(name: name, location: location.appending(name), check: .arrayItems(rule))))
        }
        if let order = groupOrder["contains"], let contains {
            let rule = ContainsRule(
                node: contains, minContains: minContains?.0 ?? 1, maxContains: maxContains?.0,
                minContainsLocation: minContains?.1, maxContainsLocation: maxContains?.1)
            ordered.append((order, CompiledKeyword(name: "contains", location: location.appending("contains"), check: .contains(rule))))
        }
        if let order = groupOrder["conditional"], let condition, then != nil || otherwise != nil {
            let rule = ConditionalRule(condition: condition, then: then, otherwise: otherwise)
            ordered.append((order, CompiledKeyword(name: "if", location: location.appending("if"), check: .conditional(rule))))
        }
        // Stable sort: equal orders keep insertion order.
        return ordered.enumerated()
            .sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }
            .map(\.element.keyword)
    }

    // MARK: - References

    private func resolveReference(_ reference: String, from location: JSONPointer, keywordLocation: JSONPointer) throws(SchemaCompilationError) -> JSONPointer {
        let target = URIReference(reference).resolved(against: baseURI(for: location))
        let resourceKey = target.withoutFragment.description
        guard let resourceLocation = resources[resourceKey] else {
            throw SchemaCompilationError(
                kind: .remoteReference, keyword: "$ref", schemaLocation: keywordLocation,
                message: "$ref \"\(reference)\" points outside this schema document (to \(resourceKey)); remote references are not fetched: bundle the document with that $id (JSONSchema.Options.bundledDocuments) or copy the referenced schema into $defs")
        }
        let fragment = target.fragment ?? ""
        if fragment.isEmpty { return resourceLocation }
        guard let decoded = URIReference.percentDecoded(fragment) else {
            throw unresolvable(reference, keywordLocation, "its fragment has malformed percent-encoding")
        }
        if decoded.hasPrefix("/") {
            let pointer: JSONPointer
            do {
                pointer = try JSONPointer(parsing: decoded)
            } catch {
                throw unresolvable(reference, keywordLocation, error.message)
            }
            let full = resourceLocation.appending(pointer)
            switch document.value(at: full) {
            case .object?, .bool?:
                return full
            case nil:
                throw unresolvable(reference, keywordLocation, "nothing exists at \(Self.display(full))")
            case let other?:
                throw unresolvable(reference, keywordLocation, "the value at \(Self.display(full)) is a \(other.typeName), not a schema")
            }
        }
        guard let anchorLocation = anchors[resourceKey + "#" + decoded] else {
            throw unresolvable(reference, keywordLocation, "no $anchor \"\(decoded)\" is declared in \(resourceKey)")
        }
        return anchorLocation
    }

    // MARK: - Pass 3: loops

    /// Refuses cycles of subschemas that apply to the same instance (`$ref`, `allOf`, `anyOf`,
    /// `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`): evaluating them never ends.
    private func refuseInPlaceLoops() throws(SchemaCompilationError) {
        var edges = [[Int]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            guard case .keywords(let keywords) = node.body else { continue }
            for keyword in keywords {
                switch keyword.check {
                case .reference(let target, _): edges[index].append(target)
                case .allOf(let members), .anyOf(let members), .oneOf(let members): edges[index] += members
                case .not(let target): edges[index].append(target)
                case .conditional(let rule): edges[index] += [rule.condition, rule.then, rule.otherwise].compactMap { $0 }
                case .dependentSchemas(let rules): edges[index] += rules.map(\.node)
                default: continue
                }
            }
        }
        // Iterative depth-first search; 1 = on the current path, 2 = done.
        var state = [UInt8](repeating: 0, count: nodes.count)
        for start in nodes.indices where state[start] == 0 {
            var stack: [(node: Int, nextEdge: Int)] = [(start, 0)]
            state[start] = 1
            while let (node, nextEdge) = stack.last {
                if nextEdge < edges[node].count {
                    stack[stack.count - 1].nextEdge += 1
                    let target = edges[node][nextEdge]
                    if state[target] == 1 {
                        throw SchemaCompilationError(
                            kind: .referenceLoop, keyword: nil, schemaLocation: nodes[target].location,
                            message: "the subschema at \(Self.display(nodes[target].location)) applies itself to the same value again (through $ref or an applicator) without descending into it, which never ends")
                    }
                    if state[target] == 0 {
                        state[target] = 1
                        stack.append((target, 0))
                    }
                } else {
                    state[node] = 2
                    stack.removeLast()
                }
            }
        }
    }

    // MARK: - Keyword values

    private func typeSet(_ value: JSONValue, _ at: JSONPointer) throws(SchemaCompilationError) -> JSONTypeSet {
        let names: [JSONValue]
        switch value {
        case .string: names = [value]
        case .array(let array) where !array.isEmpty: names = array
        default: throw invalid("type", at, "type must be a type name or a non-empty array of type names")
        }
        var set: JSONTypeSet = []
        for name in names {
            guard case .string(let string) = name, let type = JSONTypeSet(name: string) else {
                throw invalid("type", at, "unknown type \(name); use null, boolean, object, array, number, string or integer")
            }
            guard !set.contains(type) else { throw invalid("type", at, "type lists \(string) twice") }
            set.insert(type)
        }
        return set
    }

    private func nonNegativeInteger(_ value: JSONValue, _ keyword: String, _ at: JSONPointer) throws(SchemaCompilationError) -> Int {
        guard case .number(let number) = value, number.isInteger, number >= JSONNumber(0) else {
            throw invalid(keyword, at, "\(keyword) must be a non-negative integer, got \(value)")
        }
        return number.intValue ?? Int.max
    }

    private func number(_ value: JSONValue, _ keyword: String, _ at: JSONPointer) throws(SchemaCompilationError) -> JSONNumber {
        guard case .number(let number) = value else {
            throw invalid(keyword, at, "\(keyword) must be a number, got \(value.typeName)")
        }
        return number
    }

    private func uniqueStrings(_ value: JSONValue, _ keyword: String, _ at: JSONPointer) throws(SchemaCompilationError) -> [String] {
        guard case .array(let array) = value else { throw invalid(keyword, at, "\(keyword) must be an array of property names") }
        var strings: [String] = []
        var seen = Set<JSONKey>()
        for element in array {
            guard case .string(let string) = element else { throw invalid(keyword, at, "\(keyword) must contain only strings, found \(element.typeName)") }
            guard seen.insert(JSONKey(string)).inserted else { throw invalid(keyword, at, "\(keyword) lists \"\(string)\" twice") }
            strings.append(string)
        }
        return strings
    }

    private func schemaMap(_ value: JSONValue, _ keyword: String, _ at: JSONPointer) throws(SchemaCompilationError) -> JSONObject {
        guard case .object(let object) = value else { throw invalid(keyword, at, "\(keyword) must be an object whose values are schemas") }
        return object
    }

    private func schemaArrayCount(_ value: JSONValue, _ keyword: String, _ at: JSONPointer) throws(SchemaCompilationError) -> Int {
        guard case .array(let array) = value, !array.isEmpty else { throw invalid(keyword, at, "\(keyword) must be a non-empty array of schemas") }
        return array.count
    }

    private func compileRegex(_ pattern: String, _ keyword: String, _ at: JSONPointer) throws(SchemaCompilationError) -> SchemaRegex {
        do {
            return try SchemaRegex(pattern)
        } catch {
            throw SchemaCompilationError(kind: .invalidPattern, keyword: keyword, schemaLocation: at, message: "\(keyword) \"\(pattern)\" is not a valid regular expression")
        }
    }

    // MARK: - Errors

    private func invalid(_ keyword: String, _ at: JSONPointer, _ message: String) -> SchemaCompilationError {
        SchemaCompilationError(kind: .invalidKeywordValue, keyword: keyword, schemaLocation: at, message: message)
    }

    private func unresolvable(_ reference: String, _ at: JSONPointer, _ reason: String) -> SchemaCompilationError {
        SchemaCompilationError(kind: .unresolvableReference, keyword: "$ref", schemaLocation: at, message: "$ref \"\(reference)\" cannot be resolved: \(reason)")
    }

    static func display(_ pointer: JSONPointer) -> String {
        pointer.isRoot ? "the schema root" : pointer.description
    }
}
