import FactoryState
import Foundation
import JSONSchema
import Testing

/// The state documents of version 2 written and read back, and the documents of version 1 (the
/// release before drivers) read and upgraded.
@Suite("State documents")
struct StateCodecTests {
    static let instant = Date(timeIntervalSince1970: 1_795_000_000.123)

    static func command(_ id: String) -> CommandReference {
        CommandReference(id: id, sequence: 9_007_199_254_740_993, operation: "apply", receivedAt: instant)
    }

    static let manifest: JSONValue = {
        do {
            return try JSONValue(parsing: #"""
                {"version":"v1beta","name":"pipeline-01","type":"resource","resource":{"operator":"hightouch-factory","type":"hightouch",
                 "spec":{"model":{"name":"M \"quoted\" / slash","slug":"m","raw":{"sql":"select 1\n\tfrom t -- é ✓"},"isSchema":false},
                 "sync":{"slug":"s","configuration":{"b":[1,2.5,-3e-7,null,true],"a":{}},"disabled":false},"trigger":{}}},
                 "zeta":"\u0001\u001f"}
                """#)
        } catch {
            preconditionFailure("\(error)")
        }
    }()

    static var entities: [EntityRecord] {
        var bare = EntityRecord(
            workspace: "public", name: "pipeline-01", type: "hightouch", owner: nil, manifest: .null, specDigest: "abc",
            generation: 0, deleted: false, lastCommand: nil, activeCommand: nil, createdAt: instant, updatedAt: instant
        )
        var full = bare
        full.owner = "data-team"
        full.manifest = manifest
        full.generation = 42
        full.deleted = true
        full.lastCommand = command("seq-1")
        full.activeCommand = ActiveCommand(
            command: command("msg-2"), owner: "replica-a", heartbeatAt: instant, stage: .triggering, triggerIntentAt: instant,
            objects: ["modelID": "1", "syncID": "2"], baseline: ["succeededAt": "2026-11-21T10:00:00.000Z", "n": 3]
        )
        bare.activeCommand = ActiveCommand(command: command("msg-3"), owner: "replica-b", heartbeatAt: instant, stage: .received)
        return [bare, full]
    }

    static var statuses: [StatusRecord] {
        let bare = StatusRecord(workspace: "public", name: "pipeline-01", type: "hightouch", phase: .pending, at: instant)
        var full = bare
        full.phase = .active
        full.observedGeneration = 3
        full.objects = ["modelID": "10", "modelSlug": "model", "syncID": "20", "syncSlug": "sync"]
        full.currentRun = RunRecord(key: "msg-2", vendorRunID: "7", reference: ["syncID": "20", "runID": "7"], phase: .queued, vendorStatus: "queued", recordedAt: instant, checkedAt: instant)
        full.lastRun = RunRecord(
            key: "seq-1", vendorRunID: nil, reference: ["connector": "c", "after": 17], phase: .warning, vendorStatus: "warning",
            createdAt: instant, startedAt: instant, finishedAt: instant, progress: 0.3333333333333333, summary: "rows 1/3, 2 failed",
            error: "row 3: \"bad\"\n", details: ["querySize": 1200, "plannedRows": ["added": 1, "changed": 2, "removed": 3]],
            recordedAt: instant.addingTimeInterval(-60), checkedAt: instant
        )
        full.lastError = ErrorRecord(reason: "vendorRejected", message: "bad\\path", commandID: "seq-9", at: instant)
        full.deletedAt = instant
        return [bare, full]
    }

    /// Written with sorted keys as version 2, read back to the same record (to the millisecond
    /// timestamps keep): written again, the same bytes.
    func roundTrip<Document: StateDocument>(_ document: Document) throws {
        let bytes = StateCodec.encode(document)
        let value = try JSONValue(parsing: bytes)
        #expect(value.serializedBytes(sortedKeys: true) == bytes, "keys are written sorted")
        #expect(value["version"] == 2)
        let read = try StateCodec.decode(Document.self, bytes, key: "k")
        #expect(StateCodec.encode(read) == bytes, "\(String(decoding: bytes, as: UTF8.self))")
    }

    @Test("entity and status records of version 2 read back unchanged, every shape")
    func roundTrips() throws {
        for entity in Self.entities { try roundTrip(entity) }
        for status in Self.statuses { try roundTrip(status) }
        let full = try StateCodec.decode(StatusRecord.self, StateCodec.encode(Self.statuses[1]), key: "k")
        #expect(full.lastRun?.details == Self.statuses[1].lastRun?.details && full.lastRun?.reference == Self.statuses[1].lastRun?.reference)
        #expect(full.lastRun?.vendorRunID == nil && full.lastRun?.displayID == "seq-1", "a run without a vendor id is shown by its command")
        #expect(abs((full.lastRun?.recordedAt.timeIntervalSince1970 ?? 0) - Self.instant.addingTimeInterval(-60).timeIntervalSince1970) < 0.001)
    }

    @Test("a run's progress that JSON cannot hold is left out, not a broken document")
    func nonFiniteProgress() throws {
        var status = Self.statuses[1]
        status.currentRun?.progress = .nan
        let read = try StateCodec.decode(StatusRecord.self, StateCodec.encode(status), key: "k")
        #expect(read.currentRun?.progress == nil)
        #expect(read.currentRun?.key == "msg-2")
    }

    @Test("a document of a newer state version is refused with a reason naming the version, never misread")
    func newerVersionRefused() throws {
        var value = Self.statuses[1].stateJSON
        guard case .object(var object) = value else { throw Failure("not an object") }
        object["version"] = 3
        object["shinyNewField"] = ["x": 1]
        value = .object(object)
        do {
            _ = try StateCodec.decode(StatusRecord.self, value.serializedBytes(), key: "status.public.x")
            Issue.record("a version-3 document was read")
        } catch {
            #expect(error.reason == .newerVersion(3))
            #expect(error.code == "stateVersionUnsupported")
            #expect(error.description.contains("status.public.x") && error.description.contains("version 3") && error.description.contains("upgrade"))
        }
    }

    @Test("corrupt documents are refused with the field that is wrong", arguments: [
        (#"not json"#, "not JSON"),
        (#"[1]"#, "a JSON object"),
        (#"{"workspace":"public"}"#, "/version"),
        (#"{"version":2,"workspace":"public","name":"x","type":"t","phase":"weird","observedGeneration":0,"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}"#, "/phase"),
        (#"{"version":2,"workspace":"public","name":"x","type":"t","phase":"active","observedGeneration":0,"createdAt":"yesterday","updatedAt":"2026-01-01T00:00:00.000Z"}"#, "/createdAt"),
        (#"{"version":2,"workspace":"public","name":"x","type":"t","phase":"active","observedGeneration":0,"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z","currentRun":{"key":"k"}}"#, "/currentRun/phase"),
        (#"{"version":0,"workspace":"public"}"#, "unknown version"),
    ])
    func corruptDocuments(text: String, expected: String) {
        do {
            _ = try StateCodec.decode(StatusRecord.self, Array(text.utf8), key: "status.public.x")
            Issue.record("read: \(text)")
        } catch {
            #expect(error.reason == .unreadable)
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test("timestamps: the hand-written format is the ISO 8601 format style's, to the millisecond")
    func timestamps() throws {
        var generator = SystemRandomNumberGenerator()
        // 1970 to 2200, a tenth of a millisecond or more from the next one: within a rounding
        // error of a millisecond's end, the two (both truncating a Double) may disagree by one.
        var dates = [0, 0.0005, 0.9995, 951_782_400.0002, 4_107_542_399.9995, 7_258_118_399.9995].map { Date(timeIntervalSince1970: $0) }
        for _ in 0..<20_000 {
            dates.append(Date(timeIntervalSince1970: Double(generator.next(upperBound: UInt64(7_258_118_400_000))) / 1000 + Double.random(in: 0.0001..<0.0009)))
        }
        dates.append(Date())
        for date in dates {
            let text = Timestamp.format(date)
            #expect(text == Timestamp.formatWithFoundation(date), "\(date.timeIntervalSince1970)")
            let parsed = try #require(Timestamp.parse(text))
            #expect(abs(parsed.timeIntervalSince(date)) < 0.001)
        }
        // Read back and written again, a timestamp keeps its text (no millisecond lost per rewrite).
        for _ in 0..<20_000 {
            let text = Timestamp.format(Date(timeIntervalSince1970: Double(generator.next(upperBound: UInt64(7_258_118_400_000))) / 1000))
            let again = Timestamp.format(try #require(Timestamp.parse(text)))
            #expect(again == text)
        }
        let last = Date(timeIntervalSince1970: 253_402_300_799.999)
        #expect(Timestamp.format(last).hasPrefix("9999-12-31T23:59:59.99"))
        // Outside what the fast path writes: still the format style's text.
        let early = Date(timeIntervalSince1970: -1.5)
        #expect(Timestamp.format(early) == Timestamp.formatWithFoundation(early))
    }

    // MARK: - Version 1

    /// The fixture: what the release before drivers left in its bucket (Resources/state-v1.json,
    /// made by Resources/make-v1-fixture.sh).
    static func fixture() throws -> (entries: [String: JSONValue], followUps: [JSONValue]) {
        let url = try #require(Bundle.module.url(forResource: "state-v1", withExtension: "json", subdirectory: "Resources"))
        let value = try JSONValue(parsing: Array(try Data(contentsOf: url)))
        var entries: [String: JSONValue] = [:]
        for entry in value["entries"]?.arrayValue ?? [] {
            if let key = entry["key"]?.stringValue, let document = entry["value"] { entries[key] = document }
        }
        return (entries, value["followUps"]?.arrayValue ?? [])
    }

    @Test("every document of the version-1 fixture is read and upgraded: objects, runs, phases and details")
    func upgradesTheFixture() throws {
        let (entries, followUps) = try Self.fixture()
        #expect(entries.count == 7)
        #expect(entries.values.allSatisfy { $0["version"] == 1 }, "the fixture is version 1")
        for (key, value) in entries {
            let bytes = value.serializedBytes()
            if key.hasPrefix("entity.") {
                let entity = try StateCodec.decode(EntityRecord.self, bytes, key: key)
                #expect(entity.version == 1)
                #expect(entity.type == "hightouch")
                #expect(entity.spec["model"]?["slug"] != nil)
            } else {
                _ = try StateCodec.decode(StatusRecord.self, bytes, key: key)
            }
        }
        // A resource whose last run succeeded.
        let done = try StateCodec.decode(StatusRecord.self, try #require(entries["status.public.pipeline-01"]).serializedBytes(), key: "s1")
        #expect(done.phase == .active)
        #expect(done.objects?["syncID"]?.stringValue == "20001")
        #expect(done.objects?["modelSlug"]?.stringValue == "model-01")
        let last = try #require(done.lastRun)
        #expect(last.vendorRunID == "500003")
        #expect(last.phase == .succeeded && last.vendorStatus == "success")
        #expect(last.runtime == .succeeded && done.runtime == .succeeded)
        #expect(last.reference == nil, "version 1 kept no reference: the driver rebuilds one")
        #expect(last.key.hasPrefix("run-public-pipeline-01-"), "the key is the id of the command that caused the run (factoryctl run's)")
        #expect(last.progress == 1)
        #expect(last.details?["querySize"] != nil && last.details?["plannedRows"]?["added"] != nil, "Hightouch's own fields kept as details")
        #expect(last.details?["status"] == nil && last.details?["id"] == nil, "the engine's fields are not details")
        // A run still going, and its follow-up of version 1.
        let going = try StateCodec.decode(StatusRecord.self, try #require(entries["status.public.pipeline-04"]).serializedBytes(), key: "s4")
        let current = try #require(going.currentRun)
        #expect(current.vendorRunID == "500004")
        #expect(current.isFinished == false && going.runtime == .inprogress)
        #expect(followUps.count == 1)
        #expect(followUps.first?["payload"]?["runID"]?.stringValue == "500004")
        // Deleted and refused.
        let deleted = try StateCodec.decode(StatusRecord.self, try #require(entries["status.public.pipeline-02"]).serializedBytes(), key: "s2")
        #expect(deleted.phase == .deleted && deleted.deletedAt != nil)
        let refused = try StateCodec.decode(StatusRecord.self, try #require(entries["status.public.pipeline-03"]).serializedBytes(), key: "s3")
        #expect(refused.phase == .error && refused.lastError?.reason == "schemaViolation" && refused.objects == nil)
        // Written back, a document is version 2 and reads the same.
        let rewritten = try StateCodec.decode(StatusRecord.self, StateCodec.encode(done), key: "s1")
        #expect(rewritten.version == 2)
        #expect(rewritten.lastRun == done.lastRun && rewritten.objects == done.objects)
    }

    @Test("a version-1 entity with a command in progress keeps its recorded vendor objects as the driver's objects")
    func upgradesAnActiveCommand() throws {
        // As version 1 wrote it (docs/state.md of that release): `vendor` inside the active command.
        let text = #"""
            {"version":1,"workspace":"public","name":"p","type":"hightouch","manifest":{"resource":{"spec":{}}},"specDigest":"d","generation":2,
             "deleted":false,"createdAt":"2026-11-21T10:00:00.000Z","updatedAt":"2026-11-21T10:00:01.000Z",
             "activeCommand":{"command":{"id":"c1","sequence":41,"operation":"apply","receivedAt":"2026-11-21T10:00:00.000Z"},
               "owner":"replica-b","heartbeatAt":"2026-11-21T10:00:01.000Z","stage":"triggering","triggerIntentAt":"2026-11-21T10:00:01.000Z",
               "vendor":{"modelID":"1","modelSlug":"m","syncID":"2","syncSlug":"s"}}}
            """#
        let entity = try StateCodec.decode(EntityRecord.self, Array(text.utf8), key: "entity.public.p")
        let active = try #require(entity.activeCommand)
        #expect(active.stage == .triggering)
        #expect(active.objects == ["modelID": "1", "modelSlug": "m", "syncID": "2", "syncSlug": "s"])
        #expect(active.baseline == nil)
        let written = try JSONValue(parsing: StateCodec.encode(entity))
        #expect(written["version"] == 2)
        #expect(written["activeCommand"]?["objects"]?["syncID"] == "2")
        #expect(written["activeCommand"]?["vendor"] == nil)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
