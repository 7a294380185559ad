import Foundation
import JSONSchema

/// Why a stored document cannot be used. Never overwritten blindly: the operator reports it and
/// leaves the entry alone.
public struct StateDocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// Not JSON, or a field missing or of the wrong type.
        case unreadable
        /// Written by a newer operator, in a state version this build does not know.
        case newerVersion(Int)
    }

    public let key: String
    public let reason: Reason
    public let message: String

    public init(key: String, reason: Reason = .unreadable, message: String) {
        self.key = key
        self.reason = reason
        self.message = message
    }

    /// A stable word for statuses and dead letters.
    public var code: String {
        switch reason {
        case .unreadable: return "stateUnreadable"
        case .newerVersion: return "stateVersionUnsupported"
        }
    }

    public var description: String {
        switch reason {
        case .unreadable:
            return "state entry \(key) is unreadable: \(message)"
        case .newerVersion(let version):
            return "state entry \(key) was written in state version \(version); this operator reads versions \(StateVersion.oldestReadable) to \(StateVersion.current): upgrade this replica"
        }
    }
}

/// A document of the state bucket: written as JSON with sorted keys, read from any version this
/// build knows.
public protocol StateDocument: Sendable {
    /// The document as stored (current version).
    var stateJSON: JSONValue { get }
    /// Reads a stored document of version 1 or 2 (the caller checked the version).
    init(stateJSON object: JSONObject, version: Int, key: String) throws(StateDocumentError)
}

/// Encodes and decodes state documents. Written by hand rather than through `Codable`: each
/// document is written 1–3 times per command, and `JSONEncoder` with sorted keys was about a
/// tenth of a replica's CPU under load (docs/benchmarks.md).
public enum StateCodec {
    /// Largest document read (the bucket's value limit is 1 MiB).
    static let limits = JSONParsingLimits(maxBytes: 2 << 20, maxDepth: 256, maxStringBytes: 2 << 20)

    public static func encode(_ document: some StateDocument) -> [UInt8] {
        document.stateJSON.serializedBytes(sortedKeys: true)
    }

    public static func decode<Document: StateDocument>(_ type: Document.Type, _ bytes: some Collection<UInt8>, key: String) throws(StateDocumentError) -> Document {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes, limits: limits)
        } catch {
            throw StateDocumentError(key: key, message: "not JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw StateDocumentError(key: key, message: "expected a JSON object, found \(value.typeName)")
        }
        let version = try StateFields(object, key: key).int("version")
        guard version <= StateVersion.current else {
            throw StateDocumentError(key: key, reason: .newerVersion(version), message: "version \(version)")
        }
        guard version >= StateVersion.oldestReadable else {
            throw StateDocumentError(key: key, message: "unknown version \(version)")
        }
        return try Document(stateJSON: object, version: version, key: key)
    }

    /// The `version` field of a stored document, if it has one.
    public static func version(of bytes: some Collection<UInt8>) -> Int? {
        guard let value = try? JSONValue(parsing: bytes, limits: limits) else { return nil }
        return value["version"]?.numberValue?.intValue
    }
}

// MARK: - Writing

/// Builds one object; nil members are left out (as `Codable` did for the version-1 documents).
struct StateObjectBuilder {
    var object = JSONObject()

    mutating func add(_ key: String, _ value: JSONValue?) {
        if let value { _ = object.insertNew(key: key, value: value) }
    }

    mutating func add(_ key: String, _ value: String?) {
        add(key, value.map(JSONValue.string))
    }

    mutating func add(_ key: String, _ value: Int?) {
        add(key, value.map { JSONValue.number(JSONNumber($0)) })
    }

    mutating func add(_ key: String, _ value: UInt64) {
        add(key, JSONValue.number(JSONNumber(Int64(clamping: value))))
    }

    mutating func add(_ key: String, _ value: Double?) {
        // JSON has no NaN or infinity: such a value is left out rather than refusing the document.
        add(key, value.flatMap(JSONNumber.init).map(JSONValue.number))
    }

    mutating func add(_ key: String, _ value: Bool?) {
        add(key, value.map(JSONValue.bool))
    }

    mutating func add(_ key: String, _ value: Date?) {
        add(key, value.map { JSONValue.string(Timestamp.format($0)) })
    }

    var value: JSONValue { .object(object) }
}

// MARK: - Reading

/// Typed reads of one object's fields; a missing or mistyped field names its path.
struct StateFields {
    let object: JSONObject
    let key: String
    let path: String

    init(_ object: JSONObject, key: String, path: String = "") {
        self.object = object
        self.key = key
        self.path = path
    }

    /// The member, or nil when absent or null.
    func value(_ name: String) -> JSONValue? {
        guard let value = object[name], !value.isNull else { return nil }
        return value
    }

    private func wrong(_ name: String, _ expected: String, _ found: JSONValue?) -> StateDocumentError {
        StateDocumentError(key: key, message: "\(path)/\(name): expected \(expected), found \(found?.typeName ?? "nothing")")
    }

    func string(_ name: String) throws(StateDocumentError) -> String {
        guard let text = value(name)?.stringValue else { throw wrong(name, "a string", value(name)) }
        return text
    }

    func optionalString(_ name: String) throws(StateDocumentError) -> String? {
        guard let value = value(name) else { return nil }
        guard let text = value.stringValue else { throw wrong(name, "a string", value) }
        return text
    }

    func int(_ name: String) throws(StateDocumentError) -> Int {
        guard let number = value(name)?.numberValue?.intValue else { throw wrong(name, "a whole number", value(name)) }
        return number
    }

    func optionalInt(_ name: String) throws(StateDocumentError) -> Int? {
        guard value(name) != nil else { return nil }
        return try int(name)
    }

    func uint64(_ name: String) throws(StateDocumentError) -> UInt64 {
        guard let number = value(name)?.numberValue?.int64Value, number >= 0 else { throw wrong(name, "a whole number of 0 or more", value(name)) }
        return UInt64(number)
    }

    func optionalDouble(_ name: String) throws(StateDocumentError) -> Double? {
        guard let value = value(name) else { return nil }
        guard let number = value.numberValue else { throw wrong(name, "a number", value) }
        return number.doubleValue
    }

    func bool(_ name: String) throws(StateDocumentError) -> Bool {
        guard let flag = value(name)?.boolValue else { throw wrong(name, "true or false", value(name)) }
        return flag
    }

    func date(_ name: String) throws(StateDocumentError) -> Date {
        guard let text = value(name)?.stringValue, let date = Timestamp.parse(text) else { throw wrong(name, "an RFC 3339 timestamp", value(name)) }
        return date
    }

    func optionalDate(_ name: String) throws(StateDocumentError) -> Date? {
        guard value(name) != nil else { return nil }
        return try date(name)
    }

    func fields(_ name: String) throws(StateDocumentError) -> StateFields {
        guard let object = value(name)?.objectValue else { throw wrong(name, "an object", value(name)) }
        return StateFields(object, key: key, path: "\(path)/\(name)")
    }

    func optionalFields(_ name: String) throws(StateDocumentError) -> StateFields? {
        guard value(name) != nil else { return nil }
        return try fields(name)
    }

    func choice<Choice: RawRepresentable<String>>(_ name: String, as type: Choice.Type) throws(StateDocumentError) -> Choice {
        let text = try string(name)
        guard let choice = Choice(rawValue: text) else {
            throw StateDocumentError(key: key, message: "\(path)/\(name): unknown value \"\(text.prefix(40))\"")
        }
        return choice
    }
}
