import Foundation

/// A JetStream stream's configuration, in the JSON format of the NATS CLI
/// (`nats stream add --config FILE`) and the JetStream API: snake_case keys, durations in
/// nanoseconds.
///
/// Keys that cnats 3.4.1 cannot apply (mirrors, sources, placement, republish, compression,
/// subject transforms, message TTLs, metadata) are refused with an error naming them when they
/// carry a non-default value, so a file never means more than what gets provisioned.
public struct StreamConfiguration: Sendable, Hashable, Codable {
    public enum Retention: String, Sendable, Hashable, Codable {
        case limits, interest, workqueue
    }

    public enum Storage: String, Sendable, Hashable, Codable {
        case file, memory
    }

    public enum Discard: String, Sendable, Hashable, Codable {
        case old, new
    }

    public var name: String
    public var description: String?
    public var subjects: [String]
    public var retention: Retention
    public var maxConsumers: Int
    public var maxMessages: Int64
    public var maxBytes: Int64
    /// nil: no age limit.
    public var maxAge: Duration?
    public var maxMessagesPerSubject: Int64
    public var maxMessageSize: Int32
    public var discard: Discard
    public var storage: Storage
    public var replicas: Int
    public var noAck: Bool
    /// The window in which a repeated `Nats-Msg-Id` is dropped.
    public var duplicateWindow: Duration?
    public var sealed: Bool
    public var denyDelete: Bool
    public var denyPurge: Bool
    public var allowRollup: Bool
    public var allowDirect: Bool
    public var discardNewPerSubject: Bool

    public init(
        name: String,
        description: String? = nil,
        subjects: [String],
        retention: Retention = .limits,
        maxConsumers: Int = -1,
        maxMessages: Int64 = -1,
        maxBytes: Int64 = -1,
        maxAge: Duration? = nil,
        maxMessagesPerSubject: Int64 = -1,
        maxMessageSize: Int32 = -1,
        discard: Discard = .old,
        storage: Storage = .file,
        replicas: Int = 1,
        noAck: Bool = false,
        duplicateWindow: Duration? = nil,
        sealed: Bool = false,
        denyDelete: Bool = false,
        denyPurge: Bool = false,
        allowRollup: Bool = false,
        allowDirect: Bool = false,
        discardNewPerSubject: Bool = false
    ) {
        self.name = name
        self.description = description
        self.subjects = subjects
        self.retention = retention
        self.maxConsumers = maxConsumers
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.maxMessagesPerSubject = maxMessagesPerSubject
        self.maxMessageSize = maxMessageSize
        self.discard = discard
        self.storage = storage
        self.replicas = replicas
        self.noAck = noAck
        self.duplicateWindow = duplicateWindow
        self.sealed = sealed
        self.denyDelete = denyDelete
        self.denyPurge = denyPurge
        self.allowRollup = allowRollup
        self.allowDirect = allowDirect
        self.discardNewPerSubject = discardNewPerSubject
    }

    /// Loads a stream configuration from a NATS CLI JSON file.
    public static func load(from file: URL) throws -> StreamConfiguration {
        try JetStreamConfigurationFile.decode(StreamConfiguration.self, from: file)
    }

    // MARK: - Codable

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, subjects, retention
        case maxConsumers = "max_consumers"
        case maxMessages = "max_msgs"
        case maxBytes = "max_bytes"
        case maxAge = "max_age"
        case maxMessagesPerSubject = "max_msgs_per_subject"
        case maxMessageSize = "max_msg_size"
        case discard, storage
        case replicas = "num_replicas"
        case noAck = "no_ack"
        case duplicateWindow = "duplicate_window"
        case sealed
        case denyDelete = "deny_delete"
        case denyPurge = "deny_purge"
        case allowRollup = "allow_rollup_hdrs"
        case allowDirect = "allow_direct"
        case discardNewPerSubject = "discard_new_per_subject"
    }

    /// Keys the CLI writes that carry nothing when at their default value.
    static let tolerated: [String: JetStreamConfigurationFile.Tolerance] = [
        "template_owner": .emptyOrAbsent,
        "mirror_direct": .falseOrAbsent,
        "compression": .oneOf(["none", ""]),
        "first_seq": .zeroOrAbsent,
        "allow_msg_ttl": .falseOrAbsent,
        "subject_delete_marker_ttl": .zeroOrAbsent,
        "consumer_limits": .emptyOrAbsent,
        "metadata": .emptyOrAbsent,
        "mirror": .emptyOrAbsent,
        "sources": .emptyOrAbsent,
        "placement": .emptyOrAbsent,
        "republish": .emptyOrAbsent,
        "subject_transform": .emptyOrAbsent,
        "allow_msg_counter": .falseOrAbsent,
        "allow_atomic": .falseOrAbsent,
        "allow_msg_schedules": .falseOrAbsent,
    ]

    public init(from decoder: any Decoder) throws {
        try JetStreamConfigurationFile.checkKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), tolerated: Self.tolerated, kind: "stream")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        subjects = try container.decodeIfPresent([String].self, forKey: .subjects) ?? []
        retention = try container.decodeIfPresent(Retention.self, forKey: .retention) ?? .limits
        maxConsumers = try container.decodeIfPresent(Int.self, forKey: .maxConsumers) ?? -1
        maxMessages = try container.decodeIfPresent(Int64.self, forKey: .maxMessages) ?? -1
        maxBytes = try container.decodeIfPresent(Int64.self, forKey: .maxBytes) ?? -1
        maxAge = try container.decodeNanoseconds(forKey: .maxAge)
        maxMessagesPerSubject = try container.decodeIfPresent(Int64.self, forKey: .maxMessagesPerSubject) ?? -1
        maxMessageSize = try container.decodeIfPresent(Int32.self, forKey: .maxMessageSize) ?? -1
        discard = try container.decodeIfPresent(Discard.self, forKey: .discard) ?? .old
        storage = try container.decodeIfPresent(Storage.self, forKey: .storage) ?? .file
        replicas = try container.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
        noAck = try container.decodeIfPresent(Bool.self, forKey: .noAck) ?? false
        duplicateWindow = try container.decodeNanoseconds(forKey: .duplicateWindow)
        sealed = try container.decodeIfPresent(Bool.self, forKey: .sealed) ?? false
        denyDelete = try container.decodeIfPresent(Bool.self, forKey: .denyDelete) ?? false
        denyPurge = try container.decodeIfPresent(Bool.self, forKey: .denyPurge) ?? false
        allowRollup = try container.decodeIfPresent(Bool.self, forKey: .allowRollup) ?? false
        allowDirect = try container.decodeIfPresent(Bool.self, forKey: .allowDirect) ?? false
        discardNewPerSubject = try container.decodeIfPresent(Bool.self, forKey: .discardNewPerSubject) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(subjects, forKey: .subjects)
        try container.encode(retention, forKey: .retention)
        try container.encode(maxConsumers, forKey: .maxConsumers)
        try container.encode(maxMessages, forKey: .maxMessages)
        try container.encode(maxBytes, forKey: .maxBytes)
        try container.encode(maxAge?.wholeNanoseconds ?? 0, forKey: .maxAge)
        try container.encode(maxMessagesPerSubject, forKey: .maxMessagesPerSubject)
        try container.encode(maxMessageSize, forKey: .maxMessageSize)
        try container.encode(discard, forKey: .discard)
        try container.encode(storage, forKey: .storage)
        try container.encode(replicas, forKey: .replicas)
        try container.encode(noAck, forKey: .noAck)
        try container.encode(duplicateWindow?.wholeNanoseconds ?? 0, forKey: .duplicateWindow)
        try container.encode(sealed, forKey: .sealed)
        try container.encode(denyDelete, forKey: .denyDelete)
        try container.encode(denyPurge, forKey: .denyPurge)
        try container.encode(allowRollup, forKey: .allowRollup)
        try container.encode(allowDirect, forKey: .allowDirect)
        try container.encode(discardNewPerSubject, forKey: .discardNewPerSubject)
    }
}
