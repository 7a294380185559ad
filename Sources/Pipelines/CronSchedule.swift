import Foundation

/// A cron schedule (five fields: minute, hour, day of month, month, day of week; `*`, lists,
/// ranges, steps, month and day names, `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`) in a
/// time zone. When both day fields are restricted, a day matching either fires (as cron does).
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    public let expression: String
    public let timeZone: TimeZone
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday.
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public var description: String { "\(expression) (\(timeZone.identifier))" }

    public struct ParseError: Error, Hashable, CustomStringConvertible {
        public let description: String
    }

    public init(_ expression: String, timeZone identifier: String = "UTC") throws(ParseError) {
        guard let timeZone = TimeZone(identifier: identifier) else {
            throw ParseError(description: "unknown time zone \(identifier) (an IANA name such as UTC or Europe/Berlin)")
        }
        let macros = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"]
        let text = macros[expression.trimmingCharacters(in: .whitespaces)] ?? expression
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "\"\(expression)\" has \(fields.count) fields; cron needs five (minute hour day-of-month month day-of-week) or a macro such as @daily")
        }
        let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        self.expression = expression
        self.timeZone = timeZone
        minutes = try Self.field(fields[0], "minute", 0...59).sorted()
        hours = try Self.field(fields[1], "hour", 0...23).sorted()
        daysOfMonth = try Self.field(fields[2], "day of month", 1...31)
        months = try Self.field(fields[3], "month", 1...12, names: monthNames, nameBase: 1)
        daysOfWeek = Set(try Self.field(fields[4], "day of week", 0...7, names: dayNames, nameBase: 0).map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*" && fields[2] != "?"
        dayOfWeekRestricted = fields[4] != "*" && fields[4] != "?"
    }

    private static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0) throws(ParseError) -> Set<Int> {
        func value(_ token: Substring) throws(ParseError) -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let index = names.firstIndex(of: token.uppercased()) { return index + nameBase }
            throw ParseError(description: "\(name) \"\(token)\" is not in \(range.lowerBound)-\(range.upperBound)")
        }
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = part.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2, let base = stepParts.first, !base.isEmpty else { throw ParseError(description: "\(name) \"\(part)\" is not a cron field") }
            var step = 1
            if stepParts.count == 2 {
                guard let parsed = Int(stepParts[1]), parsed > 0 else { throw ParseError(description: "\(name) step \"\(stepParts[1])\" is not a positive number") }
                step = parsed
            }
            let lower: Int
            let upper: Int
            if base == "*" || base == "?" {
                (lower, upper) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                lower = try value(base[..<dash])
                upper = try value(base[base.index(after: dash)...])
                guard lower <= upper else { throw ParseError(description: "\(name) range \"\(base)\" runs backwards") }
            } else {
                lower = try value(base)
                upper = stepParts.count == 2 ? range.upperBound : lower
            }
            values.formUnion(stride(from: lower, through: upper, by: step))
        }
        return values
    }

    /// The first slot strictly after `date` (nil if none within five years, e.g. 30 February).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard var day = calendar.date(from: calendar.dateComponents([.year, .month, .day], from: date)) else { return nil }
        for _ in 0..<(366 * 5) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday, months.contains(month), matchesDay(dayOfMonth, weekday - 1) {
                for hour in hours {
                    for minute in minutes {
                        var slot = DateComponents()
                        (slot.year, slot.month, slot.day, slot.hour, slot.minute) = (parts.year, month, dayOfMonth, hour, minute)
                        guard let candidate = calendar.date(from: slot), candidate > date else { continue }
                        // A local time that does not exist (a DST gap) is not a slot.
                        let back = calendar.dateComponents([.hour, .minute], from: candidate)
                        if back.hour == hour && back.minute == minute { return candidate }
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = following
        }
        return nil
    }

    private func matchesDay(_ dayOfMonth: Int, _ dayOfWeek: Int) -> Bool {
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(dayOfWeek)
        case (true, false): daysOfMonth.contains(dayOfMonth)
        case (false, true): daysOfWeek.contains(dayOfWeek)
        case (false, false): true
        }
    }

    public static func == (lhs: CronSchedule, rhs: CronSchedule) -> Bool {
        lhs.expression == rhs.expression && lhs.timeZone.identifier == rhs.timeZone.identifier
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(expression)
        hasher.combine(timeZone.identifier)
    }
}
