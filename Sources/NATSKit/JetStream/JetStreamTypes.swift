import Foundation

/// A stream's configuration and current state, as the server reports them.
public struct StreamInfo: Sendable, Hashable {
    public var configuration: StreamConfiguration
    public var created: Date
    public var state: State

    public struct State: Sendable, Hashable {
        public var messages: UInt64
        public var bytes: UInt64
        public var firstSequence: UInt64
        public var lastSequence: UInt64
        public var consumerCount: Int
        public var subjectCount: Int
    }
}

/// A consumer's configuration and current state.
public struct ConsumerInfo: Sendable, Hashable {
    public var stream: String
    public var name: String
    public var configuration: ConsumerConfiguration
    public var created: Date
    /// Last delivered consumer and stream sequences.
    public var delivered: SequencePair
    /// Everything at or below these sequences is acknowledged.
    public var ackFloor: SequencePair
    /// Delivered and not yet acknowledged.
    public var pendingAcks: Int
    public var redelivered: Int
    /// Pull requests waiting at the server.
    public var waitingPulls: Int
    /// Messages in the stream not yet delivered to this consumer.
    public var pendingMessages: UInt64

    public struct SequencePair: Sendable, Hashable {
        public var consumer: UInt64
        public var stream: UInt64
    }
}

/// Conditions a JetStream publish must meet, and its de-duplication id.
public struct JetStreamPublishOptions: Sendable, Hashable {
    /// `Nats-Msg-Id`: a repeated id inside the stream's duplicate window is stored once.
    public var messageID: String?
    /// The stream that must store the message.
    public var expectedStream: String?
    /// The stream's last message id must be this one.
    public var expectedLastMessageID: String?
    /// The stream's last sequence must be this one.
    public var expectedLastSequence: UInt64?
    /// The last sequence on this subject must be this one (0: no message on the subject yet).
    public var expectedLastSubjectSequence: UInt64?
    /// How long to wait for the stream's acknowledgement (default: the context's timeout).
    public var timeout: Duration?

    public init(
        messageID: String? = nil,
        expectedStream: String? = nil,
        expectedLastMessageID: String? = nil,
        expectedLastSequence: UInt64? = nil,
        expectedLastSubjectSequence: UInt64? = nil,
        timeout: Duration? = nil
    ) {
        self.messageID = messageID
        self.expectedStream = expectedStream
        self.expectedLastMessageID = expectedLastMessageID
        self.expectedLastSequence = expectedLastSequence
        self.expectedLastSubjectSequence = expectedLastSubjectSequence
        self.timeout = timeout
    }
}

/// The stream's acknowledgement of a publish.
public struct JetStreamPublishAck: Sendable, Hashable {
    public var stream: String
    public var sequence: UInt64
    /// True when the message id was seen inside the duplicate window: nothing new was stored
    /// and `sequence` is the original's.
    public var duplicate: Bool
    public var domain: String?
}

/// A message read directly from a stream by sequence.
public struct JetStreamStoredMessage: Sendable, Hashable {
    public var stream: String
    public var sequence: UInt64
    public var subject: String
    public var headers: NATSHeaders
    public var payload: [UInt8]
    public var time: Date
}

/// Options for a JetStream context.
public struct JetStreamOptions: Sendable, Hashable {
    /// The JetStream domain, for leaf-node setups.
    public var domain: String?
    /// The API prefix (default `$JS.API`), for cross-account imports.
    public var apiPrefix: String?
    /// How long JetStream API calls (and publish acknowledgements) may take.
    public var timeout: Duration

    public init(domain: String? = nil, apiPrefix: String? = nil, timeout: Duration = .seconds(5)) {
        self.domain = domain
        self.apiPrefix = apiPrefix
        self.timeout = timeout
    }
}
