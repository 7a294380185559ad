import CNATS
import Foundation

/// Owns one cnats key-value store handle (`kvStore *`) and makes every KV call. Every method
/// waits for the server: call them on the blocking executor.
///
/// `@unchecked Sendable`: a kvStore is immutable after creation and cnats makes its calls
/// thread-safe; it is destroyed once, in `deinit`. It holds its JetStream handle, which must
/// outlive it.
final class KeyValueHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let jetStream: JetStreamHandle
    let bucket: String
    /// Whether the bucket's stream answers direct gets (cnats creates buckets that way).
    let allowsDirectGet: Bool

    private init(pointer: OpaquePointer, jetStream: JetStreamHandle, bucket: String) {
        self.pointer = pointer
        self.jetStream = jetStream
        self.bucket = bucket
        var info: UnsafeMutablePointer<jsStreamInfo>? = nil
        var jsError = jsErrCode(rawValue: 0)
        if js_GetStreamInfo(&info, jetStream.pointer, "KV_" + bucket, nil, &jsError) == NATS_OK, let info {
            allowsDirectGet = info.pointee.Config?.pointee.AllowDirect ?? false
            jsStreamInfo_Destroy(info)
        } else {
            allowsDirectGet = false
        }
    }

    deinit {
        kvStore_Destroy(pointer)
    }

    // MARK: - Buckets

    static func createOrUpdate(jetStream: JetStreamHandle, configuration: KeyValueConfiguration) throws(NATSError) -> KeyValueHandle {
        let operation = "create key-value bucket \(configuration.bucket)"
        let arena = CStringArena()
        var config = kvConfig()
        try CError.check(kvConfig_Init(&config), operation)
        config.Bucket = arena.string(configuration.bucket)
        config.Description = arena.string(configuration.description)
        config.History = UInt8(clamping: configuration.history)
        config.TTL = configuration.ttl?.wholeNanoseconds ?? 0
        config.MaxBytes = configuration.maxBytes
        config.MaxValueSize = configuration.maxValueSize
        config.StorageType = configuration.storage == .memory ? js_MemoryStorage : js_FileStorage
        config.Replicas = Int32(configuration.replicas)
        var store: OpaquePointer? = nil
        let status = js_CreateKeyValue(&store, jetStream.pointer, &config)
        if status == NATS_OK, let store {
            return KeyValueHandle(pointer: store, jetStream: jetStream, bucket: configuration.bucket)
        }
        let error = CError.make(status, operation: operation)
        guard error.message.contains("Existing configuration is different") else { throw error }
        // The bucket exists with other limits: update its stream the way cnats creates it, then bind.
        try updateBucketStream(jetStream: jetStream, configuration: configuration, operation: operation)
        return try bind(jetStream: jetStream, bucket: configuration.bucket)
    }

    private static func updateBucketStream(jetStream: JetStreamHandle, configuration: KeyValueConfiguration, operation: String) throws(NATSError) {
        let streamName = "KV_" + configuration.bucket
        var existing: UnsafeMutablePointer<jsStreamInfo>? = nil
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_GetStreamInfo(&existing, jetStream.pointer, streamName, nil, &jsError), operation, jetStreamError: jsError)
        guard let existing, let current = existing.pointee.Config else {
            throw NATSError(code: .notFound, operation: operation, message: "no configuration for stream \(streamName)")
        }
        defer { jsStreamInfo_Destroy(existing) }
        var updated = current.pointee
        let arena = CStringArena()
        updated.Description = arena.string(configuration.description)
        updated.MaxMsgsPerSubject = Int64(configuration.history)
        updated.MaxAge = configuration.ttl?.wholeNanoseconds ?? 0
        // The server refuses a duplicate window longer than the maximum age.
        if updated.MaxAge > 0, updated.Duplicates > updated.MaxAge {
            updated.Duplicates = updated.MaxAge
        }
        updated.MaxBytes = configuration.maxBytes == 0 ? -1 : configuration.maxBytes
        updated.MaxMsgSize = configuration.maxValueSize == 0 ? -1 : configuration.maxValueSize
        updated.Replicas = Int64(configuration.replicas)
        var info: UnsafeMutablePointer<jsStreamInfo>? = nil
        jsError = jsErrCode(rawValue: 0)
        try CError.check(js_UpdateStream(&info, jetStream.pointer, &updated, nil, &jsError), operation + " (update existing bucket)", jetStreamError: jsError)
        if let info { jsStreamInfo_Destroy(info) }
    }

    static func bind(jetStream: JetStreamHandle, bucket: String) throws(NATSError) -> KeyValueHandle {
        var store: OpaquePointer? = nil
        try CError.check(js_KeyValue(&store, jetStream.pointer, bucket), "bind to key-value bucket \(bucket)")
        guard let store else { throw NATSError(code: .notFound, operation: "bind to key-value bucket \(bucket)", message: "no bucket returned") }
        return KeyValueHandle(pointer: store, jetStream: jetStream, bucket: bucket)
    }

    static func delete(jetStream: JetStreamHandle, bucket: String) throws(NATSError) {
        try CError.check(js_DeleteKeyValue(jetStream.pointer, bucket), "delete key-value bucket \(bucket)")
    }

    // MARK: - Entries

    /// The latest value through cnats (for buckets without direct gets).
    func get(_ key: String) throws(NATSError) -> KeyValueEntry? {
        var entry: OpaquePointer? = nil
        let status = kvStore_Get(&entry, pointer, key)
        if status == NATS_NOT_FOUND { return nil }
        try CError.check(status, "get \(bucket)/\(key)")
        guard let entry else { return nil }
        defer { kvEntry_Destroy(entry) }
        return Self.copy(entry)
    }

    func get(_ key: String, revision: UInt64) throws(NATSError) -> KeyValueEntry? {
        var entry: OpaquePointer? = nil
        let status = kvStore_GetRevision(&entry, pointer, key, revision)
        if status == NATS_NOT_FOUND { return nil }
        try CError.check(status, "get \(bucket)/\(key) at revision \(revision)")
        guard let entry else { return nil }
        defer { kvEntry_Destroy(entry) }
        return Self.copy(entry)
    }

    func purge(_ key: String, timeout: Duration) throws(NATSError) {
        var options = kvPurgeOptions()
        try CError.check(kvPurgeOptions_Init(&options), "purge \(bucket)/\(key)")
        options.Timeout = timeout.wholeMilliseconds
        try CError.check(kvStore_Purge(pointer, key, &options), "purge \(bucket)/\(key)")
    }

    func purgeDeletes(olderThan age: Duration?, timeout: Duration) throws(NATSError) {
        var options = kvPurgeOptions()
        try CError.check(kvPurgeOptions_Init(&options), "purge delete markers of \(bucket)")
        options.Timeout = timeout.wholeMilliseconds
        // cnats: a negative age removes every marker; zero keeps its 30-minute default.
        options.DeleteMarkersOlderThan = age.map { $0 <= .zero ? -1 : $0.wholeNanoseconds } ?? -1
        try CError.check(kvStore_PurgeDeletes(pointer, &options), "purge delete markers of \(bucket)")
    }

    /// The keys whose latest entry is a value, in the order the watch delivered them.
    ///
    /// Not `kvStore_Keys`: in cnats 3.4.1 it subtracts the whole time elapsed so far from what is
    /// left of the timeout after every key, so a bucket of a few thousand keys fails with
    /// NATS_TIMEOUT well within the time given (nats.c #916, fixed in 3.11). Same watch, with the
    /// deadline kept here.
    func keys(timeout: Duration) throws(NATSError) -> [String] {
        var latest: [String: KeyValueEntry.Operation] = [:]
        var order: [String] = []
        try gather(pattern: ">", options: KeyValueWatchOptions(metaOnly: true), timeout: timeout, operation: "list keys of \(bucket)") { entry in
            if latest.updateValue(entry.operation, forKey: entry.key) == nil { order.append(entry.key) }
        }
        return order.filter { latest[$0] == .put }
    }

    /// Every kept revision of `key`, oldest first (not `kvStore_History`, for the reason above).
    func history(_ key: String, timeout: Duration) throws(NATSError) -> [KeyValueEntry] {
        var entries: [KeyValueEntry] = []
        try gather(pattern: key, options: KeyValueWatchOptions(includeHistory: true), timeout: timeout, operation: "history of \(bucket)/\(key)") {
            entries.append($0)
        }
        return entries
    }

    /// Watches `pattern` until the watch says the current entries are all delivered, giving each
    /// to `body`; fails with a timeout if that takes longer than `timeout` in all.
    private func gather(
        pattern: String, options: KeyValueWatchOptions, timeout: Duration, operation: String, _ body: (KeyValueEntry) -> Void
    ) throws(NATSError) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let watcher = try KeyValueWatcherHandle.watch(store: self, pattern: pattern, options: options, operation: operation)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw NATSError(code: .timeout, operation: operation, message: "the bucket's entries did not all arrive within \(timeout)")
            }
            switch try watcher.next(timeout: left) {
            case .entry(let entry): body(entry)
            case .initialValuesDone: return
            case .timedOut: continue  // the deadline above decides
            case .stopped: throw CError.make(NATS_ILLEGAL_STATE, operation: operation)
            }
        }
    }

    func status() throws(NATSError) -> KeyValueStatus {
        var status: OpaquePointer? = nil
        try CError.check(kvStore_Status(&status, pointer), "status of \(bucket)")
        guard let status else { throw NATSError(code: .notFound, operation: "status of \(bucket)", message: "no status returned") }
        defer { kvStatus_Destroy(status) }
        let ttl = kvStatus_TTL(status)
        return KeyValueStatus(
            bucket: kvStatus_Bucket(status).map { String(cString: $0) } ?? bucket,
            values: kvStatus_Values(status),
            history: Int(kvStatus_History(status)),
            ttl: ttl > 0 ? .fromNanoseconds(ttl) : nil,
            replicas: Int(kvStatus_Replicas(status))
        )
    }

    static func copy(_ entry: OpaquePointer) -> KeyValueEntry {
        let length = Int(kvEntry_ValueLen(entry))
        var value: [UInt8] = []
        if length > 0, let bytes = kvEntry_Value(entry) {
            value = Array(UnsafeRawBufferPointer(start: bytes, count: length))
        }
        let operation: KeyValueEntry.Operation
        switch kvEntry_Operation(entry) {
        case kvOp_Delete: operation = .delete
        case kvOp_Purge: operation = .purge
        default: operation = .put
        }
        return KeyValueEntry(
            bucket: kvEntry_Bucket(entry).map { String(cString: $0) } ?? "",
            key: kvEntry_Key(entry).map { String(cString: $0) } ?? "",
            value: value,
            revision: kvEntry_Revision(entry),
            created: CConversions.date(nanoseconds: kvEntry_Created(entry)),
            delta: kvEntry_Delta(entry),
            operation: operation
        )
    }
}
