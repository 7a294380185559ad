import FactoryModel
import Foundation
import JSONSchema
import Timestamps

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
    /// The replica (`OPERATOR_INSTANCE_ID`) whose advancer wrote this revision: it moves the run
    /// on next, the others only when it stays silent (a run advanced by every replica at once
    /// costs each step once per replica and a lost compare-and-set).
    public var writer: String?

    public init(run: PipelineRun, spec: JSONValue) {
        self.version = Self.currentVersion
        self.run = run
        self.spec = spec
    }

    /// Compact JSON with sorted keys.
    public func encoded() -> [UInt8] {
        var document: JSONObject = ["version": .number(JSONNumber(version)), "run": run.json, "spec": spec]
        if let downstreamPublished { document["downstreamPublished"] = .bool(downstreamPublished) }
        if let writer { document["writer"] = .string(writer) }
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
        if case .string(let writer)? = members["writer"] { decoded.writer = writer }
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
/// (`2026-12-05T12:00:00.250Z`), through `RFC3339Timestamp`: a run document carries several
/// times per task attempt and is read on every step, and Foundation's `ISO8601FormatStyle` was a
/// tenth of a replica's CPU doing it. Any RFC 3339 form with a zone is read.
public enum PipelineTime {
    public static func format(_ date: Date) -> String {
        RFC3339Timestamp.format(date, fractionDigits: 3)
    }

    public static func parse(_ text: String) -> Date? {
        RFC3339Timestamp.date(text, requiringZone: true)
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

/// What a replica last wrote of one run, serialized: the spec (fixed for a run) and each task.
/// Every step of a run writes its whole document, and serializing the parts that did not change
/// (most of a long run's tasks, and the spec) was a quarter of a replica's CPU in a 200-task
/// chain (docs/benchmarks.md). A part is reused only for a value equal to the one it was
/// serialized from, so the bytes are always ``PipelineRunDocument/encoded()``'s.
public struct PipelineRunEncodingCache: Sendable {
    /// The run's spec digest and the spec's bytes (a run keeps the spec it started with).
    var spec: (digest: String, bytes: [UInt8])?
    /// Each task as last written, in the order written (sorted names), with its bytes
    /// (`"name":{…}`). Kept in order so that a write looks each task up once (a dictionary of
    /// them, and the order beside it, took four hash look-ups per task per write).
    var tasks: [(name: String, task: TaskRun, bytes: [UInt8])] = []
    /// The last document's size, to reserve the next one's at once.
    var size = 0

    public init() {}
}

extension PipelineRunDocument {
    /// The same bytes as ``encoded()``, serializing only what changed since `cache` was filled
    /// (by the previous call for the same run).
    public func encoded(reusing cache: inout PipelineRunEncodingCache) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(max(256, cache.size + cache.size / 8))
        var first = true
        func key(_ name: String) { Self.appendKey(name, first: &first, into: &output) }
        // Members in sorted order, as `encoded()` writes them.
        if let downstreamPublished {
            key("downstreamPublished")
            JSONValue.bool(downstreamPublished).serialize(into: &output)
        }
        key("run")
        writeRun(into: &output, cache: &cache)
        key("spec")
        if let spec = cache.spec, spec.digest == run.specDigest {
            output.append(contentsOf: spec.bytes)
        } else {
            let bytes = spec.serializedBytes(sortedKeys: true)
            cache.spec = (run.specDigest, bytes)
            output.append(contentsOf: bytes)
        }
        key("version")
        JSONValue.number(JSONNumber(version)).serialize(into: &output)
        if let writer {
            key("writer")
            JSONValue.string(writer).serialize(into: &output)
        }
        output.append(UInt8(ascii: "}"))
        cache.size = output.count
        return output
    }

    private func writeRun(into output: inout [UInt8], cache: inout PipelineRunEncodingCache) {
        let members = run.membersButTasks.sortedByKey()
        var tasksWritten = false
        var first = true
        func writeTasks() {
            Self.appendKey("tasks", first: &first, into: &output)
            output.append(UInt8(ascii: "{"))
            // In the order last written while the run has exactly those tasks (it gains none and
            // loses none while it goes), each task's bytes reused where it is unchanged; the
            // cache is updated in place (copying every task into new arrays at every write was
            // a third of the writing).
            let start = output.count
            if cache.tasks.count == run.tasks.count, writeKnownOrder(into: &output, cache: &cache) {
                output.append(UInt8(ascii: "}"))
                tasksWritten = true
                return
            }
            output.removeSubrange(start...)
            let sorted = run.tasks.sorted { JSONValue.keyPrecedes($0.key, $1.key) }
            var written: [(name: String, task: TaskRun, bytes: [UInt8])] = []
            written.reserveCapacity(sorted.count)
            for (index, (name, task)) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                let bytes = Self.member(name, task)
                output.append(contentsOf: bytes)
                written.append((name, task, bytes))
            }
            output.append(UInt8(ascii: "}"))
            cache.tasks = written
            tasksWritten = true
        }
        for member in members {
            if !tasksWritten, JSONValue.keyPrecedes("tasks", member.key) { writeTasks() }
            Self.appendKey(member.key, first: &first, into: &output)
            member.value.serialize(into: &output, sortedKeys: true)
        }
        if !tasksWritten { writeTasks() }
        output.append(UInt8(ascii: "}"))
    }

    /// The tasks in the cache's order, false (and the output left to be cut back) as soon as
    /// the run lacks one of them.
    private func writeKnownOrder(into output: inout [UInt8], cache: inout PipelineRunEncodingCache) -> Bool {
        for index in cache.tasks.indices {
            guard let task = run.tasks[cache.tasks[index].name] else { return false }
            if index > 0 { output.append(UInt8(ascii: ",")) }
            if cache.tasks[index].task != task {
                cache.tasks[index].task = task
                cache.tasks[index].bytes = Self.member(cache.tasks[index].name, task)
            }
            output.append(contentsOf: cache.tasks[index].bytes)
        }
        return true
    }

    /// `"name":{…}`: one member of the run's tasks.
    private static func member(_ name: String, _ task: TaskRun) -> [UInt8] {
        var bytes: [UInt8] = []
        JSONValue.string(name).serialize(into: &bytes)
        bytes.append(UInt8(ascii: ":"))
        task.json.serialize(into: &bytes, sortedKeys: true)
        return bytes
    }

    /// `{"name":` for an object's first member, `,"name":` for the others.
    private static func appendKey(_ name: String, first: inout Bool, into output: inout [UInt8]) {
        output.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        first = false
        JSONValue.string(name).serialize(into: &output)
        output.append(UInt8(ascii: ":"))
    }
}

extension PipelineRunDocument {
    /// The run's state and the document's writer, read from the bytes without parsing the
    /// document, where it has the form ``encoded()`` writes (sorted keys, compact); nil otherwise.
    /// A replica that leaves a run to the replica moving it on needs no more of each step (a run
    /// document grows with its tasks, and parsing every step of every run it does not write was
    /// a fifth of a replica's CPU in a long chain). With sorted keys, the run's members before
    /// `state` are strings and the cancel request (no `state` in it), and a `"` inside a string
    /// is always escaped, so the first `"state":"` is the run's; `writer` is the document's last
    /// member.
    public struct Glance: Sendable, Hashable {
        public var state: RunState
        public var writer: String?
    }

    public static func glance(_ bytes: [UInt8]) -> Glance? {
        bytes.withUnsafeBufferPointer { bytes in
            guard let run = openings.first(where: { bytes.starts(with: $0) }),
                let state = ByteSearch.firstIndex(of: statePrefix, in: bytes, from: run.count, to: min(bytes.count, run.count + 4096))
            else { return nil }
            let start = state + statePrefix.count
            guard let end = (start..<min(bytes.count, start + 32)).first(where: { bytes[$0] == UInt8(ascii: "\"") }),
                let word = RunState(rawValue: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
            else { return nil }
            var glance = Glance(state: word, writer: nil)
            // `…,"writer":"replica-1"}`: an id with escapes is not glanced at.
            if bytes.count > writerPrefix.count + 2, bytes[bytes.count - 1] == UInt8(ascii: "}"), bytes[bytes.count - 2] == UInt8(ascii: "\"") {
                guard let opening = ByteSearch.lastIndex(of: writerPrefix, in: bytes, from: max(0, bytes.count - 256), to: bytes.count),
                    opening + writerPrefix.count <= bytes.count - 2
                else { return nil }
                let id = UnsafeBufferPointer(rebasing: bytes[(opening + writerPrefix.count)..<(bytes.count - 2)])
                guard !id.contains(UInt8(ascii: "\"")), !id.contains(UInt8(ascii: "\\")) else { return nil }
                glance.writer = String(decoding: id, as: UTF8.self)
            }
            return glance
        }
    }

    private static let statePrefix = Array(#""state":""#.utf8)
    private static let writerPrefix = Array(#","writer":""#.utf8)

    /// How a document as written starts, up to the run's first member.
    private static let openings = [#"{"run":{"#, #"{"downstreamPublished":true,"run":{"#, #"{"downstreamPublished":false,"run":{"#].map { Array($0.utf8) }
}
