import Foundation

/// Shared decoding rules for the JSON configuration files in `streams/`.
enum JetStreamConfigurationFile {
    /// What value an accepted-but-unsupported key may carry.
    enum Tolerance: Sendable {
        case any
        case emptyOrAbsent
        case falseOrAbsent
        case zeroOrAbsent
        case oneOf(Set<String>)
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A loose JSON value, used only to check what an unsupported key holds.
    enum Loose: Decodable {
        case null, bool(Bool), number(Double), string(String), array([Loose]), object([String: Loose])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([Loose].self) { self = .array(value) }
            else { self = .object(try container.decode([String: Loose].self)) }
        }

        var isEmpty: Bool {
            switch self {
            case .null: return true
            case .string(let value): return value.isEmpty
            case .array(let value): return value.isEmpty
            case .object(let value): return value.isEmpty
            default: return false
            }
        }
    }

    /// Refuses keys that are neither supported nor harmless at their value.
    static func checkKeys(_ decoder: any Decoder, known: [String], tolerated: [String: Tolerance], kind: String) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let knownSet = Set(known)
        for key in container.allKeys where !knownSet.contains(key.stringValue) {
            guard let tolerance = tolerated[key.stringValue] else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "unknown \(kind) setting \"\(key.stringValue)\"; supported: \(known.sorted().joined(separator: ", "))"
                )
            }
            let value = try container.decode(Loose.self, forKey: key)
            let acceptable: Bool
            switch tolerance {
            case .any: acceptable = true
            case .emptyOrAbsent: acceptable = value.isEmpty
            case .falseOrAbsent:
                if case .bool(false) = value { acceptable = true } else { acceptable = value.isEmpty }
            case .zeroOrAbsent:
                if case .number(0) = value { acceptable = true } else { acceptable = value.isEmpty }
            case .oneOf(let allowed):
                if case .string(let text) = value { acceptable = allowed.contains(text) } else { acceptable = value.isEmpty }
            }
            guard acceptable else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "the \(kind) setting \"\(key.stringValue)\" is not supported by this client (cnats 3.4.1); remove it or set it to its default"
                )
            }
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from file: URL) throws -> T {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw NATSError.invalidArgument("cannot read \(file.path): \(error.localizedDescription)", operation: "load \(T.self)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw NATSError.invalidArgument("\(file.path): \(describe(error))", operation: "load \(T.self)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "top level" : codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        @unknown default:
            return "\(error)"
        }
    }
}

extension KeyedDecodingContainer {
    /// A nanosecond count as a Duration; 0 or absent is nil ("not set").
    func decodeNanoseconds(forKey key: Key) throws -> Duration? {
        guard let value = try decodeIfPresent(Int64.self, forKey: key), value != 0 else { return nil }
        guard value > 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "a duration must not be negative")
        }
        return .fromNanoseconds(value)
    }
}
