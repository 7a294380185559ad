import CNATS

/// Owns one cnats KV watcher (`kvWatcher *`). cnats 3.4.1 watchers are pull-only: `next` blocks
/// up to its timeout, so it runs on the blocking executor; `stop` may be called from any thread
/// and wakes a blocked `next`.
///
/// `@unchecked Sendable`: cnats locks the watcher internally; it is destroyed once, in `deinit`.
final class KeyValueWatcherHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let store: KeyValueHandle
    let pattern: String
    /// What errors name as the failed operation.
    let operation: String

    private init(pointer: OpaquePointer, store: KeyValueHandle, pattern: String, operation: String) {
        self.pointer = pointer
        self.store = store
        self.pattern = pattern
        self.operation = operation
    }

    deinit {
        kvWatcher_Destroy(pointer)
    }

    /// - Parameter operation: what errors name as the failed operation; by default
    ///   "watch <bucket>/<pattern>".
    static func watch(store: KeyValueHandle, pattern: String, options: KeyValueWatchOptions, operation: String? = nil) throws(NATSError) -> KeyValueWatcherHandle {
        let operation = operation ?? "watch \(store.bucket)/\(pattern)"
        var watchOptions = kvWatchOptions()
        try CError.check(kvWatchOptions_Init(&watchOptions), operation)
        watchOptions.IgnoreDeletes = options.ignoreDeletes
        watchOptions.IncludeHistory = options.includeHistory
        watchOptions.MetaOnly = options.metaOnly
        var watcher: OpaquePointer? = nil
        try CError.check(kvStore_Watch(&watcher, store.pointer, pattern, &watchOptions), operation)
        guard let watcher else { throw NATSError(code: .unknown, operation: operation, message: "no watcher returned") }
        return KeyValueWatcherHandle(pointer: watcher, store: store, pattern: pattern, operation: operation)
    }

    enum Next {
        case entry(KeyValueEntry)
        case initialValuesDone
        case timedOut
        case stopped
    }

    func next(timeout: Duration) throws(NATSError) -> Next {
        var entry: OpaquePointer? = nil
        let status = kvWatcher_Next(&entry, pointer, max(1, timeout.wholeMilliseconds))
        switch status {
        case NATS_OK:
            guard let entry else { return .initialValuesDone }
            defer { kvEntry_Destroy(entry) }
            return .entry(KeyValueHandle.copy(entry))
        case NATS_TIMEOUT:
            return .timedOut
        case NATS_ILLEGAL_STATE:
            return .stopped
        default:
            throw CError.make(status, operation: operation)
        }
    }

    func stop() {
        _ = kvWatcher_Stop(pointer)
    }

    /// cnats keeps per-thread memory; a thread that is about to exit gives it back.
    static func releaseThreadMemory() {
        nats_ReleaseThreadMemory()
    }
}
