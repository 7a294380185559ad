import NATSKit

/// One stored value and its revision.
public struct StoredEntry: Sendable, Hashable {
    public var value: [UInt8]
    public var revision: UInt64

    public init(value: [UInt8], revision: UInt64) {
        self.value = value
        self.revision = revision
    }
}

/// Where the state lives: keys, values and revisions, with compare-and-set. The production
/// backend is a JetStream KV bucket (``KeyValueStateBackend``); the engine's test kit has an
/// in-memory one with the same semantics, so the command protocol is tested without a server.
///
/// Semantics (those of JetStream KV):
/// - every write gives the entry a new revision, greater than any before in the bucket;
/// - `create` succeeds only when the key has no value (never written, or deleted);
/// - `update` succeeds only when the entry is still at `expectedRevision`;
/// - `delete` at a revision removes the value if it is still at that revision.
public protocol StateBackend: Sendable {
    /// The bucket's name, for messages.
    var name: String { get }
    func get(_ key: String) async throws -> StoredEntry?
    /// Nil when the key has a value already.
    func create(_ key: String, _ value: [UInt8]) async throws -> UInt64?
    /// Nil when the entry is no longer at `expectedRevision`.
    func update(_ key: String, _ value: [UInt8], expectedRevision: UInt64) async throws -> UInt64?
    /// False when the entry is no longer at `expectedRevision`.
    func delete(_ key: String, expectedRevision: UInt64) async throws -> Bool
    /// Every key with a value.
    func keys() async throws -> [String]
    /// Drops what deletes left behind, older than `age`.
    func purgeDeleteMarkers(olderThan age: Duration) async throws
    /// Whether the store answers now (readiness).
    func isReachable() async -> Bool
}

/// The state in a JetStream KV bucket.
public struct KeyValueStateBackend: StateBackend {
    public let bucket: KeyValueBucket

    public init(bucket: KeyValueBucket) {
        self.bucket = bucket
    }

    public var name: String { bucket.name }

    public func get(_ key: String) async throws -> StoredEntry? {
        try await bucket.get(key).map { StoredEntry(value: $0.value, revision: $0.revision) }
    }

    public func create(_ key: String, _ value: [UInt8]) async throws -> UInt64? {
        do {
            return try await bucket.create(key, value)
        } catch where error.code == .keyExists {
            return nil
        }
    }

    public func update(_ key: String, _ value: [UInt8], expectedRevision: UInt64) async throws -> UInt64? {
        do {
            return try await bucket.update(key, value, expectedRevision: expectedRevision)
        } catch where error.code == .revisionConflict {
            return nil
        }
    }

    public func delete(_ key: String, expectedRevision: UInt64) async throws -> Bool {
        do {
            try await bucket.delete(key, expectedRevision: expectedRevision)
            return true
        } catch where error.code == .revisionConflict {
            return false
        }
    }

    public func keys() async throws -> [String] {
        try await bucket.keys()
    }

    public func purgeDeleteMarkers(olderThan age: Duration) async throws {
        try await bucket.purgeDeleteMarkers(olderThan: age)
    }

    public func isReachable() async -> Bool {
        (try? await bucket.status()) != nil
    }
}
