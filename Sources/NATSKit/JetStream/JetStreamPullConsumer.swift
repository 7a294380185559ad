import Logging

/// A subscriber bound to an existing durable pull consumer. Any number of subscribers, in any
/// number of processes, may bind to the same consumer: the server spreads messages among them
/// and redelivers what a dead one held.
public final class JetStreamPullConsumer: Sendable {
    public var stream: String { handle.stream }
    public var name: String { handle.consumer }

    let handle: PullSubscriptionHandle
    let responses: ResponseMux

    init(handle: PullSubscriptionHandle, responses: ResponseMux) {
        self.handle = handle
        self.responses = responses
    }

    /// Fetches up to `batch` messages, waiting at most `timeout` for them. Returns what arrived,
    /// possibly nothing. Ask for no more than you can process within the ack wait.
    public func fetch(batch: Int = 1, timeout: Duration = .seconds(1)) async throws(NATSError) -> [JetStreamMessage] {
        guard batch > 0 else {
            throw .invalidArgument("a fetch needs a batch of at least 1, not \(batch)", operation: "fetch from \(name)")
        }
        guard timeout > .zero else {
            throw .invalidArgument("a fetch needs a positive timeout", operation: "fetch from \(name)")
        }
        let handle = self.handle
        let handles = try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> [MessageHandle] in
            try handle.fetch(batch: batch, timeout: timeout)
        }
        let responses = self.responses
        return handles.map { JetStreamMessage(handle: $0, responses: responses) }
    }

    /// The consumer's state on the server.
    public func info() async throws(NATSError) -> ConsumerInfo {
        let handle = self.handle
        return try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> ConsumerInfo in
            try handle.jetStream.consumerInfo(stream: handle.stream, consumer: handle.consumer)
        }
    }

    /// Messages as an endless async sequence, fetched `batch` at a time. Outages (timeouts,
    /// a restarting or unreachable server) are ridden out with a growing pause and logged; the
    /// sequence ends when the task is cancelled, and fails only on errors that cannot heal
    /// (a closed connection, a deleted consumer). Messages fetched but not yet handed out when
    /// the sequence ends are nak'd so that they are redelivered at once.
    public func messages(batch: Int = 10, fetchTimeout: Duration = .seconds(1), logger: Logger? = nil) -> JetStreamMessages {
        JetStreamMessages(consumer: self, batch: batch, fetchTimeout: fetchTimeout, logger: logger)
    }
}

/// See `JetStreamPullConsumer.messages(batch:fetchTimeout:logger:)`.
public struct JetStreamMessages: AsyncSequence, Sendable {
    public typealias Element = JetStreamMessage
    public typealias Failure = NATSError

    let consumer: JetStreamPullConsumer
    let batch: Int
    let fetchTimeout: Duration
    let logger: Logger?

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(consumer: consumer, batch: Swift.max(1, batch), fetchTimeout: fetchTimeout, logger: logger)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: JetStreamPullConsumer
        let batch: Int
        let fetchTimeout: Duration
        let logger: Logger?
        var buffer: [JetStreamMessage] = []
        var failures = 0

        public mutating func next() async throws(NATSError) -> JetStreamMessage? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(NATSError) -> JetStreamMessage? {
            while true {
                if Task.isCancelled {
                    for message in buffer { try? message.nak() }
                    buffer.removeAll()
                    return nil
                }
                if !buffer.isEmpty {
                    return buffer.removeFirst()
                }
                do {
                    buffer = try await consumer.fetch(batch: batch, timeout: fetchTimeout)
                    failures = 0
                } catch {
                    switch error.code {
                    case .connectionClosed, .illegalState, .invalidArgument:
                        throw error
                    case .notFound where error.jetStreamErrorCode == 10014:
                        throw error  // the consumer was deleted
                    default:
                        failures += 1
                        let pause = Duration.milliseconds(Swift.min(2_000, 50 << Swift.min(failures, 6)))
                        logger?.debug(
                            "Fetch failed; retrying",
                            metadata: [
                                NATSLoggingKeys.consumer: "\(consumer.name)",
                                "error": "\(error)",
                                "retry.in": "\(pause)",
                            ]
                        )
                        try? await Task.sleep(for: pause)
                    }
                }
            }
        }
    }
}
