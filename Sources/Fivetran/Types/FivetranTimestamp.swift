import Foundation
import Timestamps

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

    /// Fivetran always writes a zone; a bare local time is ambiguous, so it is refused.
    private static func parse(_ text: String) -> (seconds: Int64, nanoseconds: Int32)? {
        RFC3339Timestamp.parse(text, requiringZone: true)
    }

    private static func format(seconds: Int64, microseconds: Int) -> String {
        RFC3339Timestamp.format(seconds: seconds, fraction: microseconds, fractionDigits: 6)
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
