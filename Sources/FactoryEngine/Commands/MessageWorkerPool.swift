import Logging
import NATSKit
import Synchronization

/// Pulls messages from a durable consumer and handles up to `workers` at once.
///
/// It fetches only as many messages as it has free workers, so a busy replica never holds
/// messages it cannot start (others get them instead). While a handler works, the message's ack
/// wait is renewed with in-progress every third of the ack wait, by one ticker for the whole pool
/// (a timer task per message cost more than the work of a quick command). When `stop()` is
/// called it stops fetching, lets running handlers finish for `shutdownGrace`, then cancels them;
/// a handler that did not settle its message in time gets it nak'd so another replica takes it
/// at once.
public final class MessageWorkerPool: Sendable {
    public typealias Handler = @Sendable (JetStreamMessage) async -> CommandDisposition

    public let name: String
    private let consumer: JetStreamPullConsumer
    private let workers: Int
    private let ackWait: Duration
    private let synchronousAcks: Bool
    private let shutdownGrace: Duration
    private let logger: Logger
    private let handler: Handler
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    private struct State {
        var inFlight = 0
        var stopping = false
        /// Messages being handled, and when their ack wait was last renewed.
        var held: [ObjectIdentifier: Held] = [:]
    }

    private struct Held {
        let message: JetStreamMessage
        var renewedAt: ContinuousClock.Instant
    }

    public init(
        name: String, consumer: JetStreamPullConsumer, workers: Int, ackWait: Duration, synchronousAcks: Bool,
        shutdownGrace: Duration = .seconds(10), logger: Logger, handler: @escaping Handler
    ) {
        self.name = name
        self.consumer = consumer
        self.workers = max(1, workers)
        self.ackWait = ackWait
        self.synchronousAcks = synchronousAcks
        self.shutdownGrace = shutdownGrace
        self.logger = logger
        self.handler = handler
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Messages being handled right now.
    public var inFlight: Int { state.withLock { $0.inFlight } }

    /// Stop fetching; `run` returns once running handlers are done (or `shutdownGrace` passed).
    public func stop() {
        state.withLock { $0.stopping = true }
        wake.yield()
    }

    private var stopping: Bool { state.withLock { $0.stopping } }

    public func run() async {
        var wakeups = self.wakeups.makeAsyncIterator()
        var fetchFailures = 0
        let ticker = Task { await self.renewAckWaits() }
        defer { ticker.cancel() }
        // A discarding group frees each handler's task as it ends; a plain group would keep every
        // finished child until awaited, which a long-running pool never does.
        await withDiscardingTaskGroup { group in
            while !stopping, !Task.isCancelled {
                let free = workers - inFlight
                guard free > 0 else {
                    _ = await wakeups.next()
                    continue
                }
                let messages: [JetStreamMessage]
                do throws(NATSError) {
                    messages = try await consumer.fetch(batch: free, timeout: .seconds(1))
                    fetchFailures = 0
                } catch {
                    fetchFailures += 1
                    if error.code == .connectionClosed { break }
                    let pause = Duration.milliseconds(min(5_000, 100 << min(fetchFailures, 6)))
                    if fetchFailures == 1 || fetchFailures.isMultiple(of: 20) {
                        logger.warning("Fetching failed; retrying", metadata: ["pool": "\(name)", "error": "\(error)", "retry.in": "\(pause)"])
                    }
                    try? await Task.sleep(for: pause)
                    continue
                }
                if stopping {
                    for message in messages { try? message.nak() }
                    break
                }
                for message in messages {
                    state.withLock { $0.inFlight += 1 }
                    group.addTask {
                        await self.handle(message)
                        self.state.withLock { $0.inFlight -= 1 }
                        self.wake.yield()
                    }
                }
            }
            // Drain: give running handlers their grace, then cancel what is left.
            let deadline = ContinuousClock.now.advanced(by: shutdownGrace)
            while inFlight > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if inFlight > 0 {
                logger.warning("Shutdown grace elapsed; cancelling handlers", metadata: ["pool": "\(name)", "in.flight": "\(inFlight)"])
                group.cancelAll()
            }
        }
    }

    /// Sends in-progress for every message held longer than a third of the ack wait since its
    /// last renewal; looks six times per ack wait, so a renewal is at most half an ack wait apart.
    private func renewAckWaits() async {
        let period = ackWait / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: ackWait / 6)
            let now = ContinuousClock.now
            let due = state.withLock { state in
                var due: [JetStreamMessage] = []
                for (key, held) in state.held where now - held.renewedAt >= period {
                    due.append(held.message)
                    state.held[key]?.renewedAt = now
                }
                return due
            }
            for message in due { try? message.inProgress() }
        }
    }

    private func handle(_ message: JetStreamMessage) async {
        let key = ObjectIdentifier(message)
        state.withLock { $0.held[key] = Held(message: message, renewedAt: .now) }
        let disposition = await handler(message)
        state.withLock { _ = $0.held.removeValue(forKey: key) }
        do {
            switch disposition {
            case .ack:
                if synchronousAcks { try await message.ackSync() } else { try message.ack() }
            case .nak(let delay):
                try message.nak(delay: delay)
            case .term:
                try message.term()
            case .abandon:
                break
            }
        } catch {
            // Not settled: it will be redelivered after the ack wait, and the state makes the
            // redelivery a no-op or a resume.
            logger.warning("Could not settle a message", metadata: ["pool": "\(name)", "error": "\(error)", "disposition": "\(disposition)"])
        }
        if Task.isCancelled, message.settled == nil, disposition != .abandon {
            try? message.nak()
        }
    }
}
