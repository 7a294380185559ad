/// A JetStream key-value bucket. Writes can be compare-and-set on the entry's revision:
/// `create` succeeds only for a new key, `update` only at the expected revision, and a lost
/// race is its own error (`keyExists`, `revisionConflict`), distinct from every failure.
///
/// Reads are not guaranteed to see your own latest write when direct gets hit a lagging
/// replica; compare-and-set writes are always checked by the stream leader.
public final class KeyValueBucket: Sendable {
    let handle: KeyValueHandle
    public let jetStream: JetStreamContext

    init(handle: KeyValueHandle, jetStream: JetStreamContext) {
        self.handle = handle
        self.jetStream = jetStream
    }

    public var name: String { handle.bucket }

    /// The latest value of `key`, or nil if it does not exist or was deleted.
    public func get(_ key: String) async throws(NATSError) -> KeyValueEntry? {
        try NATSNames.validateKey(key, operation: "get from \(name)")
        guard let entry = try await latest(key) else { return nil }
        return entry.operation == .put ? entry : nil
    }

    /// `key` at one revision, or nil if that revision is not `key`'s or no longer kept.
    public func get(_ key: String, revision: UInt64) async throws(NATSError) -> KeyValueEntry? {
        try NATSNames.validateKey(key, operation: "get from \(name)")
        return try await run { store throws(NATSError) in try store.get(key, revision: revision) }
    }

    /// Writes unconditionally. Returns the new revision.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8]) async throws(NATSError) -> UInt64 {
        try NATSNames.validateKey(key, operation: "put to \(name)")
        return try await write(key, value, operation: "put \(name)/\(key)")
    }

    /// Writes only if `key` does not exist (or was deleted). Throws `keyExists` otherwise.
    @discardableResult
    public func create(_ key: String, _ value: [UInt8]) async throws(NATSError) -> UInt64 {
        try NATSNames.validateKey(key, operation: "create in \(name)")
        let operation = "create \(name)/\(key)"
        do throws(NATSError) {
            return try await write(key, value, expectedRevision: 0, operation: operation)
        } catch let error where error.code == .revisionConflict {
            // The latest entry may be a delete or purge marker: then the key is free, at the
            // marker's revision (as cnats' kvStore_Create does).
            if let latest = try await latest(key), latest.operation != .put {
                do throws(NATSError) {
                    return try await write(key, value, expectedRevision: latest.revision, operation: operation)
                } catch let retry where retry.code == .revisionConflict {
                    throw Self.keyExists(operation)
                }
            }
            throw Self.keyExists(operation)
        }
    }

    /// Writes only if `key` is still at `expectedRevision`. Throws `revisionConflict` otherwise.
    @discardableResult
    public func update(_ key: String, _ value: [UInt8], expectedRevision: UInt64) async throws(NATSError) -> UInt64 {
        try NATSNames.validateKey(key, operation: "update in \(name)")
        let operation = "update \(name)/\(key) at revision \(expectedRevision)"
        guard expectedRevision > 0 else {
            throw .invalidArgument("an update needs the revision read before it (> 0); use create for a new key", operation: operation)
        }
        return try await write(key, value, expectedRevision: expectedRevision, operation: operation)
    }

    /// Marks `key` deleted (history is kept until purged). With `expectedRevision`, only if the
    /// key is still at that revision (throws `revisionConflict` otherwise).
    public func delete(_ key: String, expectedRevision: UInt64? = nil) async throws(NATSError) {
        try NATSNames.validateKey(key, operation: "delete from \(name)")
        let operation = expectedRevision.map { "delete \(name)/\(key) at revision \($0)" } ?? "delete \(name)/\(key)"
        var headers = NATSHeaders()
        headers["KV-Operation"] = "DEL"
        try await write(key, [], headers: headers, expectedRevision: expectedRevision, operation: operation)
    }

    /// Removes every revision of `key`, leaving one purge marker.
    public func purge(_ key: String, timeout: Duration = .seconds(5)) async throws(NATSError) {
        try NATSNames.validateKey(key, operation: "purge from \(name)")
        try await run { store throws(NATSError) in try store.purge(key, timeout: timeout) }
    }

    /// Removes the delete and purge markers older than `age` (nil or zero: all of them), and
    /// with them the keys' remaining history.
    public func purgeDeleteMarkers(olderThan age: Duration? = nil, timeout: Duration = .seconds(30)) async throws(NATSError) {
        try await run { store throws(NATSError) in try store.purgeDeletes(olderThan: age, timeout: timeout) }
    }

    /// Every key with a current value.
    public func keys(timeout: Duration = .seconds(30)) async throws(NATSError) -> [String] {
        try await run { store throws(NATSError) in try store.keys(timeout: timeout) }
    }

    /// Every kept revision of `key`, oldest first.
    public func history(_ key: String, timeout: Duration = .seconds(10)) async throws(NATSError) -> [KeyValueEntry] {
        try NATSNames.validateKey(key, operation: "history of \(name)")
        return try await run { store throws(NATSError) in try store.history(key, timeout: timeout) }
    }

    public func status() async throws(NATSError) -> KeyValueStatus {
        try await run { store throws(NATSError) in try store.status() }
    }

    /// Watches keys matching `pattern` (`*` for one token, a final `>` for the rest): first
    /// the current values, then `initialValuesDone`, then every change, until the task is
    /// cancelled or the watcher is stopped.
    public func watch(_ pattern: String = ">", options: KeyValueWatchOptions = KeyValueWatchOptions()) async throws(NATSError) -> KeyValueWatcher {
        try NATSNames.validateKey(pattern, wildcards: true, operation: "watch \(name)")
        let watcher = try await run { store throws(NATSError) -> KeyValueWatcherHandle in
            try KeyValueWatcherHandle.watch(store: store, pattern: pattern, options: options)
        }
        return KeyValueWatcher(handle: watcher, updatesOnly: options.updatesOnly)
    }

    // MARK: - Reads and writes without a blocked thread (KV ADR-8 over the connection's mux)

    /// The latest entry of `key`, delete and purge markers included.
    private func latest(_ key: String) async throws(NATSError) -> KeyValueEntry? {
        let operation = "get \(name)/\(key)"
        guard handle.allowsDirectGet, jetStream.options.domain == nil, jetStream.options.apiPrefix == nil else {
            return try await run { store throws(NATSError) in try store.get(key) }
        }
        do throws(NATSError) {
            let reply = try await jetStream.connection.responses.request(
                subject: "$JS.API.DIRECT.GET.KV_\(name).$KV.\(name).\(key)",
                headers: NATSHeaders(),
                payload: [],
                timeout: jetStream.options.timeout,
                operation: operation
            )
            return try JetStreamWire.decodeDirectGet(reply, bucket: name, operation: operation)
        } catch let error where error.code == .noResponders {
            throw NATSError(code: .notFound, operation: operation, message: "bucket \(name) does not exist (or JetStream is not ready)")
        }
    }

    /// Publishes to the key's subject, optionally only at `expectedRevision` (0: no entry yet).
    @discardableResult
    private func write(
        _ key: String,
        _ value: [UInt8],
        headers: NATSHeaders = NATSHeaders(),
        expectedRevision: UInt64? = nil,
        operation: String
    ) async throws(NATSError) -> UInt64 {
        let subject = "$KV.\(name).\(key)"
        let reply: NATSMessage
        do throws(NATSError) {
            try jetStream.connection.checkOpen(operation)
            reply = try await jetStream.connection.responses.request(
                subject: subject,
                headers: JetStreamWire.publishHeaders(headers, options: JetStreamPublishOptions(expectedLastSubjectSequence: expectedRevision)),
                payload: value,
                timeout: jetStream.options.timeout,
                operation: operation
            )
        } catch let error where error.code == .noResponders {
            throw NATSError(code: .notFound, operation: operation, message: "bucket \(name) does not exist (or JetStream is not ready)")
        }
        do throws(NATSError) {
            return try JetStreamWire.decodePublishAck(reply, subject: subject, operation: operation).sequence
        } catch let error where error.code == .revisionConflict {
            throw NATSError(
                code: .revisionConflict,
                operation: operation,
                message: "the entry changed since revision \(expectedRevision ?? 0) (\(error.message)); read it again and retry",
                jetStreamErrorCode: 10071
            )
        }
    }

    private static func keyExists(_ operation: String) -> NATSError {
        NATSError(code: .keyExists, operation: operation, message: "the key already exists", jetStreamErrorCode: 10071)
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (KeyValueHandle) throws(NATSError) -> T) async throws(NATSError) -> T {
        let handle = self.handle
        return try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> T in try body(handle) }
    }
}

/// The events of a watch as an async sequence. See `KeyValueBucket.watch(_:options:)`.
public struct KeyValueWatcher: AsyncSequence, Sendable {
    public typealias Element = KeyValueWatchEvent
    public typealias Failure = NATSError

    let handle: KeyValueWatcherHandle
    let updatesOnly: Bool

    /// Ends the watch; a blocked `next` returns nil promptly.
    public func stop() {
        handle.stop()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: handle, skipping: updatesOnly)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let handle: KeyValueWatcherHandle
        /// With `updatesOnly`, initial values are skipped until the marker.
        var skipping: Bool

        public mutating func next() async throws(NATSError) -> KeyValueWatchEvent? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(NATSError) -> KeyValueWatchEvent? {
            let handle = self.handle
            while true {
                if Task.isCancelled {
                    handle.stop()
                    return nil
                }
                // Short waits so that cancellation is noticed within half a second.
                let result = await withTaskCancellationHandler {
                    do throws(NATSError) {
                        return Result<KeyValueWatcherHandle.Next, NATSError>.success(
                            try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> KeyValueWatcherHandle.Next in
                                try handle.next(timeout: .milliseconds(500))
                            }
                        )
                    } catch {
                        return .failure(error)
                    }
                } onCancel: {
                    handle.stop()
                }
                let next = try result.get()
                switch next {
                case .entry(let entry):
                    if skipping { continue }
                    return .entry(entry)
                case .initialValuesDone:
                    if skipping {
                        skipping = false
                        continue
                    }
                    return .initialValuesDone
                case .timedOut:
                    continue
                case .stopped:
                    return nil
                }
            }
        }
    }
}
