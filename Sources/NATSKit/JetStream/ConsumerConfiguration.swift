import Foundation

/// A JetStream consumer's configuration, in the JSON format of the NATS CLI
/// (`nats consumer add STREAM --config FILE`): snake_case keys, durations in nanoseconds.
public struct ConsumerConfiguration: Sendable, Hashable, Codable {
    public enum DeliverPolicy: String, Sendable, Hashable, Codable {
        case all, last, new
        case byStartSequence = "by_start_sequence"
        case byStartTime = "by_start_time"
        case lastPerSubject = "last_per_subject"
    }

    public enum AckPolicy: String, Sendable, Hashable, Codable {
        case explicit, none, all
    }

    public enum ReplayPolicy: String, Sendable, Hashable, Codable {
        case instant, original
    }

    /// The durable name: the consumer outlives its subscribers, and replicas share it.
    public var durableName: String?
    public var description: String?
    public var deliverPolicy: DeliverPolicy
    public var optStartSequence: UInt64
    public var ackPolicy: AckPolicy
    /// How long the server waits for an ack before redelivering. With `backoff`, its first
    /// value is the ack wait.
    public var ackWait: Duration?
    /// Deliveries before the server gives up on a message (-1: no limit). Must exceed the
    /// number of `backoff` steps.
    public var maxDeliver: Int
    /// Redelivery delays after ack timeouts, one per redelivery (the last repeats).
    public var backoff: [Duration]
    public var filterSubject: String?
    public var replayPolicy: ReplayPolicy
    /// Pull requests the server keeps waiting at once.
    public var maxWaiting: Int
    /// Messages delivered and not yet acknowledged, across every subscriber.
    public var maxAckPending: Int
    public var maxRequestBatch: Int
    public var maxRequestExpires: Duration?
    public var inactiveThreshold: Duration?
    /// 0: inherit the stream's.
    public var replicas: Int
    public var memoryStorage: Bool
    public var headersOnly: Bool

    public init(
        durableName: String?,
        description: String? = nil,
        deliverPolicy: DeliverPolicy = .all,
        optStartSequence: UInt64 = 0,
        ackPolicy: AckPolicy = .explicit,
        ackWait: Duration? = nil,
        maxDeliver: Int = -1,
        backoff: [Duration] = [],
        filterSubject: String? = nil,
        replayPolicy: ReplayPolicy = .instant,
        maxWaiting: Int = 512,
        maxAckPending: Int = 1000,
        maxRequestBatch: Int = 0,
        maxRequestExpires: Duration? = nil,
        inactiveThreshold: Duration? = nil,
        replicas: Int = 0,
        memoryStorage: Bool = false,
        headersOnly: Bool = false
    ) {
        self.durableName = durableName
        self.description = description
        self.deliverPolicy = deliverPolicy
        self.optStartSequence = optStartSequence
        self.ackPolicy = ackPolicy
        self.ackWait = ackWait
        self.maxDeliver = maxDeliver
        self.backoff = backoff
        self.filterSubject = filterSubject
        self.replayPolicy = replayPolicy
        self.maxWaiting = maxWaiting
        self.maxAckPending = maxAckPending
        self.maxRequestBatch = maxRequestBatch
        self.maxRequestExpires = maxRequestExpires
        self.inactiveThreshold = inactiveThreshold
        self.replicas = replicas
        self.memoryStorage = memoryStorage
        self.headersOnly = headersOnly
    }

    /// Loads a consumer configuration from a NATS CLI JSON file.
    public static func load(from file: URL) throws -> ConsumerConfiguration {
        try JetStreamConfigurationFile.decode(ConsumerConfiguration.self, from: file)
    }

    // MARK: - Codable

    enum CodingKeys: String, CodingKey, CaseIterable {
        case durableName = "durable_name"
        case description
        case deliverPolicy = "deliver_policy"
        case optStartSequence = "opt_start_seq"
        case ackPolicy = "ack_policy"
        case ackWait = "ack_wait"
        case maxDeliver = "max_deliver"
        case backoff
        case filterSubject = "filter_subject"
        case replayPolicy = "replay_policy"
        case maxWaiting = "max_waiting"
        case maxAckPending = "max_ack_pending"
        case maxRequestBatch = "max_batch"
        case maxRequestExpires = "max_expires"
        case inactiveThreshold = "inactive_threshold"
        case replicas = "num_replicas"
        case memoryStorage = "mem_storage"
        case headersOnly = "headers_only"
    }

    static let tolerated: [String: JetStreamConfigurationFile.Tolerance] = [
        "name": .any,  // checked against durable_name below
        "max_bytes": .zeroOrAbsent,
        "metadata": .emptyOrAbsent,
        "filter_subjects": .emptyOrAbsent,
        "sample_freq": .emptyOrAbsent,
        "rate_limit_bps": .zeroOrAbsent,
        "flow_control": .falseOrAbsent,
        "idle_heartbeat": .zeroOrAbsent,
        "deliver_subject": .emptyOrAbsent,
        "deliver_group": .emptyOrAbsent,
        "pause_until": .emptyOrAbsent,
        "priority_groups": .emptyOrAbsent,
        "priority_policy": .oneOf(["none", ""]),
    ]

    public init(from decoder: any Decoder) throws {
        try JetStreamConfigurationFile.checkKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), tolerated: Self.tolerated, kind: "consumer")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        durableName = try container.decodeIfPresent(String.self, forKey: .durableName)
        if durableName == nil {
            // The CLI writes `name` for durables created with it.
            let loose = try decoder.container(keyedBy: JetStreamConfigurationFile.AnyKey.self)
            durableName = try loose.decodeIfPresent(String.self, forKey: JetStreamConfigurationFile.AnyKey("name"))
        }
        description = try container.decodeIfPresent(String.self, forKey: .description)
        deliverPolicy = try container.decodeIfPresent(DeliverPolicy.self, forKey: .deliverPolicy) ?? .all
        optStartSequence = try container.decodeIfPresent(UInt64.self, forKey: .optStartSequence) ?? 0
        ackPolicy = try container.decodeIfPresent(AckPolicy.self, forKey: .ackPolicy) ?? .explicit
        ackWait = try container.decodeNanoseconds(forKey: .ackWait)
        maxDeliver = try container.decodeIfPresent(Int.self, forKey: .maxDeliver) ?? -1
        backoff = (try container.decodeIfPresent([Int64].self, forKey: .backoff) ?? []).map(Duration.fromNanoseconds)
        filterSubject = try container.decodeIfPresent(String.self, forKey: .filterSubject)
        replayPolicy = try container.decodeIfPresent(ReplayPolicy.self, forKey: .replayPolicy) ?? .instant
        maxWaiting = try container.decodeIfPresent(Int.self, forKey: .maxWaiting) ?? 512
        maxAckPending = try container.decodeIfPresent(Int.self, forKey: .maxAckPending) ?? 1000
        maxRequestBatch = try container.decodeIfPresent(Int.self, forKey: .maxRequestBatch) ?? 0
        maxRequestExpires = try container.decodeNanoseconds(forKey: .maxRequestExpires)
        inactiveThreshold = try container.decodeNanoseconds(forKey: .inactiveThreshold)
        replicas = try container.decodeIfPresent(Int.self, forKey: .replicas) ?? 0
        memoryStorage = try container.decodeIfPresent(Bool.self, forKey: .memoryStorage) ?? false
        headersOnly = try container.decodeIfPresent(Bool.self, forKey: .headersOnly) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(durableName, forKey: .durableName)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(deliverPolicy, forKey: .deliverPolicy)
        if optStartSequence > 0 { try container.encode(optStartSequence, forKey: .optStartSequence) }
        try container.encode(ackPolicy, forKey: .ackPolicy)
        try container.encode(ackWait?.wholeNanoseconds ?? 0, forKey: .ackWait)
        try container.encode(maxDeliver, forKey: .maxDeliver)
        if !backoff.isEmpty { try container.encode(backoff.map(\.wholeNanoseconds), forKey: .backoff) }
        try container.encodeIfPresent(filterSubject, forKey: .filterSubject)
        try container.encode(replayPolicy, forKey: .replayPolicy)
        try container.encode(maxWaiting, forKey: .maxWaiting)
        try container.encode(maxAckPending, forKey: .maxAckPending)
        if maxRequestBatch > 0 { try container.encode(maxRequestBatch, forKey: .maxRequestBatch) }
        if let maxRequestExpires { try container.encode(maxRequestExpires.wholeNanoseconds, forKey: .maxRequestExpires) }
        if let inactiveThreshold { try container.encode(inactiveThreshold.wholeNanoseconds, forKey: .inactiveThreshold) }
        try container.encode(replicas, forKey: .replicas)
        if memoryStorage { try container.encode(memoryStorage, forKey: .memoryStorage) }
        if headersOnly { try container.encode(headersOnly, forKey: .headersOnly) }
    }
}
