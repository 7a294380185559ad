import SimulatorKit

// MARK: - Timestamps and randomness

extension SimTimestamp {
    /// Fivetran's timestamps: ISO-8601 in UTC with microseconds (`2021-03-23T20:55:12.670390Z`).
    /// Sub-second precision matters: clients decide a sync ended by `succeeded_at` moving past the
    /// value before the trigger, and a sync ending within the trigger's second must look newer.
    static func format(_ seconds: Double) -> String { self.format(seconds, .microseconds) }
}

extension SimRandomStream {
    static let outcome = SimRandomStream(1)
    static let fault = SimRandomStream(2)
    static let latency = SimRandomStream(3)
}

// MARK: - SimSlidingWindow

/// The admitted requests of one API key: at most `capacity` in any `window` (Fivetran counts a
/// rolling hour).
struct SimSlidingWindow: Sendable {
    /// Admission times in simulated seconds since 1970.
    private var times: [Double] = []
    private var oldest = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Admits a request at `now`, or returns how long until one would be admitted.
    mutating func admit(at now: Double, capacity: Int, window: Duration) -> Duration? {
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
