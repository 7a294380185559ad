// MARK: - VendorClock

/// The time source of the retry loop and the rate limiter.
///
/// Production code uses ``SystemVendorClock``; tests inject a manual clock so backoff and
/// rate-limit waits take no real time and happen in a deterministic order.
public protocol VendorClock: Sendable {
    /// The current instant (monotonic).
    var now: ContinuousClock.Instant { get }

    /// Suspends until `deadline`. Throws `CancellationError` if the task is cancelled first.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

// MARK: - SystemVendorClock

/// The real monotonic clock.
public struct SystemVendorClock: VendorClock {
    public init() {}

    public var now: ContinuousClock.Instant { ContinuousClock.now }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await ContinuousClock().sleep(until: deadline, tolerance: nil)
    }
}
