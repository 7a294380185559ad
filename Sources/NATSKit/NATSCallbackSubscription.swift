/// A core subscription whose messages go straight to a handler on cnats' delivery thread for
/// this subscription, without a hop through Swift's cooperative pool. For latency-critical
/// responders that answer from memory: the handler must not block (no waiting on the network);
/// publishing is fine.
public final class NATSCallbackSubscription: Sendable {
    let handle: SubscriptionHandle

    init(handle: SubscriptionHandle) {
        self.handle = handle
    }

    public var subject: String { handle.context.subject }

    public func unsubscribe() throws(NATSError) {
        try handle.unsubscribe()
    }

    /// Stops taking new messages, lets the handler see the ones already received, then ends.
    public func drain(timeout: Duration = .seconds(5)) async throws(NATSError) {
        let handle = self.handle
        try await BlockingExecutor.shared.runThrowing { () throws(NATSError) in
            try handle.drain(timeout: timeout)
        }
    }
}

/// Hands messages to a synchronous handler.
final class CallbackSink: MessageSink {
    let subject: String
    private let handler: @Sendable (NATSMessage) -> Void

    init(subject: String, handler: @escaping @Sendable (NATSMessage) -> Void) {
        self.subject = subject
        self.handler = handler
    }

    func deliver(_ message: NATSMessage) {
        handler(message)
    }

    func complete() {}
}

extension NATSConnection {
    /// Subscribes with a handler called on cnats' delivery thread (see `NATSCallbackSubscription`).
    /// Registered with the server when this returns.
    public func subscribe(
        to subject: String,
        queue: String? = nil,
        handler: @escaping @Sendable (NATSMessage) -> Void
    ) async throws(NATSError) -> NATSCallbackSubscription {
        let operation = "subscribe to \(subject)"
        try NATSNames.validateSubscribeSubject(subject, operation: operation)
        if let queue { try NATSNames.validateQueueGroup(queue, operation: operation) }
        try checkOpen(operation)
        let sink = CallbackSink(subject: subject, handler: handler)
        let subscription = try SubscriptionHandle.subscribe(connection: handle, subject: subject, queue: queue, context: sink)
        try await flush()
        return NATSCallbackSubscription(handle: subscription)
    }
}
