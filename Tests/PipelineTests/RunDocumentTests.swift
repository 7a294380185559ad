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
        var without = document
        without.downstreamPublished = nil
        #expect(try PipelineRunDocument.decode(without.encoded(), key: "k") == without)
        // Valid JSON with sorted keys: the same document always writes the same bytes.
        let text = String(decoding: document.encoded(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"downstreamPublished":true,"run":{"#))
        #expect(text.hasSuffix(#","version":1}"#))
        #expect(try JSONValue(parsing: document.encoded()).serializedBytes(sortedKeys: true) == document.encoded())
    }

    @Test("a document written through Codable (the previous release's writer) reads the same")
    func previousWriter() throws {
        let document = try Self.sample()
        let written = try PipelineRunDocument.encoder.encode(document)
        #expect(try PipelineRunDocument.decode(Array(written), key: "k") == document)
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
