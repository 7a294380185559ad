import Foundation

// MARK: - FivetranTimestamp

/// One of Fivetran's ISO-8601 timestamps (`2021-03-23T20:55:12.670390Z`), kept exactly.
///
/// Fivetran has no run ids: a sync is known to have ended only by `succeeded_at` or `failed_at`
/// moving past the value seen before the trigger. Fivetran writes microseconds; a `Date` (a
/// `Double` of seconds) holds them only to about a quarter of a microsecond today, and a client
/// that dropped the fraction would never see a sync that ended within the trigger's second as
/// newer. So the instant is kept as whole seconds and nanoseconds, compared exactly, and the text
/// as it arrived is kept for records and display.
public struct FivetranTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The text as Fivetran sent it.
    public let text: String
    /// Seconds since 1970-01-01T00:00:00Z (UTC).
    public let seconds: Int64
    /// The fraction, in nanoseconds (0 ..< 1e9); digits beyond the ninth are dropped.
    public let nanoseconds: Int32

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH[:MM])`; `nil` for anything else.
    public init?(_ text: String) {
        guard let parsed = Self.parse(text) else { return nil }
        self.text = text
        self.seconds = parsed.seconds
        self.nanoseconds = parsed.nanoseconds
    }

    /// The instant `date`, written as Fivetran writes it (UTC, microseconds).
    public init(date: Date) {
        let totalMicroseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        var seconds = totalMicroseconds / 1_000_000
        var micro = totalMicroseconds % 1_000_000
        if micro < 0 {
            micro += 1_000_000
            seconds -= 1
        }
        self.seconds = seconds
        self.nanoseconds = Int32(micro * 1_000)
        self.text = Self.format(seconds: seconds, microseconds: Int(micro))
    }

    /// The instant as a `Date` (to about a microsecond).
    public var date: Date {
        Date(timeIntervalSince1970: Double(self.seconds) + Double(self.nanoseconds) / 1e9)
    }

    public var description: String { self.text }

    /// Equal instants are equal whatever the text (`…56.5Z` and `…56.500000+00:00`).
    public static func == (lhs: FivetranTimestamp, rhs: FivetranTimestamp) -> Bool {
        lhs.seconds == rhs.seconds && lhs.nanoseconds == rhs.nanoseconds
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.seconds)
        hasher.combine(self.nanoseconds)
    }

    public static func < (lhs: FivetranTimestamp, rhs: FivetranTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// Whether `timestamp` is later than `baseline`; any timestamp is later than none.
    public static func isNewer(_ timestamp: FivetranTimestamp?, than baseline: FivetranTimestamp?) -> Bool {
        guard let timestamp else { return false }
        guard let baseline else { return true }
        return timestamp > baseline
    }

    // MARK: - Parsing

    private static func parse(_ text: String) -> (seconds: Int64, nanoseconds: Int32)? {
        var bytes = Array(text.utf8)[...]
        func number(_ count: Int) -> Int? {
            guard bytes.count >= count else { return nil }
            var value = 0
            for _ in 0..<count {
                let byte = bytes.removeFirst()
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard let byte = bytes.first, characters.utf8.contains(byte) else { return false }
            bytes.removeFirst()
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }

        var nanoseconds = 0
        if bytes.first == UInt8(ascii: ".") || bytes.first == UInt8(ascii: ",") {
            bytes.removeFirst()
            var digits = 0
            while let byte = bytes.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                if digits < 9 { nanoseconds = nanoseconds * 10 + Int(byte - UInt8(ascii: "0")) }
                digits += 1
                bytes.removeFirst()
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 9)..<9 { nanoseconds *= 10 }
        }

        var offsetSeconds = 0
        if expect("Zz") {
            // UTC
        } else if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            bytes.removeFirst()
            guard let offsetHours = number(2) else { return nil }
            _ = expect(":")
            let offsetMinutes = number(2) ?? 0
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            // Fivetran always writes a zone; a bare local time is ambiguous, so it is refused.
            return nil
        }
        guard bytes.isEmpty else { return nil }

        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second - offsetSeconds)
        return (seconds, Int32(nanoseconds))
    }

    private static func format(seconds: Int64, microseconds: Int) -> String {
        var days = seconds / 86_400
        var inDay = seconds % 86_400
        if inDay < 0 {
            inDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.civilFromDays(Int(days))
        func pad(_ value: some BinaryInteger, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3_600, 2)):\(pad(inDay / 60 % 60, 2)):\(pad(inDay % 60, 2)).\(pad(microseconds, 6))Z"
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

// MARK: - Codable

extension FivetranTimestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let timestamp = FivetranTimestamp(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "Expected an ISO-8601 date-time with a zone such as 2021-03-23T20:55:12.670390Z, got \"\(text)\"."
            )
        }
        self = timestamp
    }

    /// Written as received, so a stored baseline is Fivetran's own text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.text)
    }
}
