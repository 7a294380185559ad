import Foundation
import JSONSchema
import Testing

@testable import Pipelines

/// The stored run document: what one release writes, the next reads; what is not a run
/// document is refused with a message naming the key.
@Suite("Pipeline run documents")
struct RunDocumentTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000.25)

    static func sample() throws -> PipelineRunDocument {
        let spec = try JSONValue(parsing: #"{"stages":[{"name":"load","tasks":[{"name":"t","integration":"http","job":"post","parameters":{"url":"https://x/a?b=1","limit":5,"ratio":0.5,"on":true,"none":null}}]}]}"#)
        var run = PipelineRun(
            id: "20261205-120000-abcdef", workspace: "public", pipeline: "p", specDigest: "d",
            trigger: RunTrigger(kind: .manual, commandID: "c1", event: .object(["n": .number(JSONNumber(3))])), createdAt: at, tasks: ["t": TaskRun()], state: .running
        )
        var attempt = Attempt(number: 1, commandID: "20261205-120000-abcdef/t/1", resourceType: "http", resource: "p--t", queuedAt: at, deadline: at.addingTimeInterval(60))
        attempt.publishedAt = at.addingTimeInterval(0.5)
        attempt.vendorRunID = "42"
        attempt.outcome = .failed
        attempt.error = "HTTP 500 \"quoted\" \\ slash /"
        run.tasks["t"] = TaskRun(state: .upForRetry, attempts: [attempt], retryAt: at.addingTimeInterval(5), reason: "HTTP 500")
        run.startedAt = at
        var document = PipelineRunDocument(run: run, spec: spec)
        document.downstreamPublished = true
        return document
    }

    @Test("a document reads back as written: the run (times to the millisecond), the spec and the flags")
    func roundTrip() throws {
        let document = try Self.sample()
        let read = try PipelineRunDocument.decode(document.encoded(), key: "run.public.p.x")
        #expect(read == document)
        #expect(read.run.tasks["t"]?.attempts.first?.publishedAt == Self.at.addingTimeInterval(0.5))
        var written = document
        written.writer = "replica-2"
        #expect(try PipelineRunDocument.decode(written.encoded(), key: "k").writer == "replica-2")
        #expect(try PipelineRunDocument.decode(document.encoded(), key: "k").writer == nil)
        var without = document
        without.downstreamPublished = nil
        #expect(try PipelineRunDocument.decode(without.encoded(), key: "k") == without)
        // Valid JSON with sorted keys: the same document always writes the same bytes.
        let text = String(decoding: document.encoded(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"downstreamPublished":true,"run":{"#))
        #expect(text.hasSuffix(#","version":1}"#))
        #expect(try JSONValue(parsing: document.encoded()).serializedBytes(sortedKeys: true) == document.encoded())
    }

    @Test("a document written reusing what was serialized before is byte for byte the document written afresh, through every kind of change")
    func reusedPartsWriteTheSameBytes() throws {
        var document = try Self.sample()
        let names = ["t", "Zeta", "a", "é-task", "tasks", "b\"quoted\""]
        for name in names { document.run.tasks[name] = document.run.tasks[name] ?? TaskRun() }
        var cache = PipelineRunEncodingCache()
        var steps = 0
        func check(_ note: Comment) throws {
            steps += 1
            let reused = document.encoded(reusing: &cache)
            #expect(reused == document.encoded(), note)
            #expect(try PipelineRunDocument.decode(reused, key: "k") == document, note)
        }
        try check("first write")
        try check("nothing changed")
        for (index, name) in names.enumerated() {
            var attempt = Attempt(number: 1, commandID: "r/\(name)/1", resourceType: "http", resource: "p--\(index)", queuedAt: Self.at, deadline: nil)
            document.run.tasks[name] = TaskRun(state: .queued, attempts: [attempt])
            try check("\(name) queued")
            attempt.startedAt = Self.at.addingTimeInterval(Double(index))
            attempt.vendorRunID = "v\(index)"
            document.run.tasks[name]?.attempts[0] = attempt
            document.run.tasks[name]?.state = .running
            try check("\(name) running")
        }
        document.writer = "replica-1"
        try check("a writer")
        document.downstreamPublished = nil
        try check("no downstream flag")
        document.run.cancel = CancelRequest(mode: .stop, at: Self.at, commandID: "c2")
        document.run.state = .cancelling
        document.run.reason = "asked"
        try check("a cancel")
        document.run.tasks["new"] = TaskRun(state: .skipped, reason: "late")
        document.run.tasks["a"] = nil
        try check("a task added and one removed")
        document.spec = .object(["stages": .array([])])
        document.run.specDigest = "other"
        try check("another spec")
        document.run.state = .cancelled
        document.run.finishedAt = Self.at.addingTimeInterval(9)
        try check("ended")
        #expect(steps == 20)
    }

    @Test("a glance reads the run's state and the writer from the bytes as written, whatever the strings hold; anything else is not glanced at")
    func glance() throws {
        var document = try Self.sample()
        document.run.reason = #"was "state":"failed" before, \ and {"state":"queued"}"#
        document.run.trigger.event = .object(["state": .string("succeeded"), "run": .object(["state": .string("failed")])])
        document.run.cancel = CancelRequest(mode: .stop, at: Self.at, commandID: #""state":"failed""#)
        for state in RunState.allCases {
            document.run.state = state
            for writer in [nil, "replica-2", "r"] {
                for flag in [nil, true, false] {
                    document.writer = writer
                    document.downstreamPublished = flag
                    #expect(PipelineRunDocument.glance(document.encoded()) == .init(state: state, writer: writer), "\(state) \(writer ?? "-") \(String(describing: flag))")
                }
            }
        }
        document.run.state = .running
        document.writer = #"odd"id"#
        #expect(PipelineRunDocument.glance(document.encoded()) == nil)
        document.writer = "replica-1"
        // Another form (spaces, unsorted, Codable's) or not a document: nil, and the reader decodes.
        let spaced = String(decoding: document.encoded(), as: UTF8.self).replacingOccurrences(of: #""run":{"#, with: #""run": {"#)
        #expect(PipelineRunDocument.glance(Array(spaced.utf8)) == nil)
        #expect(PipelineRunDocument.glance(Array(#"{"spec":{"state":"running"},"run":{"state":"failed"}}"#.utf8)) == nil)
        #expect(PipelineRunDocument.glance(Array("[]".utf8)) == nil)
        #expect(PipelineRunDocument.glance([]) == nil)
        // A writer member cut short at the very end: nil, not a crash.
        #expect(PipelineRunDocument.glance(Array(#"{"run":{"state":"running"},"writer":"}"#.utf8)) == nil)
        #expect(PipelineRunDocument.glance(Array(#"{"run":{"state":"running"},"writer":""}"#.utf8)) == .init(state: .running, writer: ""))
    }

    @Test("byte search: first and last occurrence within bounds, a pattern cut by a bound not found, empty and longer patterns never")
    func byteSearch() {
        let bytes = Array(#"ab"state":"x","state":"y"cd"#.utf8)
        let pattern = Array(#""state":""#.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            #expect(ByteSearch.firstIndex(of: pattern, in: buffer, from: 0, to: buffer.count) == 2)
            #expect(ByteSearch.lastIndex(of: pattern, in: buffer, from: 0, to: buffer.count) == 14)
            #expect(ByteSearch.firstIndex(of: pattern, in: buffer, from: 3, to: buffer.count) == 14)
            #expect(ByteSearch.lastIndex(of: pattern, in: buffer, from: 0, to: 22) == 2)
            #expect(ByteSearch.firstIndex(of: pattern, in: buffer, from: 0, to: 10) == nil)
            #expect(ByteSearch.firstIndex(of: [], in: buffer, from: 0, to: buffer.count) == nil)
            #expect(ByteSearch.lastIndex(of: bytes + [0], in: buffer, from: 0, to: buffer.count) == nil)
        }
        #expect(ByteSearch.contains(Array("cd".utf8), in: bytes) && !ByteSearch.contains(Array("dc".utf8), in: bytes) && !ByteSearch.contains(pattern, in: []))
    }

    @Test("a document written through Codable (the previous release's writer) reads the same")
    func previousWriter() throws {
        let document = try Self.sample()
        let written = try PipelineRunDocument.encoder.encode(document)
        #expect(try PipelineRunDocument.decode(Array(written), key: "k") == document)
    }

    @Test("the run's JSON has the members its Codable form has, to the byte; a cancel and an event survive the trip")
    func sameMembersAsCodable() throws {
        var document = try Self.sample()
        document.run.cancel = CancelRequest(mode: .terminate, cause: .overlap, at: Self.at, commandID: "newer")
        document.run.reason = "why"
        document.run.finishedAt = Self.at.addingTimeInterval(9)
        var attempt = try #require(document.run.tasks["t"]?.attempts.first)
        attempt.cancelRequested = true
        attempt.startedAt = Self.at
        attempt.finishedAt = Self.at.addingTimeInterval(1)
        document.run.tasks["u"] = TaskRun(state: .succeeded, attempts: [attempt, attempt])
        let codable = try JSONValue(parsing: Array(PipelineRunDocument.encoder.encode(document.run)))
        #expect(codable.serialized(sortedKeys: true) == document.run.json.serialized(sortedKeys: true))
        #expect(try PipelineRun(json: document.run.json) == document.run)
        #expect(try PipelineRunDocument.decode(document.encoded(), key: "k") == document)
    }

    static let badRuns: [(String, String)] = {
        let head = #"{"id":"x","workspace":"w","pipeline":"p","specDigest":"d","state":"running","#
        let trigger = #""trigger":{"kind":"manual","commandID":"c"},"#
        let created = #""createdAt":"2026-12-05T12:00:00.000Z","#
        return [
            (#"{"id":"x"}"#, "workspace: missing"),
            (head + trigger + created + #""tasks":{"t":{"state":"sleeping","attempts":[]}}}"#, "tasks.t.state: sleeping is not a known value"),
            (head + trigger + created + #""tasks":{"t":{"state":"queued","attempts":[{"number":"1"}]}}}"#, "tasks.t.attempts[0].number: not an integer"),
            (head + trigger + #""createdAt":"noon","tasks":{}}"#, "createdAt: noon is not an RFC 3339 time"),
            (head + #""trigger":{"kind":"cron","commandID":"c"},"# + created + #""tasks":{}}"#, "trigger.kind: cron is not a known value"),
            ("[]", "run: not an object"),
        ]
    }()

    @Test("a run's JSON that is wrong is refused with the path to what is wrong", arguments: badRuns)
    func badRunJSON(text: String, message: String) throws {
        let value = try JSONValue(parsing: text)
        let error = #expect(throws: RunJSONError.self) { _ = try PipelineRun(json: value) }
        #expect(error?.description == message)
    }

    @Test(
        "what is not a run document is refused, naming the key and what is wrong",
        arguments: [
            ("not json", "not a pipeline run document (no version)"),
            (#"[1]"#, "not a pipeline run document (no version)"),
            (#"{"run":{}}"#, "not a pipeline run document (no version)"),
            (#"{"version":"1"}"#, "not a pipeline run document (no version)"),
            (#"{"version":2,"run":{},"spec":{}}"#, "written by a newer release (version 2; this one reads up to 1): upgrade this replica"),
            (#"{"version":1,"spec":{}}"#, "unreadable: it has no run"),
            (#"{"version":1,"run":{"id":"x"}}"#, "unreadable: it has no spec"),
            (#"{"version":1,"run":{"id":"x"},"spec":{},"downstreamPublished":"yes"}"#, #"unreadable: downstreamPublished is "yes", not true or false"#),
        ]
    )
    func refused(text: String, message: String) {
        #expect {
            _ = try PipelineRunDocument.decode(Array(text.utf8), key: "run.public.p.x")
        } throws: { error in
            guard let error = error as? PipelineDocumentError else { return false }
            return error.key == "run.public.p.x" && error.message == message
        }
    }

    @Test("a run that does not decode names what is wrong in it")
    func badRun() throws {
        let error = #expect(throws: PipelineDocumentError.self) {
            _ = try PipelineRunDocument.decode(Array(#"{"version":1,"run":{"id":"x"},"spec":{}}"#.utf8), key: "k")
        }
        #expect(error?.message.hasPrefix("unreadable: ") == true)
        #expect(error?.message.contains("workspace") == true)
    }
}

/// The hand-written RFC 3339 times against Foundation's `ISO8601FormatStyle`, which wrote and
/// read them before.
@Suite("Pipeline document times")
struct PipelineTimeTests {
    static let foundation = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC") ?? .gmt)

    @Test("written as Foundation writes them and read back to the same text, over four centuries of days, leap days and millisecond edges")
    func matchesFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        var instants: [Double] = [0, -0.001, -1.5, 951_782_400, 951_868_799.999, 1_800_000_000.249, 1_800_000_000.9996, 4_107_542_399.999, -2_208_988_800]
        for _ in 0..<20_000 { instants.append(Double.random(in: -6_000_000_000...7_000_000_000, using: &generator)) }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            let text = PipelineTime.format(date)
            // Away from a millisecond's edge, the same text as Foundation (at an edge Foundation
            // can write the millisecond before the one a time read from text stands for).
            let milliseconds = (instant * 1000).rounded(.down)
            let fraction = instant * 1000 - milliseconds
            if fraction > 0.001, fraction < 0.999 {
                #expect(text == date.formatted(Self.foundation), "\(instant)")
            }
            // A time on a millisecond (as every document's is) writes that millisecond.
            let aligned = PipelineTime.format(Date(timeIntervalSince1970: milliseconds / 1000))
            let expectedDigits = (Int64(milliseconds) % 1000 + 1000) % 1000
            #expect(aligned.hasSuffix(String(format: ".%03dZ", expectedDigits)), "\(aligned) for \(milliseconds)")
            #expect(abs(try Self.foundation.parse(aligned).timeIntervalSince1970 * 1000 - milliseconds) < 0.01, "\(aligned)")
            let read = try #require(PipelineTime.parse(text), "\(text)")
            #expect(PipelineTime.format(read) == text, "\(text)")
            let foundationRead = try Self.foundation.parse(text)
            #expect(abs(read.timeIntervalSince1970 - foundationRead.timeIntervalSince1970) < 0.000_001, "\(text)")
        }
    }

    @Test("other RFC 3339 forms with a zone are read; a time without a zone, or not a time, is not")
    func otherForms() throws {
        #expect(PipelineTime.parse("2026-12-05T12:00:00Z")?.timeIntervalSince1970 == 1_796_472_000)
        #expect(PipelineTime.parse("2026-12-05T13:00:00.250+01:00")?.timeIntervalSince1970 == 1_796_472_000.25)
        #expect(PipelineTime.parse("2026-12-05T12:00:00.25Z")?.timeIntervalSince1970 == 1_796_472_000.25)
        #expect(PipelineTime.parse("2024-02-29T23:59:59.999Z").map(PipelineTime.format) == "2024-02-29T23:59:59.999Z")
        for text in ["2026-12-05T12:00:00.000", "2026-13-01T00:00:00.000Z", "2026-12-05T24:00:00.000Z", "20x6-12-05T12:00:00.000Z", "yesterday", ""] {
            #expect(PipelineTime.parse(text) == nil, "\(text)")
        }
    }
}
