// MARK: - SimTimestamp

/// Fivetran's timestamps: ISO-8601 in UTC with microseconds (`2021-03-23T20:55:12.670390Z`).
/// Sub-second precision matters: clients decide a sync ended by `succeeded_at` moving past the
/// value before the trigger, and a sync ending within the trigger's second must look newer.
/// Simulated time is kept as seconds since 1970.
enum SimTimestamp {
    static func format(_ seconds: Double) -> String {
        let totalMicroseconds = Int64((seconds * 1_000_000).rounded(.down))
        var days = totalMicroseconds / 86_400_000_000
        var micro = totalMicroseconds % 86_400_000_000
        if micro < 0 {
            micro += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: Int(days))
        var text = ""
        text.reserveCapacity(27)
        Self.append(year, width: 4, to: &text)
        text += "-"
        Self.append(month, width: 2, to: &text)
        text += "-"
        Self.append(day, width: 2, to: &text)
        text += "T"
        Self.append(Int(micro / 3_600_000_000), width: 2, to: &text)
        text += ":"
        Self.append(Int(micro / 60_000_000 % 60), width: 2, to: &text)
        text += ":"
        Self.append(Int(micro / 1_000_000 % 60), width: 2, to: &text)
        text += "."
        Self.append(Int(micro % 1_000_000), width: 6, to: &text)
        text += "Z"
        return text
    }

    private static func append(_ value: Int, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }

    // Howard Hinnant's civil-from-days algorithm.
    private static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

// MARK: - SimRandom

/// Deterministic pseudo-random numbers derived from (seed, stream, index) by hashing, so a
/// decision (a sync's outcome, whether request N fails) depends only on the seed and its own
/// index, not on how concurrent requests interleave.
enum SimRandom {
    enum Stream: UInt64 {
        case outcome = 1, fault, latency
    }

    /// A uniform number in `0..<1`.
    static func unit(seed: UInt64, _ stream: Stream, _ index: UInt64) -> Double {
        Double(Self.mix(seed, stream, index) >> 11) / Double(1 << 53)
    }

    /// SplitMix64 finaliser over the combined inputs.
    private static func mix(_ seed: UInt64, _ stream: Stream, _ index: UInt64) -> UInt64 {
        var z = seed &+ stream.rawValue &* 0x9E37_79B9_7F4A_7C15 &+ index &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
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

// MARK: - Helpers

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
