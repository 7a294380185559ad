import Foundation
import Hightouch
import HightouchSimulator
import NIOHTTP1
import Testing
import VendorHTTP

/// The admin HTTP API, exercised the way docs/hightouch.md shows it with curl.
@Suite("Hightouch simulator: admin API", .timeLimit(.minutes(1)))
struct HightouchSimulatorAdminTests {
    @Test("knobs, forced outcomes, time, counters, tokens and resets over HTTP")
    func adminAPI() async throws {
        try await withHightouch { simulator, client in
            let admin = try #require(simulator.baseURL) + "/_admin"
            #expect(try await rawRequest(.GET, admin + "/health").status == 200)

            let patched = try await rawRequest(
                .PATCH,
                admin + "/knobs",
                body: #"{"runDurationMs": 60000, "outcomeWeights": {"warning": 1}, "latencyMs": 5, "rateLimit": null, "seed": 9}"#
            )
            #expect(patched.status == 200)
            #expect(simulator.knobs.runDuration == .seconds(60))
            #expect(simulator.knobs.outcomeWeights == [.warning: 1])
            #expect(simulator.knobs.latency == .milliseconds(5))
            #expect(simulator.knobs.rateLimit == nil)
            #expect(simulator.knobs.seed == 9)
            let rejected = try await rawRequest(.PATCH, admin + "/knobs", body: #"{"serverErrorRate": 2}"#)
            #expect(rejected.status == 422)

            let sync = try await createSeedPipeline(client)
            #expect(try await rawRequest(.POST, admin + "/outcomes", body: #"{"outcome": "failed", "count": 1, "error": "boom"}"#).status == 200)
            let failedRun = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            let advanced = try await rawRequest(.POST, admin + "/time/advance", body: #"{"seconds": 61}"#)
            #expect(advanced.status == 200)
            let failed = try #require(try await client.run(syncID: sync.id, runID: failedRun))
            #expect(failed.status == .failed)
            #expect(failed.error == "boom")
            let warningRun = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            _ = try await rawRequest(.POST, admin + "/time/advance", body: #"{"seconds": 61}"#)
            #expect(try await client.run(syncID: sync.id, runID: warningRun)?.status == .warning)

            #expect(try await rawRequest(.POST, admin + "/outcomes", body: #"{"outcome": "interrupted", "syncSlug": "icebase-excel-01"}"#).status == 200)
            let interruptedRun = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            #expect(try await rawRequest(.POST, admin + "/runs/\(interruptedRun)/cancel").status == 200)
            #expect(try await client.run(syncID: sync.id, runID: interruptedRun)?.status == .cancelled)
            #expect(try await rawRequest(.DELETE, admin + "/outcomes").status == 200)

            let counters = try jsonObject(try await rawRequest(.GET, admin + "/counters").body)
            let triggers = try #require(counters["triggers"] as? [String: Any])
            #expect(triggers["total"] as? Int == 3)
            #expect((triggers["bySyncSlug"] as? [String: Any])?["icebase-excel-01"] as? Int == 3)
            let requests = try #require(counters["requests"] as? [String: Any])
            #expect((requests["POST /syncs/{syncId}/trigger"] as? [String: Any])?["200"] as? Int == 3)
            let runs = try #require(counters["runsByStatus"] as? [String: Any])
            #expect(runs["failed"] as? Int == 1)
            #expect(runs["warning"] as? Int == 1)
            #expect(runs["cancelled"] as? Int == 1)

            let triggerLog = try jsonObject(try await rawRequest(.GET, admin + "/triggers").body)
            #expect((triggerLog["data"] as? [Any])?.count == 3)

            #expect(try await rawRequest(.PUT, admin + "/tokens", body: #"{"tokens": ["next-token"]}"#).status == 200)
            _ = try await expectVendorError(.unauthorized) { _ = try await client.listSources() }
            #expect(try await rawRequest(.PUT, admin + "/tokens", body: "{\"tokens\": [\"\(testToken)\"]}").status == 200)
            #expect(try await rawRequest(.POST, admin + "/reset?objects=true").status == 200)
            #expect(try await client.listSyncs().isEmpty)
            #expect(simulator.counters().totalTriggers == 0)
            #expect(try await client.listSources().count == 2, "seed objects survive a reset")
        }
    }

    @Test("an admin token, when configured, guards /_admin")
    func adminToken() async throws {
        try await withHightouch(simulator: { $0.adminToken = "admin-secret" }) { simulator, _ in
            let admin = try #require(simulator.baseURL) + "/_admin"
            #expect(try await rawRequest(.GET, admin + "/counters").status == 401)
            #expect(try await rawRequest(.GET, admin + "/counters", headers: [("X-Simulator-Admin-Token", "admin-secret")]).status == 200)
        }
    }

    @Test("ten thousand syncs with a running run each: reads stay fast because runs advance lazily")
    func manySyncs() async throws {
        try await withHightouch(knobs: { $0.rateLimit = nil; $0.runDuration = .seconds(3600) }) { simulator, client in
            let model = try await client.createModel(seedModel())
            let setup = ContinuousClock.now
            let ids = try simulator.bulkCreateSyncs(count: 10_000, modelID: try #require(model.id.intValue), trigger: true)
            #expect(ids.count == 10_000)
            #expect(ContinuousClock.now - setup < .seconds(5))
            #expect(throws: HightouchSimulatorError.self) { try simulator.bulkCreateSyncs(count: 1, modelID: 1) }
            let start = ContinuousClock.now
            let page = try await client.listSyncsPage(limit: 100, offset: 9_900)
            #expect(page.data.count == 100)
            #expect(page.data.allSatisfy { $0.status == .querying || $0.status == .processing })
            #expect(simulator.counters().runsByStatus.values.reduce(0, +) == 10_000)
            #expect(ContinuousClock.now - start < .seconds(2))
        }
    }
}
