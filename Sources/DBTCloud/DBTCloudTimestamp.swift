import Foundation
import Timestamps

// MARK: - DBTCloudTimestamp

/// Reads dbt Cloud's timestamps, which come in two spellings: the runs' Python `str(datetime)`
/// (`2021-12-07 10:32:24.326116+00:00`, a space, microseconds, an offset) and ISO-8601
/// (`2021-11-18T15:19:03.185668+00:00`, `...Z`, with or without a fraction).
public enum DBTCloudTimestamp {
    /// Parses either spelling, or returns `nil`.
    public static func parse(_ text: String) -> Date? { RFC3339Timestamp.date(text) }
}

// MARK: - Lenient decoding

extension KeyedDecodingContainer {
    /// A timestamp in either of dbt Cloud's spellings; `null` and a missing key are `nil`.
    func decodeTimestampIfPresent(forKey key: Key) throws -> Date? {
        guard let text = try self.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let date = DBTCloudTimestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "Expected a date-time such as 2021-12-07 10:32:24.326116+00:00, got \"\(text)\"."
            )
        }
        return date
    }

    /// An id the API sends as a number (v2) or a string of digits (some list answers).
    func decodeIDIfPresent(forKey key: Key) throws -> Int? {
        if try !self.contains(key) || self.decodeNil(forKey: key) { return nil }
        if let number = try? self.decode(Int.self, forKey: key) { return number }
        let text = try self.decode(String.self, forKey: key)
        guard let number = Int(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "Expected a numeric id, got \"\(text)\".")
        }
        return number
    }

    func decodeID(forKey key: Key) throws -> Int {
        guard let id = try self.decodeIDIfPresent(forKey: key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: self.codingPath, debugDescription: "The id is missing or null."))
        }
        return id
    }
}
