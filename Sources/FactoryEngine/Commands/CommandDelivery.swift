/// One delivery of a command message, as the processor sees it.
public struct CommandDelivery: Sendable {
    public var payload: [UInt8]
    /// `Nats-Msg-Id`, if the publisher set one: the command's identity across re-publishes.
    public var messageID: String?
    public var streamSequence: UInt64
    /// 1 for the first delivery.
    public var deliveryCount: Int
    public var subject: String

    public init(payload: [UInt8], messageID: String?, streamSequence: UInt64, deliveryCount: Int, subject: String) {
        self.payload = payload
        self.messageID = messageID
        self.streamSequence = streamSequence
        self.deliveryCount = deliveryCount
        self.subject = subject
    }

    /// The command's identity: its message id, or its stream sequence without one.
    public var commandID: String {
        if let messageID, !messageID.isEmpty { return messageID }
        return "seq-\(streamSequence)"
    }
}

/// What becomes of a command message.
public enum CommandDisposition: Sendable, Hashable {
    /// Done: what it caused is recorded (or there was nothing to do). Acknowledge.
    case ack
    /// Not now: redeliver after `delay`.
    case nak(delay: Duration)
    /// Never: refused or given up, with the reason recorded in status and dead letters.
    case term
    /// Another replica owns this command now: neither acknowledge nor nak (the late-ack hazard).
    case abandon
}

/// The processor's answer: the disposition and a word for logs and metrics.
public struct CommandResult: Sendable, Hashable {
    public var disposition: CommandDisposition
    /// `triggered`, `unchanged`, `duplicate`, `superseded`, `deleted`, `waiting`, `retrying`,
    /// `refused`, `failed`, `gaveUp`, `lostOwnership`, `nothingToDelete`.
    public var outcome: String
    public var detail: String

    public init(_ disposition: CommandDisposition, _ outcome: String, _ detail: String = "") {
        self.disposition = disposition
        self.outcome = outcome
        self.detail = detail
    }
}
