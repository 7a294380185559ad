import Census
import CensusSimulator
import Foundation
import NIOHTTP1
import Testing
import VendorHTTP

/// What Census's public clients send, as raw HTTP, and the simulator's own behaviours and admin API.
@Suite("Census simulator", .timeLimit(.minutes(1)))
struct CensusSimulatorTests {
    @Test(
        "triggers arrive with no body, with {\"force_full_sync\": false}, as a query parameter, or as a form: all accepted",
        arguments: [
            (nil as String?, nil as String?, "", nil as Bool?, "none"),
            (#"{"force_full_sync": false}"#, "application/json", "", false, "body"),
            (#"{"force_full_sync": true}"#, "application/json", "", true, "body"),
            (#"{"force_full_sync": "true"}"#, nil, "", true, "body"),
            ("{}", "application/json", "", nil, "none"),
            ("null", "application/json", "", nil, "none"),
            (nil, nil, "?force_full_sync=true", true, "query"),
            (nil, nil, "?force_full_sync=false", false, "query"),
            (nil, nil, "?force_full_sync=1", true, "query"),
            ("force_full_sync=true", "application/x-www-form-urlencoded", "", true, "body"),
            (#"{"force_full_sync": false}"#, "application/json", "?force_full_sync=true", false, "body"),
        ]
    )
    func triggerVariants(body: String?, contentType: String?, query: String, expected: Bool?, via: String) async throws {
        try await withCensus { simulator, _ in
            let url = try #require(simulator.baseURL) + "/api/v1/syncs/61/trigger" + query
            let answer = try await rawRequest(.POST, url, headers: bearer, body: body, contentType: contentType)
            #expect(answer.status == 200, "\(answer.body)")
            let top = try jsonObject(answer.body)
            #expect(top["status"] as? String == "success")
            let runID = try #require(try envelopeData(answer.body)["sync_run_id"] as? Int)
            let record = try #require(simulator.triggerLog().last)
            #expect(record.runID == runID && record.forceFullSync == expected && record.via == via)
            let run = try envelopeData(try await rawRequest(.GET, try #require(simulator.baseURL) + "/api/v1/sync_runs/\(runID)", headers: bearer).body)
            #expect(run["full_sync"] as? Bool == (expected ?? false))
            #expect(run["status"] as? String == "queued" || run["status"] as? String == "working")
        }
    }

    @Test("malformed trigger bodies and parameters are 400 with the error envelope; no run is created")
    func badTriggers() async throws {
        try await withCensus { simulator, _ in
            let base = try #require(simulator.baseURL) + "/api/v1/syncs/61/trigger"
            for (query, body) in [("", "{not json"), ("", "[1,2]"), ("?force_full_sync=maybe", nil), ("", #"{"force_full_sync": "yes"}"#)] {
                let answer = try await rawRequest(.POST, base + query, headers: bearer, body: body)
                #expect(answer.status == 400, "\(query) \(body ?? ""): \(answer.body)")
                #expect(try jsonObject(answer.body)["status"] as? String == "error")
            }
            #expect(simulator.counters().totalTriggers == 0)
        }
    }

    @Test("a run just triggered is never skipped; a trigger while the sync's run is working is queued, then skipped")
    func skipped() async throws {
        try await withCensus(knobs: { $0.runDuration = .seconds(60); $0.skipAfter = .seconds(2) }) { simulator, client in
            simulator.freezeClock()  // only the test moves time: the second run is queued until it does
            let first = try await client.triggerSync(id: 61)
            #expect(try await client.syncRun(id: first).status == .working)
            let second = try await client.triggerSync(id: 61)
            #expect(try await client.syncRun(id: second).status == .queued, "never skipped as triggered")
            simulator.advanceClock(by: .seconds(3))
            let skipped = try await client.syncRun(id: second)
            #expect(skipped.status == .skipped && skipped.recordsProcessed == nil && skipped.completedAt == nil)
            #expect(try await client.syncRun(id: first).status == .working)
            #expect(simulator.triggerLog().map(\.skipped) == [false, true])
            // Another sync is not busy.
            #expect(try await client.syncRun(id: try await client.triggerSync(id: 62)).status == .working)
            // Once the first run ends, a trigger runs again.
            simulator.advanceClock(by: .seconds(60))
            let third = try await client.triggerSync(id: 61)
            #expect(try await client.syncRun(id: third).status == .working)
        }
    }

    @Test("a trigger on a busy sync whose run ends before it is due runs normally")
    func busyButEndsInTime() async throws {
        try await withCensus(knobs: { $0.runDuration = .seconds(1); $0.skipAfter = .seconds(5) }) { simulator, client in
            simulator.freezeClock()  // only the test moves time: each look lands where it says
            _ = try await client.triggerSync(id: 61)
            let second = try await client.triggerSync(id: 61)
            simulator.advanceClock(by: .seconds(5.5))
            #expect(try await client.syncRun(id: second).status == .working)
            simulator.advanceClock(by: .seconds(2))
            #expect(try await client.syncRun(id: second).status == .completed)
        }
    }

    @Test("failed and invalid record shares make a completed run with rejected and invalid records")
    func recordFailures() async throws {
        try await withCensus(knobs: { $0.runDuration = .zero; $0.failedRecordRate = 0.1; $0.invalidRecordRate = 0.05 }) { _, client in
            let run = try await client.syncRun(id: try await client.triggerSync(id: 61, forceFullSync: true))
            #expect(run.status == .completed)
            let processed = try #require(run.recordsProcessed)
            #expect(processed == run.sourceRecordCount, "a full sync processes every source record")
            #expect((run.recordsFailed ?? 0) > 0 && (run.recordsInvalid ?? 0) > 0)
            #expect((run.recordsUpdated ?? 0) + (run.recordsFailed ?? 0) + (run.recordsInvalid ?? 0) == processed)
        }
    }

    @Test("the same seed gives the same outcomes and counts")
    func deterministic() async throws {
        func outcomes() async throws -> [String] {
            try await withCensus(knobs: { $0.runDuration = .zero; $0.seed = 42; $0.outcomeWeights = [.completed: 1, .failed: 1] }) { _, client in
                var result: [String] = []
                for _ in 0..<8 {
                    let run = try await client.syncRun(id: try await client.triggerSync(id: 62))
                    result.append("\(run.status) \(run.sourceRecordCount ?? -1)")
                }
                return result
            }
        }
        let first = try await outcomes()
        #expect(first == (try await outcomes()))
        #expect(Set(first.map { $0.split(separator: " ")[0] }) == ["completed", "failed"])
    }

    @Test("admin: knobs, outcomes, tokens, syncs, past runs, lost answers, time, counters, triggers, reset")
    func admin() async throws {
        try await withCensus { simulator, client in
            let admin = try #require(simulator.baseURL) + "/_admin"
            #expect(try await rawRequest(.GET, admin + "/health").status == 200)
            let patched = try await rawRequest(.PATCH, admin + "/knobs", body: #"{"runDurationMs": 0, "outcomeWeights": {"failed": 1}, "failedRecordRate": 0.5, "rateLimit": null}"#)
            #expect(patched.status == 200, "\(patched.body)")
            #expect(simulator.knobs.runDuration == .zero && simulator.knobs.outcomeWeights == [.failed: 1] && simulator.knobs.failedRecordRate == 0.5)
            #expect(try await rawRequest(.PATCH, admin + "/knobs", body: #"{"serverErrorRate": 2}"#).status == 422)
            #expect(try await rawRequest(.PATCH, admin + "/knobs", body: #"{"nonsense": 1}"#).status == 422)
            #expect(simulator.knobs.serverErrorRate == 0, "a refused body changes nothing")

            #expect(try await rawRequest(.POST, admin + "/outcomes", body: #"{"outcome": "completed", "syncId": 61}"#).status == 200)
            #expect(try await client.syncRun(id: try await client.triggerSync(id: 61)).status == .completed, "forced per sync beats the weights")
            #expect(try await client.syncRun(id: try await client.triggerSync(id: 62)).status == .failed)
            #expect(try await rawRequest(.DELETE, admin + "/outcomes").status == 200)
            #expect(try await client.syncRun(id: try await client.triggerSync(id: 61)).status == .failed)

            #expect(try await rawRequest(.POST, admin + "/syncs", body: #"{"id": 900, "label": "new", "sourceId": 10, "destinationId": 12}"#).status == 200)
            #expect(try await client.sync(id: 900).label == "new")
            #expect(try await rawRequest(.POST, admin + "/syncs", body: #"{"id": 900}"#).status == 409)
            let past = try await rawRequest(.POST, admin + "/syncs/900/runs", body: #"{"agoSeconds": 600, "outcome": "completed"}"#)
            #expect(past.status == 200)
            #expect(try envelopeData(past.body)["status"] as? String == "completed")
            #expect(try await rawRequest(.DELETE, admin + "/syncs/900").status == 200)
            _ = try await expectVendorError(.notFound) { _ = try await client.sync(id: 900) }

            #expect(try await rawRequest(.POST, admin + "/triggers/lose", body: #"{"count": 1}"#).status == 200)
            _ = try await expectVendorError(.server) { _ = try await client.triggerSync(id: 61) }

            let triggers = try jsonObject(try await rawRequest(.GET, admin + "/triggers").body)
            #expect((triggers["data"] as? [[String: Any]])?.count == 4)
            let counters = try jsonObject(try await rawRequest(.GET, admin + "/counters").body)
            #expect((counters["triggers"] as? [String: Any])?["total"] as? Int == 4)
            #expect(((counters["requests"] as? [String: Any])?["POST /syncs/{sync_id}/trigger"] as? [String: Any])?["502"] as? Int == 1)

            let advanced = try await rawRequest(.POST, admin + "/time/advance", body: #"{"seconds": 3600}"#)
            #expect(advanced.status == 200 && advanced.body.contains("now"))

            #expect(try await rawRequest(.PUT, admin + "/tokens", body: #"{"tokens": ["rotated"]}"#).status == 200)
            _ = try await expectVendorError(.unauthorized) { _ = try await client.sync(id: 61) }
            let rotated = try await rawRequest(.GET, try #require(simulator.baseURL) + "/api/v1/syncs/61", headers: [("Authorization", "Bearer secret-token:rotated")])
            #expect(rotated.status == 200)
            #expect(try await rawRequest(.POST, admin + "/tokens/revoke").status == 200)
            #expect(try await rawRequest(.GET, try #require(simulator.baseURL) + "/api/v1/syncs/61", headers: [("Authorization", "Bearer secret-token:rotated")]).status == 401)
            simulator.setTokens([testToken])

            #expect(try await rawRequest(.POST, admin + "/reset?objects=true").status == 200)
            #expect(simulator.counters().totalTriggers == 0 && simulator.triggerLog().isEmpty)
            #expect(try await client.sync(id: 61).id == 61)
            _ = try await expectVendorError(.notFound) { _ = try await client.listSyncRuns(syncID: 900) }
            #expect(try await client.listSyncRuns(syncID: 61).isEmpty, "runs are gone")
        }
    }

    @Test("the admin token guards /_admin when set; admin calls are not counted")
    func adminToken() async throws {
        try await withCensus(simulator: { $0.adminToken = "let-me-in" }) { simulator, _ in
            let admin = try #require(simulator.baseURL) + "/_admin"
            #expect(try await rawRequest(.GET, admin + "/counters").status == 401)
            #expect(try await rawRequest(.GET, admin + "/counters", headers: [("X-Simulator-Admin-Token", "let-me-in")]).status == 200)
            #expect(simulator.counters().totalRequests == 0)
        }
    }

    @Test("pagination parameters: page 0 is page 1, per_page is capped at 100, a bad order is 400")
    func paginationParameters() async throws {
        try await withCensus(simulator: { $0.syncs = (1...120).map { CensusSimulator.SeedSync(id: $0) } }) { simulator, client in
            let base = try #require(simulator.baseURL) + "/api/v1/syncs"
            let zero = try jsonObject(try await rawRequest(.GET, base + "?page=0&per_page=5", headers: bearer).body)
            #expect((zero["pagination"] as? [String: Any])?["page"] as? Int == 1)
            let capped = try jsonObject(try await rawRequest(.GET, base + "?per_page=500", headers: bearer).body)
            #expect((capped["data"] as? [Any])?.count == 100 && (capped["pagination"] as? [String: Any])?["per_page"] as? Int == 100)
            let defaults = try jsonObject(try await rawRequest(.GET, base, headers: bearer).body)
            #expect((defaults["data"] as? [Any])?.count == 25)
            #expect(try await rawRequest(.GET, base + "?order=sideways", headers: bearer).status == 400)
            #expect(try await rawRequest(.GET, base + "?page=two", headers: bearer).status == 400)
            #expect(try await client.listSyncs().count == 120)
        }
    }
}
