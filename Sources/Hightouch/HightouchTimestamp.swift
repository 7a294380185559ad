import Foundation
import Timestamps

// MARK: - HightouchTimestamp

/// Reads and writes the API's ISO-8601 timestamps: `2022-02-16T21:37:58.510Z`, also with an offset
/// (`2023-10-17T11:06:01.713+00:00`) or without a fraction. Written with milliseconds, in UTC.
enum HightouchTimestamp {
    /// Parses an ISO-8601 date-time, or returns `nil`.
    static func parse(_ text: String) -> Date? { RFC3339Timestamp.date(text) }

    /// Formats `date` as `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC.
    static func format(_ date: Date) -> String { RFC3339Timestamp.format(date, fractionDigits: 3) }
}

// MARK: - Decoding timestamps

extension KeyedDecodingContainer {
    /// An ISO-8601 timestamp, whatever date strategy the decoder has (so the types decode the same
    /// with any `JSONDecoder`). `null` and a missing key are `nil`.
    func decodeTimestampIfPresent(forKey key: Key) throws -> Date? {
        guard let text = try self.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let date = HightouchTimestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "Expected an ISO-8601 date-time such as 2022-02-16T21:37:58.510Z, got \"\(text)\"."
            )
        }
        return date
    }
}

// MARK: - Coders

/// JSON coders configured for the Hightouch API.
enum HightouchCoding {
    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = HightouchTimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "Expected an ISO-8601 date-time such as 2022-02-16T21:37:58.510Z, got \"\(text)\"."
                )
            }
            return date
        }
        return decoder
    }

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(HightouchTimestamp.format(date))
        }
        return encoder
    }
}
