import FactoryModel
import Foundation
import JSONSchema

/// A run as it is stored: one KV document (`run.<workspace>.<pipeline>.<runId>` in the pipeline
/// bucket), written by compare-and-set, with the spec the run follows (a run keeps the spec it
/// started with, whatever is applied later).
///
/// ```json
/// {"version": 1, "run": {"id": "20261121-100000-3fa2c1", "state": "running", "tasks": {…}, …}, "spec": {…}}
/// ```
public struct PipelineRunDocument: Sendable, Hashable, Codable {
    /// The version this build writes and the highest it reads.
    public static let currentVersion = 1

    public var version: Int
    public var run: PipelineRun
    /// The pipeline's spec as JSON, as applied when the run was created.
    public var spec: JSONValue
    /// Set once the runs this run's end starts (pipelines with a `pipeline` input naming it) are
    /// published; a replica that sees a finished run without it publishes them (their message ids
    /// make it once).
    public var downstreamPublished: Bool?

    public init(run: PipelineRun, spec: JSONValue) {
        self.version = Self.currentVersion
        self.run = run
        self.spec = spec
    }

    /// Compact JSON with sorted keys.
    public func encoded() -> [UInt8] {
        var document: JSONObject = ["version": .number(JSONNumber(version)), "run": run.json, "spec": spec]
        if let downstreamPublished { document["downstreamPublished"] = .bool(downstreamPublished) }
        return JSONValue.object(document).serializedBytes(sortedKeys: true)
    }

    /// The run alone as JSON (times as RFC 3339 text), for people and tools.
    public var runJSON: JSONValue { run.json }

    /// Reads a stored run, refusing a newer version (a newer replica wrote it) and anything
    /// that is not a run document, with a message naming the key. Parsed once by the project's
    /// JSON parser and read member by member (PipelineRun+JSON.swift): through `JSONDecoder`, the
    /// spec decoded as `JSONValue` tried each kind of value in turn, and the run's decoding was
    /// most of a replica's CPU under load.
    public static func decode(_ bytes: some Collection<UInt8>, key: String) throws(PipelineDocumentError) -> PipelineRunDocument {
        guard let document = try? JSONValue(parsing: bytes), case .object(let members) = document,
            let version = members["version"]?.numberValue?.intValue
        else {
            throw PipelineDocumentError(key: key, message: "not a pipeline run document (no version)")
        }
        guard version <= currentVersion else {
            throw PipelineDocumentError(key: key, message: "written by a newer release (version \(version); this one reads up to \(currentVersion)): upgrade this replica")
        }
        guard let runValue = members["run"] else {
            throw PipelineDocumentError(key: key, message: "unreadable: it has no run")
        }
        guard let spec = members["spec"] else {
            throw PipelineDocumentError(key: key, message: "unreadable: it has no spec")
        }
        var downstreamPublished: Bool?
        switch members["downstreamPublished"] {
        case nil, .null?: break
        case .bool(let value)?: downstreamPublished = value
        case let other?: throw PipelineDocumentError(key: key, message: "unreadable: downstreamPublished is \(other.serialized()), not true or false")
        }
        let run: PipelineRun
        do {
            run = try PipelineRun(json: runValue)
        } catch {
            throw PipelineDocumentError(key: key, message: "unreadable: \(error)")
        }
        var decoded = PipelineRunDocument(run: run, spec: spec)
        decoded.version = version
        decoded.downstreamPublished = downstreamPublished
        return decoded
    }

    /// The `Codable` form, as the previous release wrote documents (tests write old documents
    /// with it).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(PipelineTime.format(date))
        }
        return encoder
    }()
}

/// A stored pipeline document that cannot be read.
public struct PipelineDocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

/// RFC 3339 times with milliseconds, in UTC, as the state documents write them
/// (`2026-12-05T12:00:00.250Z`). Written and read by hand for that one form: a run document
/// carries several times per task attempt and is read on every step, and Foundation's
/// `ISO8601FormatStyle` was a tenth of a replica's CPU doing it. Any other RFC 3339 form (an
/// offset, other fractions) is read by `ISO8601FormatStyle`, as before.
public enum PipelineTime {
    public static func format(_ date: Date) -> String {
        // Milliseconds, rounded down as ISO8601FormatStyle does (half a microsecond of slack,
        // so that a time read from its text writes the same text).
        let milliseconds = (date.timeIntervalSince1970 * 1000 + 0.0005).rounded(.down)
        guard milliseconds.isFinite, abs(milliseconds) < 250_000_000_000_000 else { return foundationFormat(date) }
        let total = Int64(milliseconds)
        let days = floorDivide(total, 86_400_000)
        let ofDay = total - days * 86_400_000
        let (year, month, day) = civil(fromDays: days)
        guard (0...9999).contains(year) else { return foundationFormat(date) }
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        text.append(UInt8(ascii: "-"))
        digits(month, 2)
        text.append(UInt8(ascii: "-"))
        digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(ofDay / 3_600_000, 2)
        text.append(UInt8(ascii: ":"))
        digits(ofDay / 60_000 % 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(ofDay / 1000 % 60, 2)
        text.append(UInt8(ascii: "."))
        digits(ofDay % 1000, 3)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    public static func parse(_ text: String) -> Date? {
        if let date = parseUTC(Array(text.utf8)) { return date }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` or `YYYY-MM-DDTHH:MM:SSZ`, a valid day and time; nil for
    /// anything else.
    static func parseUTC(_ bytes: [UInt8]) -> Date? {
        guard bytes.count == 24 || bytes.count == 20, bytes[bytes.count - 1] == UInt8(ascii: "Z") else { return nil }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        for (index, character) in separators where bytes[index] != character.asciiValue { return nil }
        func number(_ start: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var milliseconds: Int64 = 0
        if bytes.count == 24 {
            guard bytes[19] == UInt8(ascii: "."), let fraction = number(20, 3) else { return nil }
            milliseconds = fraction
        }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60 else { return nil }
        let days = self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000)
    }

    private static func foundationFormat(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC") ?? .gmt))
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day since 1970-01-01 (`civil_from_days`).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yearOfEra + era * 400 + 1 : yearOfEra + era * 400, month, day)
    }
}

extension PipelineRun {
    /// A run's id: sortable by when its command's intent was recorded, unique by the command:
    /// `YYYYMMDD-HHMMSS-<the first 6 hex digits of the SHA-256 of the command id>` (UTC). The same
    /// command resumed after a crash gets the same id (its intent time is recorded).
    public static func id(commandID: String, at intent: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: intent)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let date = String(format: "%04d", parts.year ?? 0) + two(parts.month) + two(parts.day)
        let time = two(parts.hour) + two(parts.minute) + two(parts.second)
        return "\(date)-\(time)-\(SHA256.hexDigest(Array(commandID.utf8)).prefix(6))"
    }
}
