import Foundation

// MARK: - RFC3339Timestamp

/// The date-times vendor APIs and the operator's own documents write: ISO-8601 (`2022-02-16T21:37:58.510Z`,
/// `2021-11-18T15:19:03.185668+00:00`) and Python's `str(datetime)` (`2021-12-07 10:32:24.326116+00:00`),
/// with any number of fraction digits (`.` or `,`) or none. Each client keeps what is its own (its
/// precision, whether a zone may be missing, its decoding errors) and reads and writes through this.
public enum RFC3339Timestamp {
    /// Parses `YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)fraction][Z|z|±HH[:MM]]`: whole seconds since 1970
    /// and nanoseconds (digits beyond the ninth are dropped), or `nil`. Without a zone the time is
    /// UTC, unless `requiringZone` (a bare local time is ambiguous), then `nil`.
    public static func parse(_ text: String, requiringZone: Bool = false) -> (seconds: Int64, nanoseconds: Int32)? {
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
        if expect(".,") {
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
        } else if requiringZone {
            return nil
        }
        guard bytes.isEmpty else { return nil }

        let days = Self.days(year: year, month: month, day: day)
        return (Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second - offsetSeconds), Int32(nanoseconds))
    }

    /// ``parse(_:requiringZone:)`` as a `Date` (to about a microsecond).
    public static func date(_ text: String, requiringZone: Bool = false) -> Date? {
        guard let (seconds, nanoseconds) = self.parse(text, requiringZone: requiringZone) else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
    }

    /// `date` as `yyyy-MM-ddTHH:mm:ss.<fractionDigits>Z` in UTC, the fraction rounded down, with
    /// half a microsecond of slack: a time read from `…:00.999Z` (a double a hair below it) writes
    /// `.999` again, not `.998`, so a document rewritten many times keeps its times.
    public static func format(_ date: Date, fractionDigits: Int) -> String {
        let digits = max(0, min(9, fractionDigits))
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let total = Int64(((date.timeIntervalSince1970 + 5e-7) * Double(scale)).rounded(.down))
        var seconds = total / scale
        var fraction = total % scale
        if fraction < 0 {
            fraction += scale
            seconds -= 1
        }
        return self.format(seconds: seconds, fraction: Int(fraction), fractionDigits: digits)
    }

    /// Whole `seconds` since 1970 and `fraction` (in units of 10^-`fractionDigits` s) as
    /// `yyyy-MM-ddTHH:mm:ss.<fraction>Z` in UTC.
    public static func format(seconds: Int64, fraction: Int, fractionDigits: Int) -> String {
        var days = seconds / 86_400
        var inDay = seconds % 86_400
        if inDay < 0 {
            inDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: Int(days))
        func pad(_ value: some BinaryInteger, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        let fractionText = fractionDigits > 0 ? "." + pad(fraction, fractionDigits) : ""
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3_600, 2)):\(pad(inDay / 60 % 60, 2)):\(pad(inDay % 60, 2))\(fractionText)Z"
    }

    // Howard Hinnant's civil-calendar algorithms (proleptic Gregorian calendar).

    /// Days since 1970-01-01 of a date.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    public static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
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
