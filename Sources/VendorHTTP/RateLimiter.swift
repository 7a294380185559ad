import Synchronization

// MARK: - RateLimiter

/// A client-side limiter that keeps a busy client under a vendor's documented request rate, so it
/// does not draw 429 answers in the first place.
///
/// It is a token bucket of `permits` tokens in which every spent token returns to the bucket one
/// window after it was taken. That is stricter than the classic bucket refilled at a constant rate:
/// a full classic bucket plus its refill admits up to twice the limit within one window, which a
/// vendor counting requests per window (Hightouch: 200 per 10 s per workspace) answers with 429.
/// Here no window of length `window + safetyMargin` ever holds more than `permits` requests.
///
/// Waiters are served first come, first served: each `acquire()` reserves the earliest slot not
/// earlier than the slot of the caller before it, then sleeps until that slot (no polling).
/// A caller cancelled while waiting gives its slot back and throws `CancellationError`.
/// Share one instance between all clients that use the same credential.
public final class RateLimiter: Sendable {
    /// How many requests a window may hold.
    public struct Configuration: Sendable, Hashable {
        /// Requests allowed in any window.
        public var permits: Int
        /// The vendor's window.
        public var window: Duration
        /// Added to the window to absorb network jitter between our clock and the vendor's.
        public var safetyMargin: Duration

        /// - Parameters:
        ///   - permits: requests allowed in any window (at least 1).
        ///   - window: the vendor's window (positive).
        ///   - safetyMargin: extra spacing; defaults to 5 % of the window.
        public init(permits: Int, window: Duration, safetyMargin: Duration? = nil) {
            precondition(permits >= 1, "RateLimiter.Configuration: permits must be at least 1, got \(permits)")
            precondition(window > .zero, "RateLimiter.Configuration: window must be positive, got \(window)")
            self.permits = permits
            self.window = window
            self.safetyMargin = safetyMargin ?? window / 20
        }

        /// The window the limiter actually enforces.
        public var effectiveWindow: Duration { self.window + self.safetyMargin }
    }

    public let configuration: Configuration
    private let clock: any VendorClock
    private let state: Mutex<State>

    public init(_ configuration: Configuration, clock: any VendorClock = SystemVendorClock()) {
        self.configuration = configuration
        self.clock = clock
        self.state = Mutex(State())
    }

    /// Waits until a request may be sent, then returns. Throws `CancellationError` if the task is
    /// cancelled before its turn; the reserved turn is then released.
    public func acquire() async throws {
        try Task.checkCancellation()
        let now = self.clock.now
        let slot = self.state.withLock {
            $0.reserve(now: now, permits: self.configuration.permits, window: self.configuration.effectiveWindow)
        }
        guard slot > now else { return }
        do {
            try await self.clock.sleep(until: slot)
        } catch {
            self.state.withLock { $0.release(slot) }
            throw error
        }
        // A clock that wakes early (or a manual clock advanced past the slot) must not let a
        // cancelled task through either.
        if Task.isCancelled {
            self.state.withLock { $0.release(slot) }
            throw CancellationError()
        }
    }

    /// Number of reserved slots not yet in the past (for metrics and tests).
    public var pendingReservations: Int {
        let now = self.clock.now
        return self.state.withLock { state in state.slots.reduce(0) { $0 + ($1 > now ? 1 : 0) } }
    }
}

// MARK: - State

extension RateLimiter {
    /// The reserved slots in ascending order. Slots at or before `now - window` can no longer
    /// constrain a new slot and are dropped, so the array holds at most `permits` past slots
    /// plus the future ones.
    struct State {
        var slots: [ContinuousClock.Instant] = []

        mutating func reserve(now: ContinuousClock.Instant, permits: Int, window: Duration) -> ContinuousClock.Instant {
            let horizon = now - window
            if let firstLive = self.slots.firstIndex(where: { $0 > horizon }) {
                self.slots.removeFirst(firstLive)
            } else {
                self.slots.removeAll(keepingCapacity: true)
            }
            var slot = now
            if self.slots.count >= permits {
                // The new slot must leave `permits - 1` earlier slots in its window.
                slot = max(slot, self.slots[self.slots.count - permits] + window)
            }
            if let last = self.slots.last {
                // Never before an earlier caller: first come, first served.
                slot = max(slot, last)
            }
            self.slots.append(slot)
            return slot
        }

        /// Removing any slot keeps every window within the limit; later waiters keep their turn.
        mutating func release(_ slot: ContinuousClock.Instant) {
            if let index = self.slots.lastIndex(of: slot) {
                self.slots.remove(at: index)
            }
        }
    }
}
