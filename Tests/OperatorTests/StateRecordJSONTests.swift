import Foundation
import JSONSchema
@testable import OperatorCore
import Testing

/// The state documents are written by hand (StateRecords+JSON.swift) and read through `Codable`:
/// both writers must give the same document, and what is written must read back unchanged.
@Suite("State documents: the hand-written JSON")
struct StateRecordJSONTests {
    static let instant = Date(timeIntervalSince1970: 1_795_000_000.123)

    static func command(_ id: String) -> CommandReference {
        CommandReference(id: id, sequence: 9_007_199_254_740_993, operation: "apply", receivedAt: instant)
    }

    static let manifest = try! JSONValue(parsing: #"""
        {"version":"v1beta","name":"pipeline-01","type":"resource","resource":{"operator":"hightouch-factory","type":"hightouch",
         "spec":{"model":{"name":"M \"quoted\" / slash","slug":"m","raw":{"sql":"select 1\n\tfrom t -- é ✓"},"isSchema":false},
         "sync":{"slug":"s","configuration":{"b":[1,2.5,-3e-7,null,true],"a":{}},"disabled":false},"trigger":{}}},
         "zeta":"\u0001\u001f"}
        """#)

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
        var active = ActiveCommand(command: command("msg-2"), owner: "replica-a", heartbeatAt: instant, stage: .triggering, triggerIntentAt: instant)
        active.vendor = VendorObjects(modelID: "1", modelSlug: "m", syncID: "2", syncSlug: "s")
        full.activeCommand = active
        bare.activeCommand = ActiveCommand(command: command("msg-3"), owner: "replica-b", heartbeatAt: instant, stage: .received)
        return [bare, full]
    }

    static var statuses: [StatusRecord] {
        let bare = StatusRecord(workspace: "public", name: "pipeline-01", type: "hightouch", phase: .pending, at: instant)
        var full = bare
        full.phase = .active
        full.observedGeneration = 3
        full.vendor = VendorObjects(modelID: "10", modelSlug: "model", syncID: "20", syncSlug: "sync")
        full.currentRun = RunRecord(id: "7", status: "queued", commandID: "msg-2", checkedAt: instant)
        full.lastRun = RunRecord(
            id: "6", status: "warning", createdAt: instant, startedAt: instant, finishedAt: instant, completionRatio: 0.3333333333333333,
            querySize: 1200, plannedRows: RowCounts(added: 1, changed: 2, removed: 3), successfulRows: RowCounts(added: 1, changed: 2, removed: 0),
            failedRows: RowCounts(added: 0, changed: 0, removed: 3), error: "row 3: \"bad\"\n", commandID: nil, checkedAt: instant
        )
        full.lastError = ErrorRecord(reason: "vendorRejected", message: "bad\\path", commandID: "seq-9", at: instant)
        full.deletedAt = instant
        return [bare, full]
    }

    /// Same content as JSONEncoder's, keys sorted, and read back to the same record.
    func check(_ document: some Codable & StateJSONRepresentable, reencoded: (Data) throws -> [UInt8]) throws {
        let fast = try StateStore.encode(document)
        let foundation = try StateStore.encodeWithFoundation(document)
        let fastValue = try JSONValue(parsing: fast)
        #expect(fastValue == (try JSONValue(parsing: foundation)), "\(String(decoding: fast, as: UTF8.self))")
        #expect(fastValue.serializedBytes(sortedKeys: true) == fast, "keys are written sorted")
        #expect(try reencoded(Data(fast)) == foundation, "reads back to the same record")
    }

    @Test("entity records: the same document as JSONEncoder wrote, read back unchanged")
    func entityRecords() throws {
        for entity in Self.entities {
            try check(entity) { try StateStore.encodeWithFoundation(StateStore.decode(EntityRecord.self, Array($0), key: "entity")) }
        }
    }

    @Test("status records: the same document as JSONEncoder wrote, read back unchanged")
    func statusRecords() throws {
        for status in Self.statuses {
            try check(status) { try StateStore.encodeWithFoundation(StateStore.decode(StatusRecord.self, Array($0), key: "status")) }
        }
    }

    @Test("a run's completion ratio that JSON cannot hold is left out, not a broken document")
    func nonFiniteRatio() throws {
        let run = RunRecord(id: "1", status: "processing", completionRatio: .nan, checkedAt: Self.instant)
        let bytes = try StateStore.encode(run)
        let read = try StateStore.decode(RunRecord.self, bytes, key: "run")
        #expect(read.completionRatio == nil)
        #expect(read.id == "1")
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
        let last = Date(timeIntervalSince1970: 253_402_300_799.999)
        #expect(Timestamp.format(last).hasPrefix("9999-12-31T23:59:59.99"))
        // Outside what the fast path writes: still the format style's text.
        let early = Date(timeIntervalSince1970: -1.5)
        #expect(Timestamp.format(early) == Timestamp.formatWithFoundation(early))
    }
}
