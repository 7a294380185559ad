// MARK: - SimTimestamp

/// Census's timestamps: ISO-8601 in UTC with milliseconds (`2021-10-20T02:51:07.546Z`).
/// Simulated time is kept as seconds since 1970.
enum SimTimestamp {
    static func format(_ seconds: Double) -> String {
        let total = Int64((seconds * 1_000).rounded(.down))
        var days = total / 86_400_000
        var milliseconds = total % 86_400_000
        if milliseconds < 0 {
            milliseconds += 86_400_000
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: Int(days))
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        let time = Int(milliseconds)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(time / 3_600_000, 2)):\(pad(time / 60_000 % 60, 2)):"
            + "\(pad(time / 1_000 % 60, 2)).\(pad(time % 1_000, 3))Z"
    }

    // Howard Hinnant's civil-from-days (proleptic Gregorian calendar).
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

/// Deterministic pseudo-random numbers derived from (seed, stream, index) by hashing, so a decision
/// (a run's outcome, whether request N fails) depends only on the seed and its own index, not on
/// how concurrent requests interleave.
enum SimRandom {
    enum Stream: UInt64 {
        case outcome = 1, recordCount, fault, latency
    }

    /// A uniform number in `0..<1`.
    static func unit(seed: UInt64, _ stream: Stream, _ index: UInt64) -> Double {
        Double(Self.mix(seed, stream, index) >> 11) / Double(1 << 53)
    }

    /// A uniform integer in `range`.
    static func integer(seed: UInt64, _ stream: Stream, _ index: UInt64, in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(Self.mix(seed, stream, index) % span)
    }

    /// SplitMix64's finaliser over the combined inputs.
    private static func mix(_ seed: UInt64, _ stream: Stream, _ index: UInt64) -> UInt64 {
        var z = seed &+ stream.rawValue &* 0x9E37_79B9_7F4A_7C15 &+ index &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
