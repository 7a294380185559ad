import Foundation
import JSONSchema
import NATSKit

/// A stored document and the revision it was read at.
public struct Versioned<Document: Sendable>: Sendable {
    public var document: Document
    public var revision: UInt64

    public init(document: Document, revision: UInt64) {
        self.document = document
        self.revision = revision
    }
}

/// Raised when a stored document cannot be read (a newer schema, or corruption). Never
/// overwritten blindly: the operator reports it and leaves the entry alone.
public struct StateDocumentError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let message: String

    public var description: String { "state entry \(key) is unreadable: \(message)" }
}

/// The operator's state: versioned JSON documents in a JetStream KV bucket, written with
/// compare-and-set on the entry's revision. Every replica reads and writes the same bucket; no
/// replica keeps state another cannot pick up.
public final class StateStore: Sendable {
    public let bucket: KeyValueBucket

    public init(bucket: KeyValueBucket) {
        self.bucket = bucket
    }

    // MARK: - Keys (names are checked to be KV-safe before they get here)

    public static func entityKey(workspace: String, name: String) -> String { "entity.\(workspace).\(name)" }
    public static func statusKey(workspace: String, name: String) -> String { "status.\(workspace).\(name)" }

    // MARK: - Typed access

    public func read<Document: Codable & Sendable>(_ type: Document.Type, key: String) async throws -> Versioned<Document>? {
        let entry: KeyValueEntry?
        do {
            entry = try await bucket.get(key)
        } catch {
            OperatorMetrics.kv("get", "error")
            throw error
        }
        guard let entry else {
            OperatorMetrics.kv("get", "missing")
            return nil
        }
        OperatorMetrics.kv("get", "ok")
        return Versioned(document: try Self.decode(type, entry.value, key: key), revision: entry.revision)
    }

    /// Creates the document; nil if the key already exists (someone else was first).
    public func create<Document: Codable & Sendable>(_ document: Document, key: String) async throws -> UInt64? {
        do {
            let revision = try await bucket.create(key, Self.encode(document))
            OperatorMetrics.kv("create", "ok")
            return revision
        } catch let error as NATSError where error.code == .keyExists {
            OperatorMetrics.kv("create", "conflict")
            return nil
        } catch {
            OperatorMetrics.kv("create", "error")
            throw error
        }
    }

    /// Writes the document if the entry is still at `revision`; nil if it changed in between.
    public func update<Document: Codable & Sendable>(_ document: Document, key: String, revision: UInt64) async throws -> UInt64? {
        do {
            let next = try await bucket.update(key, Self.encode(document), expectedRevision: revision)
            OperatorMetrics.kv("update", "ok")
            return next
        } catch let error as NATSError where error.code == .revisionConflict {
            OperatorMetrics.kv("update", "conflict")
            return nil
        } catch {
            OperatorMetrics.kv("update", "error")
            throw error
        }
    }

    /// Read, change, write with compare-and-set, and again on a lost race, until the change
    /// applies or `transform` declines (returns nil: nothing to write). `transform` receives the
    /// current document (nil if there is none) and must be free of side effects.
    @discardableResult
    public func modify<Document: Codable & Sendable>(
        _ type: Document.Type,
        key: String,
        attempts: Int = 20,
        _ transform: (Document?) throws -> Document?
    ) async throws -> Versioned<Document>? {
        for _ in 0..<attempts {
            let current = try await read(type, key: key)
            guard let next = try transform(current?.document) else { return current }
            let revision: UInt64?
            if let current {
                revision = try await update(next, key: key, revision: current.revision)
            } else {
                revision = try await create(next, key: key)
            }
            if let revision { return Versioned(document: next, revision: revision) }
        }
        throw NATSError(
            code: .revisionConflict,
            operation: "modify \(bucket.name)/\(key)",
            message: "gave up after \(attempts) lost compare-and-set races; the entry is written too often"
        )
    }

    public func delete(key: String, revision: UInt64) async throws -> Bool {
        do {
            try await bucket.delete(key, expectedRevision: revision)
            OperatorMetrics.kv("delete", "ok")
            return true
        } catch where error.code == .revisionConflict {
            OperatorMetrics.kv("delete", "conflict")
            return false
        }
    }

    /// Keys with `prefix` (e.g. `status.public.`).
    public func keys(prefix: String) async throws -> [String] {
        try await bucket.keys().filter { $0.hasPrefix(prefix) }.sorted()
    }

    // MARK: - Codec

    /// The bytes the operator stores for `document`: JSON, sorted keys, RFC 3339 dates.
    public static func encode<Document: Encodable>(_ document: Document) throws -> [UInt8] {
        if let record = document as? any StateJSONRepresentable {
            return record.stateJSON.serializedBytes(sortedKeys: true)
        }
        return Array(try encoder.encode(document))
    }

    /// The same bytes through Foundation's `JSONEncoder`, which `encode` used for every document
    /// before; kept to check the two writers agree (StateRecordJSONTests).
    static func encodeWithFoundation<Document: Encodable>(_ document: Document) throws -> [UInt8] {
        Array(try encoder.encode(document))
    }

    /// Reads a stored document; tools outside the operator (factoryctl watch) use this so they
    /// read state exactly as the operator wrote it.
    public static func decode<Document: Decodable>(_ type: Document.Type, _ bytes: [UInt8], key: String) throws -> Document {
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch {
            throw StateDocumentError(key: key, message: "\(error)")
        }
    }

    // Encoders are cheap to configure but not free to create on every call.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 timestamp: \(text)")
            }
            return date
        }
        return decoder
    }()
}

/// RFC 3339 timestamps with milliseconds, in UTC: how every date in state, replies and the
/// dead-letter stream is written.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        // Written by hand: every state write and status answer formats several dates, and the
        // ISO 8601 format style costs microseconds each. Same text (StateRecordJSONTests).
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000 else { return formatWithFoundation(date) }
        let total = Int64(milliseconds)
        var seconds = time_t(total / 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return formatWithFoundation(date) }
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        text.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        text.append(UInt8(ascii: "."))
        digits(Int32(total % 1000), 3)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    static func formatWithFoundation(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: .iso8601)
    }
}
