import Census
import FactoryEngine
import FactoryModel
import JSONSchema

/// Reads a validated `census` resource spec. The schema has been checked already; these functions
/// still refuse what it cannot say (a duration that does not parse, a zero timeout), and a
/// missing field clearly, because an operator manifest may supply a looser schema.
enum CensusSpec {
    static func decode(_ spec: JSONValue) throws(VendorFailure) -> CensusDriver.Spec {
        CensusDriver.Spec(syncID: try syncID(in: spec), forceFullSync: try forceFullSync(in: spec), timeout: try timeout(in: spec))
    }

    /// `syncId`: an integer, or a string of digits (as YAML and JSON manifests write ids either way).
    static func syncID(in spec: JSONValue) throws(VendorFailure) -> CensusID {
        switch spec["syncId"] {
        case .number(let number)?:
            guard let value = number.int64Value, value >= 1 else {
                throw refused("/spec/syncId", "must be a positive whole number, got \(number)")
            }
            return CensusID(String(value))
        case .string(let text)?:
            let trimmed = text.trimmingCharacters()
            guard !trimmed.isEmpty, trimmed.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = Int64(trimmed), value >= 1 else {
                throw refused("/spec/syncId", "must be the digits of a Census sync id, such as \"61\"; got \"\(text)\"")
            }
            return CensusID(String(value))
        case nil:
            throw refused("/spec/syncId", "required: the id of the Census sync to run")
        case let other?:
            throw refused("/spec/syncId", "must be an integer or a string of digits, got \(other.typeName)")
        }
    }

    static func forceFullSync(in spec: JSONValue) throws(VendorFailure) -> Bool {
        switch spec["forceFullSync"] {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        case let other?: throw refused("/spec/forceFullSync", "must be true or false, got \(other.typeName)")
        }
    }

    /// `timeout`: Go-style duration text; nil when absent.
    static func timeout(in spec: JSONValue) throws(VendorFailure) -> Duration? {
        switch spec["timeout"] {
        case nil, .null?:
            return nil
        case .string(let text)?:
            guard let duration = DurationParser.parse(text), duration > .zero else {
                throw refused("/spec/timeout", "expected \(DurationParser.expectation), longer than zero; got \"\(text)\"")
            }
            return duration
        case let other?:
            throw refused("/spec/timeout", "must be duration text such as 2h, got \(other.typeName)")
        }
    }

    private static func refused(_ pointer: String, _ problem: String) -> VendorFailure {
        VendorFailure(kind: .rejected, reason: "schemaViolation", message: "\(pointer): \(problem)")
    }
}
