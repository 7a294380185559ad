/// Runs a ``SchemaProgram`` against one instance.
///
/// Two modes share one implementation: with `collect == false` evaluation stops at the first
/// failure and records nothing (used for the fast "is it valid?" pass and inside `anyOf`, `oneOf`,
/// `not`, `if` and `contains`); with `collect == true` every failure is recorded, with the instance
/// path tracked on a stack, until ``maxErrors`` is reached.
struct SchemaEvaluator {
    private enum PathToken {
        case key(String)
        case index(Int)

        var text: String {
            switch self {
            case .key(let key): return key
            case .index(let index): return String(index)
            }
        }
    }

    /// Why a `false` subschema rejected a value, for a message that names the real cause.
    private enum FalseSchemaContext {
        case general
        case property(String)
        case additionalProperty(String, allowed: [String])
        case extraItem(allowedCount: Int)
    }

    private let nodes: [SchemaNode]
    private let maxErrors: Int
    private let maxDepth: Int
    private var path: [PathToken] = []
    private(set) var errors: [SchemaValidationError] = []

    init(program: SchemaProgram, maxErrors: Int, maxDepth: Int) {
        nodes = program.nodes
        self.maxErrors = max(1, maxErrors)
        self.maxDepth = maxDepth
    }

    private var isFull: Bool { errors.count >= maxErrors }

    // MARK: - Nodes

    mutating func evaluate(_ index: Int, _ value: JSONValue, collect: Bool, depth: Int) -> Bool {
        if collect, isFull { return false }
        switch nodes[index].body {
        case .alwaysValid:
            return true
        case .alwaysInvalid:
            if collect { record("false", nodes[index].location, "no value is allowed here (the schema is false)") }
            return false
        case .keywords(let keywords):
            guard depth <= maxDepth else {
                if collect {
                    record("$ref", nodes[index].location, "validation stopped: more than \(maxDepth) nested subschemas apply here (value too deeply nested)")
                }
                return false
            }
            var valid = true
            for keyword in keywords where !check(keyword, value, collect: collect, depth: depth) {
                valid = false
                if !collect || isFull { return false }
            }
            return valid
        }
    }

    /// Evaluates a subschema on a member or element of the current value.
    private mutating func evaluateChild(
        _ index: Int, _ value: JSONValue, token: PathToken, keyword: String, falseContext: FalseSchemaContext,
        collect: Bool, depth: Int
    ) -> Bool {
        if case .alwaysInvalid = nodes[index].body {
            if collect {
                path.append(token)
                record(keyword, nodes[index].location, Self.message(for: falseContext))
                path.removeLast()
            }
            return false
        }
        if collect { path.append(token) }
        let valid = evaluate(index, value, collect: collect, depth: depth + 1)
        if collect { path.removeLast() }
        return valid
    }

    // MARK: - Keywords

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func check(_ keyword: CompiledKeyword, _ value: JSONValue, collect: Bool, depth: Int) -> Bool {
        switch keyword.check {
        case .type(let types):
            if types.matches(value) { return true }
            if collect { record(keyword, "expected \(types.readableList), got \(value.typeName)") }
            return false

        case .enumeration(let rule):
            if rule.contains(value) { return true }
            if collect { record(keyword, "value \(Self.abbreviated(value)) is not one of the allowed values: \(Self.list(rule.values))") }
            return false

        case .constant(let constant):
            if value == constant { return true }
            if collect { record(keyword, "value must be \(Self.abbreviated(constant)), got \(Self.abbreviated(value))") }
            return false

        case .objectMembers(let rule):
            guard case .object(let object) = value else { return true }
            return checkMembers(object, rule, keyword, collect: collect, depth: depth)

        case .required(let names):
            guard case .object(let object) = value else { return true }
            var valid = true
            for name in names where !object.contains(key: name) {
                valid = false
                guard collect else { return false }
                record(keyword, "missing required property \"\(name)\"")
            }
            return valid

        case .propertyNames(let node):
            guard case .object(let object) = value else { return true }
            var valid = true
            for member in object where !evaluate(node, .string(member.key), collect: false, depth: depth + 1) {
                valid = false
                guard collect else { return false }
                path.append(.key(member.key))
                record(keyword, "property name \"\(member.key)\" does not match the propertyNames schema")
                path.removeLast()
            }
            return valid

        case .minProperties(let minimum):
            guard case .object(let object) = value, object.count < minimum else { return true }
            if collect { record(keyword, "object has \(Self.count(object.count, "property", "properties")), fewer than the minimum of \(minimum)") }
            return false

        case .maxProperties(let maximum):
            guard case .object(let object) = value, object.count > maximum else { return true }
            if collect { record(keyword, "object has \(Self.count(object.count, "property", "properties")), more than the maximum of \(maximum)") }
            return false

        case .dependentRequired(let rules):
            guard case .object(let object) = value else { return true }
            var valid = true
            for rule in rules where object.contains(key: rule.property) {
                for name in rule.required where !object.contains(key: name) {
                    valid = false
                    guard collect else { return false }
                    record(keyword, "property \"\(name)\" is required when \"\(rule.property)\" is present")
                }
            }
            return valid

        case .dependentSchemas(let rules):
            guard case .object(let object) = value else { return true }
            var valid = true
            for rule in rules where object.contains(key: rule.property) && !evaluate(rule.node, value, collect: collect, depth: depth + 1) {
                valid = false
                if !collect || isFull { return false }
            }
            return valid

        case .arrayItems(let rule):
            guard case .array(let array) = value else { return true }
            var valid = true
            for (position, element) in array.enumerated() {
                let elementValid: Bool
                if position < rule.prefixItems.count {
                    elementValid = evaluateChild(
                        rule.prefixItems[position], element, token: .index(position), keyword: "prefixItems",
                        falseContext: .general, collect: collect, depth: depth)
                } else if let items = rule.items {
                    elementValid = evaluateChild(
                        items, element, token: .index(position), keyword: "items",
                        falseContext: .extraItem(allowedCount: rule.prefixItems.count), collect: collect, depth: depth)
                } else {
                    break
                }
                if !elementValid {
                    valid = false
                    if !collect || isFull { return false }
                }
            }
            return valid

        case .contains(let rule):
            guard case .array(let array) = value else { return true }
            var matches = 0
            for element in array where evaluate(rule.node, element, collect: false, depth: depth + 1) {
                matches += 1
                // Without maxContains, enough matches settle it.
                if rule.maxContains == nil, matches >= rule.minContains { return true }
            }
            if matches < rule.minContains {
                guard collect else { return false }
                if let location = rule.minContainsLocation {
                    record("minContains", location, "array contains \(Self.count(matches, "matching item", "matching items")), fewer than minContains \(rule.minContains)")
                } else {
                    record(keyword, "array contains no item that matches the contains schema")
                }
                return false
            }
            if let maximum = rule.maxContains, matches > maximum {
                if collect, let location = rule.maxContainsLocation {
                    record("maxContains", location, "array contains \(Self.count(matches, "matching item", "matching items")), more than maxContains \(maximum)")
                }
                return false
            }
            return true

        case .minItems(let minimum):
            guard case .array(let array) = value, array.count < minimum else { return true }
            if collect { record(keyword, "array has \(Self.count(array.count, "item", "items")), fewer than the minimum of \(minimum)") }
            return false

        case .maxItems(let maximum):
            guard case .array(let array) = value, array.count > maximum else { return true }
            if collect { record(keyword, "array has \(Self.count(array.count, "item", "items")), more than the maximum of \(maximum)") }
            return false

        case .uniqueItems:
            guard case .array(let array) = value, array.count > 1 else { return true }
            var firstPosition: [JSONValue: Int] = [:]
            for (position, element) in array.enumerated() {
                if let earlier = firstPosition.updateValue(position, forKey: element) {
                    if collect { record(keyword, "items at positions \(earlier) and \(position) are equal; items must be unique") }
                    return false
                }
            }
            return true

        case .minLength(let minimum):
            guard case .string(let string) = value else { return true }
            // Each code point takes at least one UTF-8 byte, so a short byte count settles it.
            if string.utf8.count < minimum || string.unicodeScalars.count < minimum {
                let length = string.unicodeScalars.count
                if collect { record(keyword, "string has \(Self.count(length, "character", "characters")), fewer than the minimum of \(minimum)") }
                return false
            }
            return true

        case .maxLength(let maximum):
            guard case .string(let string) = value, string.utf8.count > maximum else { return true }
            let length = string.unicodeScalars.count
            if length <= maximum { return true }
            if collect { record(keyword, "string has \(Self.count(length, "character", "characters")), more than the maximum of \(maximum)") }
            return false

        case .pattern(let regex):
            guard case .string(let string) = value, !regex.matches(string) else { return true }
            if collect { record(keyword, "string \(Self.abbreviated(value)) does not match the pattern \(regex.pattern)") }
            return false

        case .format(let format):
            guard case .string(let string) = value, !format.matches(string) else { return true }
            if collect { record(keyword, "string \(Self.abbreviated(value)) is not a valid \(format.rawValue)") }
            return false

        case .minimum(let limit):
            guard case .number(let number) = value, number < limit else { return true }
            if collect { record(keyword, "\(number) is less than the minimum of \(limit)") }
            return false

        case .maximum(let limit):
            guard case .number(let number) = value, number > limit else { return true }
            if collect { record(keyword, "\(number) is greater than the maximum of \(limit)") }
            return false

        case .exclusiveMinimum(let limit):
            guard case .number(let number) = value, number <= limit else { return true }
            if collect { record(keyword, "\(number) must be greater than \(limit)") }
            return false

        case .exclusiveMaximum(let limit):
            guard case .number(let number) = value, number >= limit else { return true }
            if collect { record(keyword, "\(number) must be less than \(limit)") }
            return false

        case .multipleOf(let divisor, let divisorDigits):
            guard case .number(let number) = value, !Self.isMultiple(number, of: divisor, divisorDigits) else { return true }
            if collect { record(keyword, "\(number) is not a multiple of \(divisor)") }
            return false

        case .allOf(let members):
            var valid = true
            for member in members where !evaluate(member, value, collect: collect, depth: depth + 1) {
                valid = false
                if !collect || isFull { return false }
            }
            return valid

        case .anyOf(let members):
            for member in members where evaluate(member, value, collect: false, depth: depth + 1) {
                return true
            }
            if collect { record(keyword, "value does not match any of the \(members.count) schemas in anyOf") }
            return false

        case .oneOf(let members):
            var matching: [Int] = []
            for (position, member) in members.enumerated() where evaluate(member, value, collect: false, depth: depth + 1) {
                matching.append(position)
                if matching.count > 1, !collect { return false }
            }
            if matching.count == 1 { return true }
            if collect {
                if matching.isEmpty {
                    record(keyword, "value does not match any of the \(members.count) schemas in oneOf; exactly one must match")
                } else {
                    let positions = matching.map(String.init).joined(separator: ", ")
                    record(keyword, "value matches \(matching.count) schemas in oneOf (at positions \(positions)); exactly one must match")
                }
            }
            return false

        case .not(let node):
            guard evaluate(node, value, collect: false, depth: depth + 1) else { return true }
            if collect { record(keyword, "value must not match the schema in not") }
            return false

        case .conditional(let rule):
            let branch = evaluate(rule.condition, value, collect: false, depth: depth + 1) ? rule.then : rule.otherwise
            guard let branch else { return true }
            return evaluate(branch, value, collect: collect, depth: depth + 1)

        case .reference(let node, _):
            return evaluate(node, value, collect: collect, depth: depth + 1)
        }
    }

    private mutating func checkMembers(
        _ object: JSONObject, _ rule: ObjectMembersRule, _ keyword: CompiledKeyword, collect: Bool, depth: Int
    ) -> Bool {
        var valid = true
        for member in object {
            var covered = false
            if let property = rule.property(named: member.key) {
                covered = true
                if !evaluateChild(
                    property.node, member.value, token: .key(member.key), keyword: "properties",
                    falseContext: .property(member.key), collect: collect, depth: depth) {
                    valid = false
                    if !collect || isFull { return false }
                }
            }
            for pattern in rule.patternProperties where pattern.regex.matches(member.key) {
                covered = true
                if !evaluateChild(
                    pattern.node, member.value, token: .key(member.key), keyword: "patternProperties",
                    falseContext: .property(member.key), collect: collect, depth: depth) {
                    valid = false
                    if !collect || isFull { return false }
                }
            }
            if !covered, let additional = rule.additionalProperties {
                if !evaluateChild(
                    additional, member.value, token: .key(member.key), keyword: "additionalProperties",
                    falseContext: .additionalProperty(member.key, allowed: rule.properties.map(\.name)),
                    collect: collect, depth: depth) {
                    valid = false
                    if !collect || isFull { return false }
                }
            }
        }
        return valid
    }

    // MARK: - Numbers

    static func isMultiple(_ number: JSONNumber, of divisor: JSONNumber, _ divisorDigits: DecimalDigits?) -> Bool {
        if let value = number.int64Value, let step = divisor.int64Value, step != 0 {
            return value % step == 0
        }
        // Exact decimal arithmetic on the numbers as written (0.0075 is a multiple of 0.0001).
        if let divisorDigits, let digits = DecimalDigits(number),
           let exact = DecimalDigits.isMultiple(digits, of: divisorDigits) {
            return exact
        }
        let quotient = number.doubleValue / divisor.doubleValue
        return quotient.isFinite && quotient.rounded() == quotient
    }

    // MARK: - Recording

    private mutating func record(_ keyword: CompiledKeyword, _ message: String) {
        record(keyword.name, keyword.location, message)
    }

    private mutating func record(_ keyword: String, _ schemaLocation: JSONPointer, _ message: String) {
        guard !isFull else { return }
        errors.append(SchemaValidationError(
            instanceLocation: JSONPointer(tokens: path.map(\.text)),
            keyword: keyword, schemaLocation: schemaLocation, message: message))
    }

    private static func message(for context: FalseSchemaContext) -> String {
        switch context {
        case .general:
            return "no value is allowed here"
        case .property(let name):
            return "property \"\(name)\" is not allowed"
        case .additionalProperty(let name, let allowed):
            guard !allowed.isEmpty else { return "property \"\(name)\" is not allowed" }
            let shown = allowed.prefix(12).joined(separator: ", ") + (allowed.count > 12 ? ", …" : "")
            return "property \"\(name)\" is not allowed; allowed properties are \(shown)"
        case .extraItem(let allowedCount):
            return "item is not allowed: the array may have at most \(Self.count(allowedCount, "item", "items"))"
        }
    }

    private static func count(_ count: Int, _ singular: String, _ plural: String) -> String {
        "\(count) \(count == 1 ? singular : plural)"
    }

    static func abbreviated(_ value: JSONValue, limit: Int = 60) -> String {
        let text = value.serialized()
        return text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    private static func list(_ values: [JSONValue]) -> String {
        let shown = values.prefix(8).map { abbreviated($0, limit: 40) }.joined(separator: ", ")
        return values.count > 8 ? shown + ", …" : shown
    }
}
