import Foundation
import Timestamps

// MARK: - CensusTimestamp

/// The API's timestamps: ISO-8601 date-times such as `2021-10-20T02:51:07.546Z`, also with an
/// offset (`+00:00`), more or fewer fraction digits, or none. Written in UTC with milliseconds.
enum CensusTimestamp {
    /// Parses an ISO-8601 date-time, or returns `nil`.
    static func parse(_ text: String) -> Date? { RFC3339Timestamp.date(text) }

    /// `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC.
    static func format(_ date: Date) -> String { RFC3339Timestamp.format(date, fractionDigits: 3) }
}

// MARK: - Decoding helpers

extension KeyedDecodingContainer {
    /// An ISO-8601 timestamp, whatever date strategy the decoder has. `null` and a missing key are `nil`.
    func decodeCensusTimestamp(forKey key: Key) throws -> Date? {
        guard let text = try self.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let date = CensusTimestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription: "Expected an ISO-8601 date-time such as 2021-10-20T02:51:07.546Z, got \"\(text)\"."
            )
        }
        return date
    }

    /// A count: a JSON number (whole), `null` or missing is `nil`; a fractional or negative count
    /// is refused, a numeric string accepted.
    func decodeCensusCount(forKey key: Key) throws -> Int? {
        if let integer = try? self.decodeIfPresent(Int.self, forKey: key) { return integer }
        if let number = try? self.decodeIfPresent(Double.self, forKey: key) {
            guard number.rounded() == number, abs(number) < 9_007_199_254_740_992 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "Expected a whole number, got \(number).")
            }
            return Int(number)
        }
        if let text = try? self.decodeIfPresent(String.self, forKey: key) {
            guard let value = Int(text.censusTrimmed) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "Expected a whole number, got \"\(text)\".")
            }
            return value
        }
        guard try !self.contains(key) || self.decodeNil(forKey: key) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "Expected a whole number or null.")
        }
        return nil
    }

    /// A string, or `nil` for `null`/missing; any other JSON is kept as its compact text (error
    /// details arrive as objects in some workspaces).
    func decodeCensusText(forKey key: Key) throws -> String? {
        switch try self.decodeIfPresent(VendorJSON.self, forKey: key) {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: return other.description
        }
    }
}
