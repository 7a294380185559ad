/// Parsing of environment variable values, with errors that name the variable and say what is
/// accepted, in one line.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let variable: String
    public let value: String?
    public let expected: String

    public init(variable: String, value: String?, expected: String) {
        self.variable = variable
        self.value = value
        self.expected = expected
    }

    public var description: String {
        if let value {
            return "\(variable)=\"\(value.prefix(80))\" is not valid: expected \(expected)"
        }
        return "\(variable) is missing: expected \(expected)"
    }
}

/// Go-style durations, as the seed operator (written in Go) accepts them: a sequence of decimal
/// numbers with units `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`: `500ms`, `10s`, `1m30s`, `1.5h`.
public enum DurationParser {
    public static let expectation = "a duration like 500ms, 10s, 1m, 1m30s or 2h"

    public static func parse(_ text: String) -> Duration? {
        let characters = Array(text.trimmingCharacters())
        guard !characters.isEmpty else { return nil }
        if characters == ["0"] { return .zero }
        var index = 0
        var total = Duration.zero
        while index < characters.count {
            var number = ""
            while index < characters.count, characters[index].isNumber || characters[index] == "." {
                number.append(characters[index])
                index += 1
            }
            guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
            var unit = ""
            while index < characters.count, !(characters[index].isNumber || characters[index] == ".") {
                unit.append(characters[index])
                index += 1
            }
            let nanosecondsPerUnit: Double
            switch unit {
            case "ns": nanosecondsPerUnit = 1
            case "us", "µs", "μs": nanosecondsPerUnit = 1e3
            case "ms": nanosecondsPerUnit = 1e6
            case "s": nanosecondsPerUnit = 1e9
            case "m": nanosecondsPerUnit = 60e9
            case "h": nanosecondsPerUnit = 3600e9
            default: return nil
            }
            let nanoseconds = value * nanosecondsPerUnit
            guard nanoseconds < 9e18 else { return nil }
            total += .nanoseconds(Int64(nanoseconds.rounded()))
        }
        return total
    }

    /// `1m30s`-style text for a duration (whole milliseconds).
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0s" }
        if milliseconds % 1000 != 0 { return "\(milliseconds)ms" }
        var remaining = milliseconds / 1000
        var text = ""
        if remaining >= 3600 {
            text += "\(remaining / 3600)h"
            remaining %= 3600
        }
        if remaining >= 60 {
            text += "\(remaining / 60)m"
            remaining %= 60
        }
        if remaining > 0 || text.isEmpty { text += "\(remaining)s" }
        return text
    }
}

/// Reads typed values out of an environment; a bad value throws a ``ConfigurationError`` naming
/// the variable. Empty values count as unset.
public struct EnvironmentReader: Sendable {
    public let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func string(_ name: String, default fallback: String) -> String {
        guard let value = environment[name], !value.isEmpty else { return fallback }
        return value
    }

    public func optionalString(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    public func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = optionalString(name) else { return fallback }
        guard let value = Int(text.trimmingCharacters()), range.contains(value) else {
            throw ConfigurationError(variable: name, value: text, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    public func duration(_ name: String, default fallback: Duration, minimum: Duration = .milliseconds(1)) throws(ConfigurationError) -> Duration {
        guard let text = optionalString(name) else { return fallback }
        guard let value = DurationParser.parse(text), value >= minimum else {
            throw ConfigurationError(variable: name, value: text, expected: DurationParser.expectation + " (at least \(DurationParser.format(minimum)))")
        }
        return value
    }

    /// Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
    public func boolean(_ name: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let text = optionalString(name) else { return fallback }
        switch text.trimmingCharacters() {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: throw ConfigurationError(variable: name, value: text, expected: "true or false")
        }
    }

    public func choice(_ name: String, default fallback: String, allowed: [String]) throws(ConfigurationError) -> String {
        guard let text = optionalString(name) else { return fallback }
        let value = text.trimmingCharacters().lowercased()
        guard allowed.contains(value) else {
            throw ConfigurationError(variable: name, value: text, expected: "one of " + allowed.joined(separator: ", "))
        }
        return value
    }
}

extension String {
    /// Without leading and trailing white space.
    public func trimmingCharacters() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
