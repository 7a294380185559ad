// MARK: - RetryPolicy

/// When and how long a vendor call is retried.
///
/// Only answers that say "try again" are retried: 429, 5xx, and failures to reach the vendor
/// (connection errors, timeouts). Every other 4xx is final. Waits grow exponentially with full
/// jitter (a uniformly random wait between zero and the exponential cap), which spreads the
/// retries of many replicas instead of synchronising them.
///
/// A call stops after `maxAttempts` attempts or when the next wait would end after
/// `totalBudget` has passed since the first attempt, whichever comes first. (The budget decides
/// whether to retry; each attempt still gets its full timeout.)
///
/// A request that is not idempotent (a POST that creates a run or a resource) is retried only when
/// the vendor certainly did not act on it: a 429, or a connection that could not be opened. After a
/// 5xx or a timeout the outcome is unknown, and retrying a trigger could start a second vendor run;
/// the caller gets the error (``VendorError/outcomeUnknown`` is `true`) and decides, for example by
/// listing the runs created since its attempt. Set `retriesNonIdempotentRequests` to change that.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts including the first (1 disables retries).
    public var maxAttempts: Int
    /// The cap of the first wait; the cap doubles with every further attempt.
    public var baseDelay: Duration
    /// The largest cap of any wait.
    public var maxDelay: Duration
    /// Wall time allowed from the first attempt to the end of the last wait.
    public var totalBudget: Duration
    /// Retry non-idempotent requests after a 5xx or a timeout too (off by default; see above).
    public var retriesNonIdempotentRequests: Bool

    public init(
        maxAttempts: Int = 5,
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(20),
        totalBudget: Duration = .seconds(60),
        retriesNonIdempotentRequests: Bool = false
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(.zero, baseDelay)
        self.maxDelay = max(.zero, maxDelay)
        self.totalBudget = max(.zero, totalBudget)
        self.retriesNonIdempotentRequests = retriesNonIdempotentRequests
    }

    /// No retries: one attempt, errors surface at once.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The default for vendor APIs: 5 attempts, 0.5 s doubling to at most 20 s, 60 s in all.
    public static let standard = RetryPolicy()

    // MARK: - Decisions

    /// The exponential cap for the wait after attempt number `attempt` (1-based):
    /// `min(maxDelay, baseDelay * 2^(attempt-1))`.
    public func backoffCap(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let cap = self.baseDelay * (1 << exponent)
        return min(cap, self.maxDelay)
    }

    /// The jittered wait after attempt number `attempt`, for a random `unit` in `0..<1`.
    public func backoff(afterAttempt attempt: Int, unit: Double) -> Duration {
        let clamped = min(max(unit, 0), 1)
        return self.backoffCap(afterAttempt: attempt) * clamped
    }

    /// Whether `error` may be retried for a request of this idempotency.
    public func allowsRetry(of error: VendorError, idempotent: Bool) -> Bool {
        switch error.code {
        case .rateLimited:
            return true
        case .transport where !error.outcomeUnknown:
            return true
        case .server, .transport, .timeout:
            return idempotent || self.retriesNonIdempotentRequests
        default:
            return false
        }
    }
}
