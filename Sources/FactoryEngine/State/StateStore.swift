import FactoryState
import Foundation
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

/// The operator's state: versioned JSON documents (FactoryState's records), written with
/// compare-and-set on the entry's revision. Every replica reads and writes the same backend; no
/// replica keeps state another cannot pick up.
public final class StateStore: Sendable {
    public let backend: any StateBackend

    public init(backend: any StateBackend) {
        self.backend = backend
    }

    public convenience init(bucket: KeyValueBucket) {
        self.init(backend: KeyValueStateBackend(bucket: bucket))
    }

    // MARK: - Keys (names are checked to be KV-safe before they get here)

    public static func entityKey(workspace: String, name: String) -> String { StateKeys.entity(workspace: workspace, name: name) }
    public static func statusKey(workspace: String, name: String) -> String { StateKeys.status(workspace: workspace, name: name) }

    // MARK: - Typed access

    /// The document at `key`; throws ``StateDocumentError`` for one this build cannot read (a
    /// newer version, or corruption).
    public func read<Document: StateDocument>(_ type: Document.Type, key: String) async throws -> Versioned<Document>? {
        let entry: StoredEntry?
        do {
            entry = try await backend.get(key)
        } catch {
            OperatorMetrics.kv("get", "error")
            throw error
        }
        guard let entry else {
            OperatorMetrics.kv("get", "missing")
            return nil
        }
        OperatorMetrics.kv("get", "ok")
        return Versioned(document: try StateCodec.decode(type, entry.value, key: key), revision: entry.revision)
    }

    /// Creates the document; nil if the key already exists (someone else was first).
    public func create(_ document: some StateDocument, key: String) async throws -> UInt64? {
        try await write("create") { try await backend.create(key, StateCodec.encode(document)) }
    }

    /// Writes the document if the entry is still at `revision`; nil if it changed in between.
    public func update(_ document: some StateDocument, key: String, revision: UInt64) async throws -> UInt64? {
        try await write("update") { try await backend.update(key, StateCodec.encode(document), expectedRevision: revision) }
    }

    private func write(_ operation: String, _ body: () async throws -> UInt64?) async throws -> UInt64? {
        do {
            let revision = try await body()
            OperatorMetrics.kv(operation, revision == nil ? "conflict" : "ok")
            return revision
        } catch {
            OperatorMetrics.kv(operation, "error")
            throw error
        }
    }

    /// Read, change, write with compare-and-set, and again on a lost race, until the change
    /// applies or `transform` declines (returns nil: nothing to write). `transform` receives the
    /// current document (nil if there is none) and must be free of side effects.
    @discardableResult
    public func modify<Document: StateDocument>(
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
            operation: "modify \(backend.name)/\(key)",
            message: "gave up after \(attempts) lost compare-and-set races; the entry is written too often"
        )
    }

    public func delete(key: String, revision: UInt64) async throws -> Bool {
        let deleted = try await backend.delete(key, expectedRevision: revision)
        OperatorMetrics.kv("delete", deleted ? "ok" : "conflict")
        return deleted
    }

    /// Keys with `prefix` (e.g. `status.public.`).
    public func keys(prefix: String = "") async throws -> [String] {
        try await backend.keys().filter { $0.hasPrefix(prefix) }.sorted()
    }
}
