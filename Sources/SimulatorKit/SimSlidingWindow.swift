// MARK: - SimSlidingWindow

/// The admitted requests of one credential (or account): at most `capacity` in any `window`.
public struct SimSlidingWindow: Sendable {
    /// Admission times in seconds (simulated seconds since 1970, or any clock that only grows).
    private var times: [Double] = []
    private var oldest = 0
    private var capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Admits a request at `now` (`nil`), or returns how long until one would be admitted. A new
    /// capacity starts an empty window.
    public mutating func admit(at now: Double, capacity: Int, window: Duration) -> Duration? {
        if capacity != self.capacity { self = SimSlidingWindow(capacity: capacity) }
        if self.times.count < capacity {
            self.times.append(now)
            return nil
        }
        let freeAt = self.times[self.oldest] + window.seconds
        // In whole microseconds, the precision of simulated time: a window of exactly 1 s waits
        // exactly 1 s, not a rounding error more (Retry-After rounds up).
        guard freeAt <= now else { return .microseconds(Int64(((freeAt - now) * 1_000_000).rounded())) }
        self.times[self.oldest] = now
        self.oldest = (self.oldest + 1) % capacity
        return nil
    }
}
