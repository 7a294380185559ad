import SimulatorKit

// MARK: - SimValidator

/// Checks a request body the way the API's validation layer does (tsoa): required fields, JSON
/// types (numbers and booleans may arrive as strings and are coerced; strings are not), and no
/// properties outside the schema. Form bodies go through the same checks with every value a string. Collects every problem into `details`, keyed
/// `requestBody.<field>`, so one 422 names all of them.
struct SimValidator {
    private let object: SimObject
    /// The body was form-encoded: booleans are read as a form-reading server reads them.
    private let isForm: Bool
    private(set) var details = SimObject()

    /// - Parameters:
    ///   - body: the parsed body (`nil`: empty body).
    ///   - allowed: the schema's property names.
    init(body: SimBody?, allowed: Set<String>) {
        self.isForm = body?.encoding == .form
        switch body?.value {
        case .object(let object)?:
            self.object = object
            for key in object.keys where !allowed.contains(key) {
                self.details["requestBody.\(key)"] = .object([
                    "message": .string("\"\(key)\" is an excess property and therefore is not allowed"),
                    "value": object[key] ?? .null,
                ])
            }
        case nil:
            self.object = SimObject()
        case let other?:
            self.object = SimObject()
            self.details["requestBody"] = .object(["message": "invalid object", "value": other])
        }
    }

    var isValid: Bool { self.details.keys.isEmpty }

    /// Throws the 422 if anything was wrong.
    func check() throws(SimFailure) {
        guard self.isValid else { throw SimFailure.validation(self.details) }
    }

    func has(_ key: String) -> Bool { self.object[key] != nil }

    /// The raw value of a property, if present.
    func value(_ key: String) -> SimJSON? { self.object[key] }

    mutating func fail(_ key: String, _ message: String, value: SimJSON? = nil) {
        var problem: SimObject = ["message": .string(message)]
        if let value { problem["value"] = value }
        self.details["requestBody.\(key)"] = .object(problem)
    }

    // MARK: - Typed fields

    mutating func string(_ key: String, required: Bool) -> String? {
        switch self.object[key] {
        case nil:
            if required { self.fail(key, "'\(key)' is required") }
            return nil
        case .string(let value)?:
            return value
        case let other?:
            self.fail(key, "invalid string value", value: other)
            return nil
        }
    }

    /// A number; numeric strings are coerced, as the API's example bodies rely on.
    mutating func integer(_ key: String, required: Bool) -> Int? {
        switch self.object[key] {
        case nil:
            if required { self.fail(key, "'\(key)' is required") }
            return nil
        case .number(let value)? where value.rounded() == value && abs(value) < 1e15:
            return Int(value)
        case .string(let text)?:
            if let value = Double(text), value.rounded() == value, abs(value) < 1e15 { return Int(value) }
            self.fail(key, "invalid float number", value: .string(text))
            return nil
        case let other?:
            self.fail(key, "invalid float number", value: other)
            return nil
        }
    }

    /// A boolean. In JSON the strings `"true"` and `"false"` are coerced too (the spec's own
    /// defaults are the string `'false'`), and nothing else. A form field is always a string, so
    /// there `true`/`false` are read in any case, as the API's validation (tsoa) coerces them with
    /// `String(value).toLowerCase()`; `1`/`0`, `yes`/`no` and the like are a 422 either way.
    mutating func bool(_ key: String, required: Bool) -> Bool? {
        switch self.object[key] {
        case nil:
            if required { self.fail(key, "'\(key)' is required") }
            return nil
        case .bool(let value)?:
            return value
        case .string("true")?:
            return true
        case .string("false")?:
            return false
        case .string(let text)? where self.isForm && text.lowercased() == "true":
            return true
        case .string(let text)? where self.isForm && text.lowercased() == "false":
            return false
        case let other?:
            self.fail(key, "invalid boolean value", value: other)
            return nil
        }
    }

    /// A JSON object.
    mutating func object(_ key: String, required: Bool) -> SimObject? {
        switch self.object[key] {
        case nil:
            if required { self.fail(key, "'\(key)' is required") }
            return nil
        case .object(let value)?:
            return value
        case let other?:
            self.fail(key, "invalid object", value: other)
            return nil
        }
    }

    /// A property that must be present but may be `null` (`schedule` of `SyncCreate`).
    /// Returns `.null` for null, the object otherwise, `nil` when absent or invalid.
    mutating func nullableObject(_ key: String, required: Bool) -> SimJSON? {
        switch self.object[key] {
        case nil:
            if required { self.fail(key, "'\(key)' is required") }
            return nil
        case .null?:
            return .null
        case .object(let value)?:
            return .object(value)
        case let other?:
            self.fail(key, "invalid object", value: other)
            return nil
        }
    }

    /// A string-to-string map (`tags`).
    mutating func stringMap(_ key: String) -> [(String, String)]? {
        guard let object = self.object(key, required: false) else { return nil }
        var pairs: [(String, String)] = []
        for member in object.members {
            guard case .string(let value) = member.value else {
                self.fail("\(key).\(member.key)", "invalid string value", value: member.value)
                continue
            }
            pairs.append((member.key, value))
        }
        return pairs
    }

    /// A sync schedule: `null` or `{"type": string, "schedule": object}`.
    mutating func schedule(_ key: String, required: Bool) -> SimJSON? {
        guard let value = self.nullableObject(key, required: required) else { return nil }
        guard case .object(let schedule) = value else { return value }
        if schedule["type"]?.stringValue == nil {
            self.fail("\(key).type", "'type' is required")
        }
        if schedule["schedule"]?.objectValue == nil {
            self.fail("\(key).schedule", "'schedule' is required")
        }
        return value
    }
}
