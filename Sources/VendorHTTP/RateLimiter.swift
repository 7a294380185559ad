import Synchronization

// MARK: - RateLimiter

/// A client-side limiter that keeps a busy client under a vendor's documented request rate, so it
/// does not draw 429 answers in the first place.
///
/// It is a bucket of `permits` tokens. A request takes a token and gives it back when its answer
/// has arrived; the token becomes usable again one window (plus a safety margin) after that. So
/// two requests sharing a token reach the vendor at least one window apart, and by the pigeonhole
/// principle no window ever holds more than `permits` requests **as the vendor counts them**,
/// whatever the network latency. A classic bucket refilled at a constant rate (or one counting
/// send times) can put twice the limit in one window, or lose the race against a slow first
/// connection; a vendor counting per window (Hightouch: 200 per 10 s per workspace) answers
/// those with 429.
///
/// Waiters are served first come, first served. Nobody polls: a waiting caller is resumed by the
/// token handed to it, and each returning token sleeps until its window has passed. A caller
/// cancelled while waiting leaves the queue and throws `CancellationError`.
/// Share one instance between all clients that use the same credential.
public final class RateLimiter: Sendable {
    /// How many requests a window may hold.
    public struct Configuration: Sendable, Hashable {
        /// Requests allowed in any window.
        public var permits: Int
        /// The vendor's window.
        public var window: Duration
        /// Added to the window, for a vendor whose clock runs slightly differently from ours.
        public var safetyMargin: Duration

        /// - Parameters:
        ///   - permits: requests allowed in any window (at least 1).
        ///   - window: the vendor's window (positive).
        ///   - safetyMargin: extra spacing; defaults to 1 % of the window.
        public init(permits: Int, window: Duration, safetyMargin: Duration? = nil) {
            precondition(permits >= 1, "RateLimiter.Configuration: permits must be at least 1, got \(permits)")
            precondition(window > .zero, "RateLimiter.Configuration: window must be positive, got \(window)")
            self.permits = permits
            self.window = window
            self.safetyMargin = safetyMargin ?? window / 100
        }

        /// How long after a request completes its token is usable again.
        public var effectiveWindow: Duration { self.window + self.safetyMargin }
    }

    /// The right to send one request. Release it when the answer has arrived (or the request
    /// failed); ``RateLimiter/withPermit(_:)`` does that for you.
    public final class Permit: Sendable {
        private let limiter: RateLimiter
        private let released = Mutex(false)

        fileprivate init(limiter: RateLimiter) {
            self.limiter = limiter
        }

        /// Returns the token; it becomes usable one window from now. Later calls do nothing.
        public func release() {
            guard !self.released.withLock({ released in defer { released = true }; return released }) else { return }
            self.limiter.returnToken(after: self.limiter.clock.now + self.limiter.configuration.effectiveWindow)
        }

        /// Returns a token that was never used to send anything: usable at once.
        func releaseUnused() {
            guard !self.released.withLock({ released in defer { released = true }; return released }) else { return }
            self.limiter.returnToken()
        }
    }

    public let configuration: Configuration
    fileprivate let clock: any VendorClock
    private let state: Mutex<State>

    public init(_ configuration: Configuration, clock: any VendorClock = SystemVendorClock()) {
        self.configuration = configuration
        self.clock = clock
        self.state = Mutex(State(available: configuration.permits))
    }

    /// Runs `body` holding a permit, and releases it when `body` returns or throws.
    public func withPermit<Result>(_ body: () async throws -> Result) async throws -> Result {
        let permit = try await self.acquire()
        defer { permit.release() }
        return try await body()
    }

    /// Waits for a token, first come first served. Release the permit when the answer arrives.
    ///
    /// - Throws: `CancellationError` if the task is cancelled before its turn.
    public func acquire() async throws -> Permit {
        try Task.checkCancellation()
        // Tracks this call, so a cancellation arriving before, while or after queueing is handled
        // exactly once. Lock order: registration, then state.
        let registration = Mutex(Registration.pending)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let granted: Bool? = registration.withLock { registration in
                    guard case .pending = registration else { return nil }  // cancelled already
                    let id = self.state.withLock { $0.takeOrEnqueue(continuation) }
                    registration = id.map(Registration.queued) ?? .granted
                    return id == nil
                }
                switch granted {
                case true?: continuation.resume()
                case false?: break  // resumed by returnToken() or by the cancellation handler
                case nil: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, any Error>? = registration.withLock { registration in
                switch registration {
                case .pending:
                    registration = .cancelled
                    return nil
                case .queued(let id):
                    registration = .cancelled
                    return self.state.withLock { $0.removeWaiter(id: id) }
                case .granted, .cancelled:
                    return nil
                }
            }
            waiter?.resume(throwing: CancellationError())
        }
        let permit = Permit(limiter: self)
        if Task.isCancelled {
            // Handed a token just as the task was cancelled: give it back unused.
            permit.releaseUnused()
            throw CancellationError()
        }
        return permit
    }

    private enum Registration {
        case pending, queued(Int), granted, cancelled
    }

    /// Tokens usable right now.
    public var availablePermits: Int { self.state.withLock { $0.available } }

    /// Callers waiting for a token.
    public var waitingCount: Int { self.state.withLock { $0.waiters.count } }

    // MARK: - Returning tokens

    /// Makes a token usable at `instant`: a short task sleeps until then (no polling).
    fileprivate func returnToken(after instant: ContinuousClock.Instant) {
        Task { [clock = self.clock] in
            try? await clock.sleep(until: instant)
            self.returnToken()
        }
    }

    /// Hands the token to the longest-waiting caller, or puts it back in the bucket.
    fileprivate func returnToken() {
        let waiter = self.state.withLock { $0.handOver() }
        waiter?.resume()
    }
}

// MARK: - State

extension RateLimiter {
    struct State {
        var available: Int
        /// First come, first served.
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var lastWaiterID = 0

        /// Takes a token (returns `nil`) or queues the caller (returns its waiter id).
        mutating func takeOrEnqueue(_ continuation: CheckedContinuation<Void, any Error>) -> Int? {
            if self.waiters.isEmpty, self.available > 0 {
                self.available -= 1
                return nil
            }
            self.lastWaiterID += 1
            self.waiters.append((self.lastWaiterID, continuation))
            return self.lastWaiterID
        }

        /// The waiter's continuation if it is still queued (not yet handed a token).
        mutating func removeWaiter(id: Int) -> CheckedContinuation<Void, any Error>? {
            guard let index = self.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return self.waiters.remove(at: index).continuation
        }

        mutating func handOver() -> CheckedContinuation<Void, any Error>? {
            if !self.waiters.isEmpty {
                return self.waiters.removeFirst().continuation
            }
            self.available += 1
            return nil
        }
    }
}
