import Foundation

/// A key-value bucket's configuration. Decodes from JSON files in `streams/kv/` with the keys
/// `bucket`, `description`, `history`, `ttl` (nanoseconds), `max_bytes`, `max_value_size`,
/// `storage` (`file` or `memory`) and `replicas`.
public struct KeyValueConfiguration: Sendable, Hashable, Codable {
    public var bucket: String
    public var description: String?
    /// Revisions kept per key (1 to 64).
    public var history: Int
    /// Entries older than this disappear (nil: never). Leader election uses this.
    public var ttl: Duration?
    /// -1: no limit.
    public var maxBytes: Int64
    /// -1: no limit.
    public var maxValueSize: Int32
    public var storage: StreamConfiguration.Storage
    public var replicas: Int

    public init(
        bucket: String,
        description: String? = nil,
        history: Int = 1,
        ttl: Duration? = nil,
        maxBytes: Int64 = -1,
        maxValueSize: Int32 = -1,
        storage: StreamConfiguration.Storage = .file,
        replicas: Int = 1
    ) {
        self.bucket = bucket
        self.description = description
        self.history = history
        self.ttl = ttl
        self.maxBytes = maxBytes
        self.maxValueSize = maxValueSize
        self.storage = storage
        self.replicas = replicas
    }

    /// Loads a bucket configuration from a JSON file.
    public static func load(from file: URL) throws -> KeyValueConfiguration {
        try JetStreamConfigurationFile.decode(KeyValueConfiguration.self, from: file)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case bucket, description, history, ttl
        case maxBytes = "max_bytes"
        case maxValueSize = "max_value_size"
        case storage, replicas
    }

    public init(from decoder: any Decoder) throws {
        try JetStreamConfigurationFile.checkKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), tolerated: [:], kind: "key-value bucket")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        bucket = try container.decode(String.self, forKey: .bucket)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        history = try container.decodeIfPresent(Int.self, forKey: .history) ?? 1
        ttl = try container.decodeNanoseconds(forKey: .ttl)
        maxBytes = try container.decodeIfPresent(Int64.self, forKey: .maxBytes) ?? -1
        maxValueSize = try container.decodeIfPresent(Int32.self, forKey: .maxValueSize) ?? -1
        storage = try container.decodeIfPresent(StreamConfiguration.Storage.self, forKey: .storage) ?? .file
        replicas = try container.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bucket, forKey: .bucket)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(history, forKey: .history)
        try container.encode(ttl?.wholeNanoseconds ?? 0, forKey: .ttl)
        try container.encode(maxBytes, forKey: .maxBytes)
        try container.encode(maxValueSize, forKey: .maxValueSize)
        try container.encode(storage, forKey: .storage)
        try container.encode(replicas, forKey: .replicas)
    }
}

/// One revision of a key.
public struct KeyValueEntry: Sendable, Hashable {
    public enum Operation: String, Sendable, Hashable {
        case put, delete, purge
    }

    public var bucket: String
    public var key: String
    public var value: [UInt8]
    /// The entry's revision: the bucket stream's sequence. Compare-and-set uses it.
    public var revision: UInt64
    public var created: Date
    /// How many revisions are newer than this one (in watches and history).
    public var delta: UInt64
    public var operation: Operation

    public var string: String { String(decoding: value, as: UTF8.self) }
}

/// A bucket's state.
public struct KeyValueStatus: Sendable, Hashable {
    public var bucket: String
    /// Stored entries, every revision and marker included.
    public var values: UInt64
    public var history: Int
    public var ttl: Duration?
    public var replicas: Int
}

/// What a watch reports.
public enum KeyValueWatchEvent: Sendable, Hashable {
    /// A key's current value (first, for every matching key) or a later change.
    case entry(KeyValueEntry)
    /// Every value that existed when the watch started has been reported; changes follow.
    case initialValuesDone
}

/// Options for a watch.
public struct KeyValueWatchOptions: Sendable, Hashable {
    /// Skip delete and purge markers.
    public var ignoreDeletes: Bool
    /// Report every stored revision first, not only the latest.
    public var includeHistory: Bool
    /// Report keys and revisions without values.
    public var metaOnly: Bool
    /// Only changes after now; no initial values.
    public var updatesOnly: Bool

    public init(ignoreDeletes: Bool = false, includeHistory: Bool = false, metaOnly: Bool = false, updatesOnly: Bool = false) {
        self.ignoreDeletes = ignoreDeletes
        self.includeHistory = includeHistory
        self.metaOnly = metaOnly
        self.updatesOnly = updatesOnly
    }
}
