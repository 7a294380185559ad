import FactoryModel

// MARK: - Durations

/// Durations as users write them (`500ms`, `5s`, `1m30s`, `2h`): the operator's own parser, so
/// factoryctl and the operator's environment agree on the syntax.
enum Durations {
    static func parse(_ text: String, option: String) throws(CLIError) -> Duration {
        guard let value = DurationParser.parse(text), value > .zero else {
            throw .invalidInput("\(option) must be a positive duration such as 500ms, 5s or 1m; got '\(text)'")
        }
        return value
    }

    static func text(_ duration: Duration) -> String {
        DurationParser.format(duration)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
