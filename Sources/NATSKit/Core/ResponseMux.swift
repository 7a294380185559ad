import Synchronization

/// Request-reply without a blocked thread: one wildcard inbox subscription per connection
/// (`_INBOX.<random>.*`), and a continuation per request, resumed by cnats' delivery thread when
/// the answer arrives.
///
/// This is how cnats' own `natsConnection_Request` waits (a response-mux subscription whose
/// delivery thread wakes the requester), minus the thread that sits blocked: the hot paths
/// (requests, JetStream publishes, KV reads and writes, synchronous acks) cost the same thread
/// wake-ups as raw cnats, instead of two extra hops through a thread pool (see docs/natskit.md
/// for the measurements that motivated it).
///
/// Timeouts are swept by one timer task per connection, at a resolution of 25 ms.
final class ResponseMux: MessageSink {
    typealias Outcome = Result<NATSMessage, NATSError>

    private struct Pending {
        var continuation: CheckedContinuation<Outcome, Never>
        var deadline: ContinuousClock.Instant
        var operation: String
        var timeout: Duration
    }

    private struct State {
        var pending: [UInt64: Pending] = [:]
        var nextToken: UInt64 = 0
        var subscription: SubscriptionHandle?
        var closed = false
    }

    let subject: String
    private let prefix: String
    private let connection: ConnectionHandle
    private let state = Mutex(State())

    init(connection: ConnectionHandle) {
        self.connection = connection
        self.prefix = "_INBOX." + ResponseMux.randomToken() + "."
        self.subject = prefix + "*"
    }

    /// Sends a request and waits for the first answer, at most `timeout`. A `503` status
    /// answer (nobody subscribed) becomes `noResponders`.
    func request(
        subject: String,
        headers: NATSHeaders,
        payload: [UInt8],
        timeout: Duration,
        operation: String
    ) async throws(NATSError) -> NATSMessage {
        let token = try prepare(operation: operation)
        let reply = prefix + String(token)
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let registered = state.withLock { state -> Bool in
                    guard !state.closed else { return false }
                    state.pending[token] = Pending(
                        continuation: continuation,
                        deadline: ContinuousClock.now.advanced(by: timeout),
                        operation: operation,
                        timeout: timeout
                    )
                    return true
                }
                guard registered else {
                    continuation.resume(returning: .failure(.closed(operation: operation)))
                    return
                }
                do throws(NATSError) {
                    try connection.publish(subject: subject, reply: reply, headers: headers, payload: payload)
                } catch {
                    finish(token, with: .failure(error))
                }
            }
        } onCancel: {
            finish(token, with: .failure(NATSError(code: .timeout, operation: operation, message: "the request was cancelled")))
        }
        let message = try outcome.get()
        if message.payload.isEmpty, message.headers["Status"] == "503" {
            throw NATSError(code: .noResponders, operation: operation, message: "no responders: nobody is subscribed to \(subject)")
        }
        return message
    }

    /// Fails every waiting request; later requests fail at once.
    func close() {
        let pending = state.withLock { state -> [Pending] in
            state.closed = true
            let pending = Array(state.pending.values)
            state.pending.removeAll()
            return pending
        }
        for request in pending {
            request.continuation.resume(returning: .failure(.closed(operation: request.operation)))
        }
        try? state.withLock { $0.subscription }?.unsubscribe()
    }

    // MARK: - MessageSink (cnats' delivery thread)

    func deliver(_ message: NATSMessage) {
        let subject = message.subject.utf8
        guard let dot = subject.lastIndex(of: UInt8(ascii: ".")) else { return }
        var token: UInt64 = 0
        for byte in subject[subject.index(after: dot)...] {
            guard (48...57).contains(byte) else { return }
            token = token &* 10 &+ UInt64(byte - 48)
        }
        finish(token, with: .success(message))
    }

    func complete() {
        close()
    }

    // MARK: - Private

    /// Subscribes to the inbox and starts the timeout sweeper. Called once, when the connection is
    /// made: a lazy subscription raced when many first requests came at once, and a losing
    /// subscription's completion closed the mux.
    func start() throws(NATSError) {
        let subscription = try SubscriptionHandle.subscribe(connection: connection, subject: subject, queue: nil, context: self)
        state.withLock { $0.subscription = subscription }
        startTimeoutSweeper()
    }

    /// Hands out a token for a request.
    private func prepare(operation: String) throws(NATSError) -> UInt64 {
        let token = state.withLock { state -> UInt64? in
            guard !state.closed, state.subscription != nil else { return nil }
            state.nextToken += 1
            return state.nextToken
        }
        guard let token else { throw .closed(operation: operation) }
        return token
    }

    private func finish(_ token: UInt64, with outcome: Outcome) {
        let pending = state.withLock { $0.pending.removeValue(forKey: token) }
        pending?.continuation.resume(returning: outcome)
    }

    private func startTimeoutSweeper() {
        Task.detached { [weak self] in
            while true {
                // Hold the mux only while sweeping, never across the sleep.
                do {
                    guard let mux = self, !mux.state.withLock({ $0.closed }) else { return }
                    mux.expireOverdue()
                }
                try? await Task.sleep(for: .milliseconds(25))
            }
        }
    }

    private func expireOverdue() {
        let now = ContinuousClock.now
        let expired = state.withLock { state -> [Pending] in
            let tokens = state.pending.filter { $0.value.deadline <= now }.map(\.key)
            return tokens.compactMap { state.pending.removeValue(forKey: $0) }
        }
        for request in expired {
            request.continuation.resume(
                returning: .failure(NATSError(code: .timeout, operation: request.operation, message: "no answer within \(request.timeout)"))
            )
        }
    }

    private static func randomToken() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<22).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
