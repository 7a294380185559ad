/// A core NATS subscription: the messages on its subject, in order, as an async sequence.
///
/// The sequence ends when the subscription is unsubscribed or drained, or its connection closes.
/// A reader that falls more than `subscriptionBufferLimit` messages behind loses messages, as
/// NATS core does with slow consumers (reported as a `slowConsumer` connection event).
public struct NATSSubscription: AsyncSequence, Sendable {
    public typealias Element = NATSMessage
    public typealias Failure = Never

    let handle: SubscriptionHandle
    private let stream: AsyncStream<NATSMessage>

    init(handle: SubscriptionHandle, stream: AsyncStream<NATSMessage>) {
        self.handle = handle
        self.stream = stream
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        // Keeps the C subscription alive while someone iterates.
        let handle: SubscriptionHandle
        var base: AsyncStream<NATSMessage>.AsyncIterator

        public mutating func next() async -> NATSMessage? {
            await base.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> NATSMessage? {
            await base.next(isolation: actor)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: handle, base: stream.makeAsyncIterator())
    }

    /// The subject (or pattern) subscribed to.
    public var subject: String { handle.context.subject }

    /// Messages dropped because the reader fell behind.
    public var droppedMessages: Int { (handle.context as? SubscriptionContext)?.droppedCount ?? 0 }

    /// Stops at once; messages not yet read are discarded and the sequence ends.
    public func unsubscribe() throws(NATSError) {
        try handle.unsubscribe()
    }

    /// Stops taking new messages, delivers the ones already received, then ends the sequence.
    public func drain(timeout: Duration = .seconds(5)) async throws(NATSError) {
        let handle = self.handle
        try await BlockingExecutor.shared.runThrowing { () throws(NATSError) in
            try handle.drain(timeout: timeout)
        }
    }
}
