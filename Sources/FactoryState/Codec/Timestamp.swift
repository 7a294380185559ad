import Foundation

/// RFC 3339 timestamps with milliseconds, in UTC: how every date in state, replies and the
/// dead-letter stream is written.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        // Written by hand: every state write and status answer formats several dates, and the
        // ISO 8601 format style costs microseconds each. Same text (StateCodecTests).
        // Truncated to the millisecond, after a microsecond of slack: a timestamp read back from
        // its text is the nearest Double, which may lie a fraction of a microsecond below it, and
        // written again it must give the same text, not a millisecond less.
        let milliseconds = (date.timeIntervalSince1970 * 1000 + 0.001).rounded(.down)
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000 else { return formatWithFoundation(date) }
        let total = Int64(milliseconds)
        var seconds = time_t(total / 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return formatWithFoundation(date) }
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        text.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        text.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        text.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        text.append(UInt8(ascii: "."))
        digits(Int32(total % 1000), 3)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    public static func formatWithFoundation(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: .iso8601)
    }
}
