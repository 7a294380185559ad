import FactoryEngine
import Synchronization

/// A state backend in memory with JetStream KV's compare-and-set semantics (``StateBackend``):
/// revisions grow across the bucket, `create` fails on a key with a value, `update` and `delete`
/// on an entry no longer at the expected revision. Faults can be injected per operation.
public final class InMemoryStateBackend: StateBackend, Sendable {
    public enum Operation: Sendable, Hashable {
        case get, create, update, delete, keys
    }

    /// The error injected faults throw.
    public struct InjectedFault: Error, CustomStringConvertible {
        public let operation: Operation
        public let key: String
        public var description: String { "injected fault: \(operation) \(key)" }
    }

    private struct State {
        var entries: [String: StoredEntry] = [:]
        var revision: UInt64 = 0
        /// Remaining faults by operation; a key filter of nil matches every key.
        var faults: [(operation: Operation, key: String?, remaining: Int)] = []
        /// Called before a write lands (to interleave another writer, as a race would).
        var beforeWrite: (@Sendable (Operation, String) -> Void)?
        var writes = 0
    }

    public let name: String
    private let state = Mutex(State())

    public init(name: String = "memory") {
        self.name = name
    }

    /// The next `count` calls of `operation` (on `key`, or any key) throw ``InjectedFault``.
    public func failNext(_ operation: Operation, key: String? = nil, count: Int = 1) {
        state.withLock { $0.faults.append((operation, key, count)) }
    }

    /// Runs `hook` before every write, outside the lock: a hook may write itself.
    public func beforeWrite(_ hook: (@Sendable (Operation, String) -> Void)?) {
        state.withLock { $0.beforeWrite = hook }
    }

    /// Writes that landed so far.
    public var writeCount: Int { state.withLock { $0.writes } }

    /// The current value of `key`, for assertions.
    public func value(_ key: String) -> StoredEntry? {
        state.withLock { $0.entries[key] }
    }

    /// Sets a value directly, as another writer (a newer operator, corruption) would.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8]) -> UInt64 {
        state.withLock { state in
            state.revision += 1
            state.entries[key] = StoredEntry(value: value, revision: state.revision)
            return state.revision
        }
    }

    private func check(_ operation: Operation, _ key: String) throws {
        try state.withLock { state in
            guard let index = state.faults.firstIndex(where: { $0.operation == operation && ($0.key == nil || $0.key == key) }) else { return }
            state.faults[index].remaining -= 1
            if state.faults[index].remaining <= 0 { state.faults.remove(at: index) }
            throw InjectedFault(operation: operation, key: key)
        }
    }

    private func hook(_ operation: Operation, _ key: String) {
        state.withLock { $0.beforeWrite }?(operation, key)
    }

    public func get(_ key: String) async throws -> StoredEntry? {
        try check(.get, key)
        return state.withLock { $0.entries[key] }
    }

    public func create(_ key: String, _ value: [UInt8]) async throws -> UInt64? {
        try check(.create, key)
        hook(.create, key)
        return state.withLock { state in
            guard state.entries[key] == nil else { return nil }
            state.revision += 1
            state.writes += 1
            state.entries[key] = StoredEntry(value: value, revision: state.revision)
            return state.revision
        }
    }

    public func update(_ key: String, _ value: [UInt8], expectedRevision: UInt64) async throws -> UInt64? {
        try check(.update, key)
        hook(.update, key)
        return state.withLock { state in
            guard let current = state.entries[key], current.revision == expectedRevision else { return nil }
            state.revision += 1
            state.writes += 1
            state.entries[key] = StoredEntry(value: value, revision: state.revision)
            return state.revision
        }
    }

    public func delete(_ key: String, expectedRevision: UInt64) async throws -> Bool {
        try check(.delete, key)
        hook(.delete, key)
        return state.withLock { state in
            guard let current = state.entries[key], current.revision == expectedRevision else { return false }
            state.revision += 1
            state.writes += 1
            state.entries.removeValue(forKey: key)
            return true
        }
    }

    public func keys() async throws -> [String] {
        try check(.keys, "")
        return state.withLock { Array($0.entries.keys) }
    }

    public func purgeDeleteMarkers(olderThan age: Duration) async throws {}

    public func isReachable() async -> Bool { true }
}
