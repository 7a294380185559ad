import Foundation

// MARK: - DBTCloudTimestamp

/// Reads dbt Cloud's timestamps, which come in two spellings: the runs' Python `str(datetime)`
/// (`2021-12-07 10:32:24.326116+00:00`, a space, microseconds, an offset) and ISO-8601
/// (`2021-11-18T15:19:03.185668+00:00`, `...Z`, with or without a fraction).
public enum DBTCloudTimestamp {
    /// Parses either spelling, or returns `nil`.
    public static func parse(_ text: String) -> Date? {
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

        var fraction = 0.0
        if bytes.first == UInt8(ascii: ".") {
            bytes.removeFirst()
            var scale = 0.1
            var digits = 0
            while let byte = bytes.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                fraction += Double(byte - UInt8(ascii: "0")) * scale
                scale /= 10
                digits += 1
                bytes.removeFirst()
            }
            guard digits > 0 else { return nil }
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
        } else if !bytes.isEmpty {
            return nil
        }
        guard bytes.isEmpty else { return nil }

        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    // Howard Hinnant's days-from-civil (proleptic Gregorian calendar).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
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
