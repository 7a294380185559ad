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

    /// Compact JSON with sorted keys. Written member by member: the run through the encoder, the
    /// spec by its own writer (through `Codable`, a spec costs more than the run it carries).
    public func encoded() -> [UInt8] {
        // The types are the module's own Codable values: failing here is a defect.
        guard let run = try? Self.encoder.encode(run) else { return [] }
        var output: [UInt8] = []
        output.reserveCapacity(run.count + 1024)
        output.append(UInt8(ascii: "{"))
        if let downstreamPublished {
            output.append(contentsOf: #""downstreamPublished":"#.utf8)
            output.append(contentsOf: (downstreamPublished ? "true," : "false,").utf8)
        }
        output.append(contentsOf: #""run":"#.utf8)
        output.append(contentsOf: run)
        output.append(contentsOf: #","spec":"#.utf8)
        output.append(contentsOf: spec.serializedBytes(sortedKeys: true))
        output.append(contentsOf: #","version":"#.utf8)
        output.append(contentsOf: String(version).utf8)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// The run alone as JSON (times as RFC 3339 text), for people and tools.
    public var runJSON: JSONValue {
        guard let data = try? Self.encoder.encode(run), let value = try? JSONValue(parsing: Array(data)) else { return .null }
        return value
    }

    /// Reads a stored run, refusing a newer version (a newer replica wrote it) and anything
    /// that is not a run document, with a message naming the key. The document is parsed once;
    /// the spec is kept as parsed and only the run goes through the decoder (a spec decoded as
    /// `JSONValue` through `Codable` tries each kind of value in turn, most of a replica's CPU
    /// under load).
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
            run = try decoder.decode(PipelineRun.self, from: Data(runValue.serializedBytes()))
        } catch {
            throw PipelineDocumentError(key: key, message: "unreadable: \(error)")
        }
        var decoded = PipelineRunDocument(run: run, spec: spec)
        decoded.version = version
        decoded.downstreamPublished = downstreamPublished
        return decoded
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(PipelineTime.format(date))
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = PipelineTime.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not an RFC 3339 time")
            }
            return date
        }
        return decoder
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

/// RFC 3339 times with milliseconds, in UTC, as the state documents write them.
public enum PipelineTime {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC") ?? .gmt))
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
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
