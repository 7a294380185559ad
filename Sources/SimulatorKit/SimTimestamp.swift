import Timestamps

// MARK: - SimTimestamp

/// Simulated time as vendors write it. Simulators keep time as seconds since 1970 (a `Double`);
/// each vendor's API writes its instants in UTC with its own precision and spelling, given by a
/// ``Style``.
public enum SimTimestamp {
    /// How a vendor writes an instant: `<date><separator><time>.<fraction><zone>`.
    public struct Style: Sendable, Hashable {
        /// Digits after the seconds (3: milliseconds, 6: microseconds); the instant is rounded
        /// down to them.
        public var fractionDigits: Int
        /// Between the date and the time: `T` (ISO-8601) or a space (Python's `str(datetime)`).
        public var separator: String
        /// The zone written after the time: `Z` or `+00:00`.
        public var zone: String

        public init(fractionDigits: Int, separator: String = "T", zone: String = "Z") {
            self.fractionDigits = max(0, min(9, fractionDigits))
            self.separator = separator
            self.zone = zone
        }

        /// `2022-02-16T21:37:58.510Z`.
        public static let milliseconds = Style(fractionDigits: 3)
        /// `2021-03-23T20:55:12.670390Z`.
        public static let microseconds = Style(fractionDigits: 6)
        /// `2021-12-07 10:32:24.326116+00:00`: Python's `str()` of an aware datetime.
        public static let python = Style(fractionDigits: 6, separator: " ", zone: "+00:00")
    }

    /// `seconds` since 1970 written in `style`, in UTC.
    public static func format(_ seconds: Double, _ style: Style) -> String {
        var scale: Int64 = 1
        for _ in 0..<style.fractionDigits { scale *= 10 }
        let total = Int64((seconds * Double(scale)).rounded(.down))
        let perDay = 86_400 * scale
        var days = total / perDay
        var inDay = total % perDay
        if inDay < 0 {
            inDay += perDay
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: Int(days))
        let second = Int(inDay / scale)
        var text = ""
        text.reserveCapacity(20 + style.fractionDigits + style.zone.count)
        Self.append(year, width: 4, to: &text)
        text += "-"
        Self.append(month, width: 2, to: &text)
        text += "-"
        Self.append(day, width: 2, to: &text)
        text += style.separator
        Self.append(second / 3_600, width: 2, to: &text)
        text += ":"
        Self.append(second / 60 % 60, width: 2, to: &text)
        text += ":"
        Self.append(second % 60, width: 2, to: &text)
        if style.fractionDigits > 0 {
            text += "."
            Self.append(Int(inDay % scale), width: style.fractionDigits, to: &text)
        }
        text += style.zone
        return text
    }

    /// Parses `YYYY-MM-DD[(T|t| )HH:mm[:ss[.fff…]]][Z|±HH[:MM]]` (a date alone means midnight UTC,
    /// no zone means UTC), or returns `nil`.
    public static func parse(_ text: some StringProtocol) -> Double? {
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

    // The proleptic Gregorian calendar, from the leaf module the vendor clients use too (a
    // calendar, not the operator's code).

    /// Days since 1970-01-01 of a date.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        RFC3339Timestamp.days(year: year, month: month, day: day)
    }

    /// The date (year, month, day) `days` after 1970-01-01.
    public static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        RFC3339Timestamp.civil(fromDays: days)
    }
}

// MARK: - SimRandom

/// Deterministic pseudo-random numbers derived from (seed, stream, index) by hashing, so a
/// decision (a run's outcome, whether request N fails) depends only on the seed and its own index,
/// not on how concurrent requests interleave.
public enum SimRandom {
    /// A uniform number in `0..<1`.
    public static func unit(seed: UInt64, _ stream: SimRandomStream, _ index: UInt64) -> Double {
        Double(Self.bits(seed: seed, stream, index) >> 11) / Double(1 << 53)
    }

    /// A uniform integer in `range`.
    public static func integer(seed: UInt64, _ stream: SimRandomStream, _ index: UInt64, in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(Self.bits(seed: seed, stream, index) % span)
    }

    /// 64 random bits: SplitMix64's finaliser over the combined inputs.
    public static func bits(seed: UInt64, _ stream: SimRandomStream, _ index: UInt64) -> UInt64 {
        var z = seed &+ stream.rawValue &* 0x9E37_79B9_7F4A_7C15 &+ index &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One kind of decision a simulator draws (outcomes, faults, latency, ...). Each simulator numbers
/// its own streams (`extension SimRandomStream { static let outcome = SimRandomStream(1) }`): the
/// numbers are part of what a seed produces, so they never change.
public struct SimRandomStream: Sendable, Hashable {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }
}

// MARK: - Duration

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
