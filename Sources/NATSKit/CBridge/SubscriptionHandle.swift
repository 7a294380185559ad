import CNATS
import Synchronization

/// Where a core subscription's messages go: called on cnats' delivery thread, so it must not
/// block. Retained for cnats when the subscription is made and released in the subscription's
/// on-complete callback, which cnats calls once, after the last message callback.
protocol MessageSink: AnyObject, Sendable {
    var subject: String { get }
    func deliver(_ message: NATSMessage)
    /// No message follows.
    func complete()
}

/// The sink of a `NATSSubscription`: an AsyncStream with a bounded buffer.
final class SubscriptionContext: MessageSink {
    let continuation: AsyncStream<NATSMessage>.Continuation
    private let dropped = Atomic<Int>(0)
    private let events: ConnectionEventHub
    let subject: String

    init(continuation: AsyncStream<NATSMessage>.Continuation, events: ConnectionEventHub, subject: String) {
        self.continuation = continuation
        self.events = events
        self.subject = subject
    }

    func deliver(_ message: NATSMessage) {
        if case .dropped = continuation.yield(message) {
            // As NATS core does for a slow consumer: drop, count, and report.
            let count = dropped.add(1, ordering: .relaxed).newValue
            if count == 1 || count.isMultiple(of: 1000) {
                events.emit(.error(NATSError(
                    code: .slowConsumer,
                    operation: "subscription on \(subject)",
                    message: "the reader is not keeping up; \(count) messages dropped so far"
                )))
            }
        }
    }

    var droppedCount: Int { dropped.load(ordering: .relaxed) }

    func complete() {
        continuation.finish()
    }
}

/// Owns one cnats core subscription (`natsSubscription *`).
///
/// `@unchecked Sendable`: cnats subscriptions are thread-safe, the pointer never changes and is
/// destroyed exactly once, in `deinit`. Holds its connection so the connection outlives it.
final class SubscriptionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let connection: ConnectionHandle
    let context: any MessageSink

    private init(pointer: OpaquePointer, connection: ConnectionHandle, context: any MessageSink) {
        self.pointer = pointer
        self.connection = connection
        self.context = context
    }

    deinit {
        let handle = SendablePointer(pointer: pointer)
        BlockingExecutor.shared.submit { natsSubscription_Destroy(handle.pointer) }
    }

    /// Subscribes (optionally in a queue group). Does not wait for the server; flush after it to
    /// be sure the server has registered the interest.
    static func subscribe(
        connection: ConnectionHandle,
        subject: String,
        queue: String?,
        context: any MessageSink
    ) throws(NATSError) -> SubscriptionHandle {
        let operation = "subscribe to \(subject)" + (queue.map { " in queue group \($0)" } ?? "")
        let closure = Unmanaged.passRetained(SinkBox(context)).toOpaque()
        var subscription: OpaquePointer? = nil
        let status: natsStatus
        if let queue {
            status = natsConnection_QueueSubscribe(&subscription, connection.pointer, subject, queue, onMessage, closure)
        } else {
            status = natsConnection_Subscribe(&subscription, connection.pointer, subject, onMessage, closure)
        }
        guard status == NATS_OK, let subscription else {
            let error = CError.make(status, operation: operation)
            Unmanaged<SinkBox>.fromOpaque(closure).release()
            context.complete()
            throw error
        }
        if natsSubscription_SetOnCompleteCB(subscription, onComplete, closure) != NATS_OK {
            // Already closed (the connection closed under us): no callback will come.
            Unmanaged<SinkBox>.fromOpaque(closure).release()
            context.complete()
        }
        return SubscriptionHandle(pointer: subscription, connection: connection, context: context)
    }

    /// Stops delivery at once; the stream ends once cnats confirms.
    func unsubscribe() throws(NATSError) {
        let status = natsSubscription_Unsubscribe(pointer)
        // Already closed is the desired state.
        guard status != NATS_INVALID_SUBSCRIPTION, status != NATS_CONNECTION_CLOSED else { return }
        try CError.check(status, "unsubscribe from \(context.subject)")
    }

    /// Stops taking new messages, lets buffered ones be delivered, then ends the stream.
    func drain(timeout: Duration) throws(NATSError) {
        let status = natsSubscription_DrainTimeout(pointer, timeout.wholeMilliseconds)
        guard status != NATS_INVALID_SUBSCRIPTION, status != NATS_CONNECTION_CLOSED else { return }
        try CError.check(status, "drain subscription on \(context.subject)")
    }

    var pendingMessages: Int {
        var messages: Int32 = 0
        var bytes: Int32 = 0
        _ = natsSubscription_GetPending(pointer, &messages, &bytes)
        return Int(messages)
    }
}

// MARK: - cnats callbacks (on the subscription's delivery thread)

private func onMessage(_ connection: OpaquePointer?, _ subscription: OpaquePointer?, _ message: OpaquePointer?, _ closure: UnsafeMutableRawPointer?) {
    guard let message else { return }
    // Copy out and free at once: the Swift value owns its bytes.
    let copy = CMessage.copy(message)
    natsMsg_Destroy(message)
    guard let closure else { return }
    Unmanaged<SinkBox>.fromOpaque(closure).takeUnretainedValue().sink.deliver(copy)
}

private func onComplete(_ closure: UnsafeMutableRawPointer?) {
    guard let closure else { return }
    let unmanaged = Unmanaged<SinkBox>.fromOpaque(closure)
    unmanaged.takeUnretainedValue().sink.complete()
    unmanaged.release()
}

/// A class box, because an existential cannot be passed through `Unmanaged`.
private final class SinkBox {
    let sink: any MessageSink
    init(_ sink: any MessageSink) { self.sink = sink }
}
