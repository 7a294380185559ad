import Foundation
import Hightouch
import Testing
import VendorHTTP

@Suite("Hightouch wire format")
struct HightouchDecodingTests {
    @Test("ids decode from numbers and strings to the same canonical value")
    func idsAcceptNumbersAndStrings() throws {
        struct Holder: Decodable { var id: HightouchID }
        #expect(try JSONDecoder().decode(Holder.self, from: Data(#"{"id": 23474}"#.utf8)).id == 23474)
        #expect(try JSONDecoder().decode(Holder.self, from: Data(#"{"id": "23474"}"#.utf8)).id == 23474)
        #expect(try JSONDecoder().decode(Holder.self, from: Data(#"{"id": 23474.0}"#.utf8)).id == "23474")
        #expect(HightouchID("  42 ") == HightouchID(42))
        #expect(HightouchID("7") < HightouchID("10"))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Holder.self, from: Data(#"{"id": 1.5}"#.utf8)) }
        let encoded = String(decoding: try JSONEncoder().encode(["sourceId": HightouchID("23474")]), as: UTF8.self)
        #expect(encoded == #"{"sourceId":23474}"#)
    }

    @Test("timestamps with milliseconds, offsets or no fraction all decode")
    func timestamps() throws {
        let run = try JSONDecoder().decode(
            HightouchSyncRun.self,
            from: Data(
                #"{"id": 42, "createdAt": "2022-02-08T16:11:04.712Z", "startedAt": "2023-10-17T11:06:01.713+00:00", "finishedAt": "2022-02-08T16:11:11Z", "status": "success"}"#.utf8
            )
        )
        #expect(run.createdAt == Date(timeIntervalSince1970: 1_644_336_664.712))
        #expect(run.startedAt == Date(timeIntervalSince1970: 1_697_540_761.713))
        #expect(run.finishedAt == Date(timeIntervalSince1970: 1_644_336_671))
    }

    @Test("all nine run statuses decode, unknown ones are preserved and not terminal")
    func runStatuses() throws {
        for status in HightouchSyncRunStatus.allCases {
            #expect(HightouchSyncRunStatus(rawValue: status.rawValue) == status)
        }
        #expect(HightouchSyncRunStatus.allCases.count == 9)
        let terminal = HightouchSyncRunStatus.terminalCases.filter { $0.isTerminal }
        #expect(terminal.count == 5)
        let active = [HightouchSyncRunStatus.queued, .querying, .processing, .reporting].filter { $0.isTerminal }
        #expect(active.isEmpty)
        let unknown = HightouchSyncRunStatus(rawValue: "aborted")
        #expect(unknown == .unknown("aborted"))
        #expect(unknown.rawValue == "aborted")
        #expect(!unknown.isTerminal)
    }

    @Test("a run with missing optional fields and an object error still decodes")
    func tolerantRunDecoding() throws {
        let run = try JSONDecoder().decode(
            HightouchSyncRun.self,
            from: Data(#"{"id": "9", "status": "failed", "error": {"code": "DESTINATION_RATE_LIMIT"}, "brandNewField": true}"#.utf8)
        )
        #expect(run.id == 9)
        #expect(run.status == .failed)
        #expect(run.error == #"{"code":"DESTINATION_RATE_LIMIT"}"#)
        #expect(run.startedAt == nil)
        #expect(run.plannedRows == nil)
    }

    @Test("trigger flags are always sent explicitly")
    func triggerFlagsAreExplicit() throws {
        let json = String(decoding: try JSONEncoder().encode(HightouchTriggerOptions(fullResync: false, resetCDC: false)), as: UTF8.self)
        #expect(json.contains(#""fullResync":false"#))
        #expect(json.contains(#""resetCDC":false"#))
        #expect(json.contains(#""clearAndFill":false"#))
    }

    @Test("SyncCreate sends schedule null; SyncUpdate keeps, clears or sets it")
    func scheduleEncoding() throws {
        let create = HightouchSyncCreate(slug: "s", configuration: [:], destinationID: 1, modelID: "2", schedule: nil, disabled: false)
        let createJSON = String(decoding: try JSONEncoder().encode(create), as: UTF8.self)
        #expect(createJSON.contains(#""schedule":null"#))
        #expect(createJSON.contains(#""modelId":2"#))
        let keep = String(decoding: try JSONEncoder().encode(HightouchSyncUpdate(disabled: true)), as: UTF8.self)
        #expect(keep == #"{"disabled":true}"#)
        let clear = String(decoding: try JSONEncoder().encode(HightouchSyncUpdate(schedule: .manual)), as: UTF8.self)
        #expect(clear == #"{"schedule":null}"#)
        let set = String(decoding: try JSONEncoder().encode(HightouchSyncUpdate(schedule: .set(.interval(unit: "day", quantity: 1)))), as: UTF8.self)
        #expect(set.contains(#""type":"interval""#))
    }

    @Test("a sync decodes with ids as strings and unknown fields")
    func syncDecoding() throws {
        let sync = try JSONDecoder().decode(
            HightouchSync.self,
            from: Data(
                #"{"id": "1", "slug": "testsync", "destinationId": "1", "modelId": 4, "configuration": {"mode": "upsert"}, "schedule": null, "status": "success", "disabled": false, "lastRunAt": null, "futureField": [1]}"#.utf8
            )
        )
        #expect(sync.id == 1)
        #expect(sync.modelID == 4)
        #expect(sync.schedule == nil)
        #expect(sync.status == .success)
        #expect(sync.configuration["mode"] == "upsert")
    }
}
