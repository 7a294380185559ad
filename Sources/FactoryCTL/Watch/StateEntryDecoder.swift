import Foundation
import OperatorCore

// MARK: - StateEntryDecoder

/// Reads the operator's state documents (`entity.<ws>.<name>`, `status.<ws>.<name>`, see
/// docs/state.md) as the operator writes them: JSON with RFC 3339 timestamps.
enum StateEntryDecoder {
    enum Document {
        case entity(EntityRecord)
        case status(StatusRecord)
    }

    /// The kind of document a key holds, and the resource it belongs to; nil for other keys.
    static func parse(key: String) -> (kind: String, workspace: String, name: String)? {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "entity" || parts[0] == "status" else { return nil }
        return (String(parts[0]), String(parts[1]), String(parts[2]))
    }

    static func decode(key: String, value: [UInt8]) throws(CLIError) -> Document? {
        guard let (kind, _, _) = parse(key: key) else { return nil }
        do {
            if kind == "entity" {
                return .entity(try StateStore.decode(EntityRecord.self, value, key: key))
            }
            return .status(try StateStore.decode(StatusRecord.self, value, key: key))
        } catch {
            throw .failed("the state entry \(key) is not a document this factoryctl understands (\(error)); is the operator a newer version?")
        }
    }
}
