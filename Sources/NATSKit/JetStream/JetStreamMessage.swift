import Foundation
import Synchronization

/// A message fetched from a JetStream consumer, to be acknowledged once.
///
/// `ack`, `nak` and `term` settle the message; a second settling call is an
/// `alreadyAcknowledged` error rather than a silent no-op. `inProgress` only extends the ack
/// wait and may be repeated. The non-waiting calls return once the acknowledgement is buffered
/// for sending; `ackSync` waits for the server's confirmation.
///
/// Beware the late-ack hazard: an ack sent after the ack wait ran out still removes the message
/// from a work-queue stream, even though the server already gave it to another subscriber.
/// Guard side effects with an ownership record (see the operator's state store).
public final class JetStreamMessage: Sendable {
    /// Where the message sits in its stream and consumer, and how often it was delivered.
    public struct Metadata: Sendable, Hashable {
        public var stream: String
        public var consumer: String
        public var streamSequence: UInt64
        public var consumerSequence: UInt64
        /// 1 for a first delivery, more for redeliveries.
        public var deliveryCount: Int
        /// Messages left for the consumer after this one.
        public var pending: UInt64
        /// When the stream stored the message.
        public var timestamp: Date
        public var domain: String?
    }

    public enum Settlement: String, Sendable, Hashable {
        case acked, naked, terminated
    }

    public let subject: String
    public let headers: NATSHeaders
    public let payload: [UInt8]
    /// Nil only if the server sent a message without JetStream metadata.
    public let metadata: Metadata?

    private let handle: MessageHandle
    private let responses: ResponseMux
    /// The server's acknowledgement subject for this delivery.
    private let replySubject: String?
    private let settlement = Mutex<Settlement?>(nil)

    init(handle: MessageHandle, responses: ResponseMux) {
        self.handle = handle
        self.responses = responses
        let (message, metadata) = handle.copyOut()
        subject = message.subject
        headers = message.headers
        payload = message.payload
        replySubject = message.reply
        self.metadata = metadata
    }

    /// The payload as UTF-8 text (invalid sequences replaced).
    public var string: String { String(decoding: payload, as: UTF8.self) }

    /// How the message was settled, if it was.
    public var settled: Settlement? { settlement.withLock { $0 } }

    /// Acknowledges: the message is done and will not be redelivered.
    public func ack() throws(NATSError) {
        try settle(.acked, .ack, "ack")
    }

    /// Acknowledges and waits until the server has recorded it: after this returns, the message
    /// is not redelivered because of a lost acknowledgement.
    public func ackSync(timeout: Duration = .seconds(5)) async throws(NATSError) {
        let operation = describe("ack (synchronous)")
        guard let replySubject else {
            throw NATSError(code: .illegalState, operation: operation, message: "the message has no acknowledgement subject")
        }
        try claim(.acked, operation)
        do throws(NATSError) {
            // The same exchange as cnats' natsMsg_AckSync: "+ACK" as a request, answered once
            // the server has recorded it.
            _ = try await responses.request(subject: replySubject, headers: NATSHeaders(), payload: Array("+ACK".utf8), timeout: timeout, operation: operation)
        } catch {
            // Not confirmed: leave it unsettled so the caller may try again or nak it.
            settlement.withLock { $0 = nil }
            throw error
        }
    }

    /// Negative acknowledgement: redeliver, at once or after `delay`.
    public func nak(delay: Duration? = nil) throws(NATSError) {
        try settle(.naked, .nak(delay: delay), delay.map { "nak (delay \($0))" } ?? "nak")
    }

    /// Work in progress: restarts the ack wait, holding the message back from redelivery.
    public func inProgress() throws(NATSError) {
        let operation = describe("in-progress")
        if let settled = settled {
            throw NATSError(code: .alreadyAcknowledged, operation: operation, message: "the message was already \(settled.rawValue)")
        }
        try handle.acknowledge(.inProgress, operation: operation)
    }

    /// Terminates: never redeliver (for messages that can never succeed).
    public func term() throws(NATSError) {
        try settle(.terminated, .term, "term")
    }

    // MARK: - Private

    private func settle(_ outcome: Settlement, _ kind: MessageHandle.Acknowledgement, _ name: String) throws(NATSError) {
        let operation = describe(name)
        try claim(outcome, operation)
        do {
            try handle.acknowledge(kind, operation: operation)
        } catch {
            settlement.withLock { $0 = nil }
            throw error
        }
    }

    private func claim(_ outcome: Settlement, _ operation: String) throws(NATSError) {
        let previous = settlement.withLock { current -> Settlement? in
            if let current { return current }
            current = outcome
            return nil
        }
        if let previous {
            throw NATSError(code: .alreadyAcknowledged, operation: operation, message: "the message was already \(previous.rawValue)")
        }
    }

    private func describe(_ name: String) -> String {
        if let metadata {
            return "\(name) of message \(metadata.streamSequence) of stream \(metadata.stream)"
        }
        return "\(name) of a message on \(subject)"
    }
}
