import Foundation
import VendorHTTP

// MARK: - CensusTimestamp

/// The API's timestamps: ISO-8601 date-times such as `2021-10-20T02:51:07.546Z`, also with an
/// offset (`+00:00`), more or fewer fraction digits, or none. Written in UTC with milliseconds.
enum CensusTimestamp {
    /// Parses an ISO-8601 date-time, or returns `nil`.
    static func parse(_ text: String) -> Date? {
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
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }

        var fraction = 0.0
        if expect(".,") {
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
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds) + fraction)
    }

    /// `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC.
    static func format(_ date: Date) -> String {
        let total = Int64((date.timeIntervalSince1970 * 1_000).rounded(.down))
        var days = total / 86_400_000
        var milliseconds = total % 86_400_000
        if milliseconds < 0 {
            milliseconds += 86_400_000
            days -= 1
        }
        let (year, month, day) = Self.civilFromDays(Int(days))
        func pad(_ value: some BinaryInteger, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(milliseconds / 3_600_000, 2)):\(pad(milliseconds / 60_000 % 60, 2)):"
            + "\(pad(milliseconds / 1_000 % 60, 2)).\(pad(milliseconds % 1_000, 3))Z"
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
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
