import CNATS
import Foundation
import Synchronization

/// Owns one cnats pull subscription bound to an existing durable consumer.
///
/// `@unchecked Sendable`: cnats subscriptions are thread-safe; the pointer never changes and is
/// destroyed once, in `deinit`. Fetched messages hold this handle, because each `natsMsg` keeps a
/// raw pointer to its subscription for acknowledgements.
final class PullSubscriptionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let jetStream: JetStreamHandle
    let stream: String
    let consumer: String

    private init(pointer: OpaquePointer, jetStream: JetStreamHandle, stream: String, consumer: String) {
        self.pointer = pointer
        self.jetStream = jetStream
        self.stream = stream
        self.consumer = consumer
    }

    deinit {
        jetStream.connection.unregister(ObjectIdentifier(self))
        // Destroy does not delete a bound durable consumer (cnats >= 3.4.0).
        let handle = SendablePointer(pointer: pointer)
        BlockingExecutor.shared.submit { natsSubscription_Destroy(handle.pointer) }
    }

    /// Binds to the durable `consumer` of `stream`; fails if it does not exist.
    static func bind(jetStream: JetStreamHandle, stream: String, consumer: String) throws(NATSError) -> PullSubscriptionHandle {
        let operation = "bind to consumer \(consumer) of stream \(stream)"
        let arena = CStringArena()
        var options = jsSubOptions()
        try CError.check(jsSubOptions_Init(&options), operation)
        options.Stream = arena.string(stream)
        options.Consumer = arena.string(consumer)
        options.ManualAck = true
        var subscription: OpaquePointer? = nil
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_PullSubscribe(&subscription, jetStream.pointer, nil, nil, nil, &options, &jsError), operation, jetStreamError: jsError)
        guard let subscription else { throw NATSError(code: .unknown, operation: operation, message: "no subscription returned") }
        let handle = PullSubscriptionHandle(pointer: subscription, jetStream: jetStream, stream: stream, consumer: consumer)
        jetStream.connection.register(handle)
        return handle
    }

    /// Stops the subscription; the durable consumer stays (it was bound, not created here).
    func unsubscribe() {
        _ = natsSubscription_Unsubscribe(pointer)
    }

    /// Fetches up to `batch` messages, waiting at most `timeout` for the first. Returns an empty
    /// array when none arrived in time.
    func fetch(batch: Int, timeout: Duration) throws(NATSError) -> [MessageHandle] {
        let operation = "fetch from consumer \(consumer) of stream \(stream)"
        var list = natsMsgList()
        var jsError = jsErrCode(rawValue: 0)
        let status = natsSubscription_Fetch(&list, pointer, Int32(batch), timeout.wholeMilliseconds, &jsError)
        defer { natsMsgList_Destroy(&list) }  // frees the array; the messages are taken below
        if status == NATS_TIMEOUT && list.Count == 0 {
            return []
        }
        guard status == NATS_OK || list.Count > 0 else {
            throw CError.make(status, operation: operation, jetStreamError: jsError)
        }
        var handles: [MessageHandle] = []
        handles.reserveCapacity(Int(list.Count))
        if let messages = list.Msgs {
            for index in 0..<Int(list.Count) {
                guard let message = messages[index] else { continue }
                messages[index] = nil  // ownership moves to the handle
                handles.append(MessageHandle(pointer: message, subscription: self))
            }
        }
        return handles
    }
}

/// Owns one fetched JetStream message (`natsMsg *`) until it is released.
///
/// `@unchecked Sendable`: every use of the pointer goes through `lock`, so acknowledgements from
/// different threads never race, and the message is destroyed once, in `deinit`.
final class MessageHandle: @unchecked Sendable {
    private let pointer: OpaquePointer
    let subscription: PullSubscriptionHandle
    let lock = Mutex(())

    init(pointer: OpaquePointer, subscription: PullSubscriptionHandle) {
        self.pointer = pointer
        self.subscription = subscription
    }

    deinit {
        natsMsg_Destroy(pointer)
    }

    /// Reads everything Swift needs from the message at once.
    func copyOut() -> (NATSMessage, JetStreamMessage.Metadata?) {
        lock.withLock { _ in
            let message = CMessage.copy(pointer)
            var metadata: UnsafeMutablePointer<jsMsgMetaData>? = nil
            guard natsMsg_GetMetaData(&metadata, pointer) == NATS_OK, let metadata else {
                return (message, nil)
            }
            defer { jsMsgMetaData_Destroy(metadata) }
            let meta = metadata.pointee
            return (
                message,
                JetStreamMessage.Metadata(
                    stream: CConversions.string(meta.Stream) ?? "",
                    consumer: CConversions.string(meta.Consumer) ?? "",
                    streamSequence: meta.Sequence.Stream,
                    consumerSequence: meta.Sequence.Consumer,
                    deliveryCount: Int(meta.NumDelivered),
                    pending: meta.NumPending,
                    timestamp: CConversions.date(nanoseconds: meta.Timestamp),
                    domain: CConversions.string(meta.Domain)
                )
            )
        }
    }

    enum Acknowledgement {
        case ack, nak(delay: Duration?), inProgress, term
    }

    /// Sends an acknowledgement without waiting for the server (a buffered publish).
    func acknowledge(_ kind: Acknowledgement, operation: String) throws(NATSError) {
        let pointer = self.pointer
        let status: natsStatus = lock.withLock { _ in
            switch kind {
            case .ack: return natsMsg_Ack(pointer, nil)
            case .nak(let delay):
                if let delay, delay > .zero {
                    return natsMsg_NakWithDelay(pointer, max(1, delay.wholeMilliseconds), nil)
                }
                return natsMsg_Nak(pointer, nil)
            case .inProgress: return natsMsg_InProgress(pointer, nil)
            case .term: return natsMsg_Term(pointer, nil)
            }
        }
        try CError.check(status, operation)
    }
}
