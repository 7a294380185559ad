// MARK: - SimTimestamp

/// The API's timestamps: ISO-8601 in UTC with milliseconds (`2022-02-16T21:37:58.510Z`).
/// Simulated time is kept as seconds since 1970.
enum SimTimestamp {
    static func format(_ seconds: Double) -> String {
        let totalMilliseconds = Int64((seconds * 1_000).rounded(.down))
        var days = totalMilliseconds / 86_400_000
        var milliseconds = totalMilliseconds % 86_400_000
        if milliseconds < 0 {
            milliseconds += 86_400_000
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: Int(days))
        var text = ""
        text.reserveCapacity(24)
        Self.append(year, width: 4, to: &text)
        text += "-"
        Self.append(month, width: 2, to: &text)
        text += "-"
        Self.append(day, width: 2, to: &text)
        text += "T"
        Self.append(Int(milliseconds / 3_600_000), width: 2, to: &text)
        text += ":"
        Self.append(Int(milliseconds / 60_000 % 60), width: 2, to: &text)
        text += ":"
        Self.append(Int(milliseconds / 1_000 % 60), width: 2, to: &text)
        text += "."
        Self.append(Int(milliseconds % 1_000), width: 3, to: &text)
        text += "Z"
        return text
    }

    /// Parses `YYYY-MM-DDTHH:mm:ss[.fff][Z|±HH:MM]` (a date alone means midnight UTC).
    static func parse(_ text: some StringProtocol) -> Double? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += count
            return value
        }
        func skip(_ character: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), skip(45), let month = digits(2), skip(45), let day = digits(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = Double(Self.days(year: year, month: month, day: day) * 86_400)
        guard index < bytes.count else { return seconds }
        guard skip(84) || skip(116) || skip(32), let hour = digits(2), skip(58), let minute = digits(2), hour < 24, minute < 60
        else { return nil }
        seconds += Double(hour * 3_600 + minute * 60)
        if skip(58) {
            guard let second = digits(2), second < 61 else { return nil }
            seconds += Double(second)
            if skip(46) {
                var scale = 0.1
                let start = index
                while index < bytes.count, (48...57).contains(bytes[index]) {
                    seconds += Double(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                }
                guard index > start else { return nil }
            }
        }
        if skip(90) || skip(122) {
            // UTC
        } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let sign = bytes[index] == 45 ? -1.0 : 1.0
            index += 1
            guard let offsetHours = digits(2) else { return nil }
            _ = skip(58)
            let offsetMinutes = digits(2) ?? 0
            seconds -= sign * Double(offsetHours * 3_600 + offsetMinutes * 60)
        }
        return index == bytes.count ? seconds : nil
    }

    private static func append(_ value: Int, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }

    // Howard Hinnant's civil-calendar algorithms.
    private static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

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
        case outcome = 1, querySize, fault, latency, rowSplit
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

    /// SplitMix64 finaliser over the combined inputs.
    private static func mix(_ seed: UInt64, _ stream: Stream, _ index: UInt64) -> UInt64 {
        var z = seed &+ stream.rawValue &* 0x9E37_79B9_7F4A_7C15 &+ index &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
