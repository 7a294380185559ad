import FactoryState
import Foundation

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
        guard let parsed = StateKeys.parse(key) else { return nil }
        return (parsed.kind == .entity ? "entity" : "status", parsed.workspace, parsed.name)
    }

    static func decode(key: String, value: [UInt8]) throws(CLIError) -> Document? {
        guard let (kind, _, _) = parse(key: key) else { return nil }
        do {
            if kind == "entity" {
                return .entity(try StateCodec.decode(EntityRecord.self, value, key: key))
            }
            return .status(try StateCodec.decode(StatusRecord.self, value, key: key))
        } catch {
            throw .failed("the state entry \(key) is not a document this factoryctl understands (\(error)); is the operator a newer version?")
        }
    }
}
