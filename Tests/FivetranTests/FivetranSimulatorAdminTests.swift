import Fivetran
import FivetranSimulator
import Foundation
import NIOHTTP1
import Testing

/// The simulator's `/_admin` routes over HTTP, as curl or another process would use them.
@Suite("Fivetran simulator: admin routes", .timeLimit(.minutes(1)))
struct FivetranSimulatorAdminTests {
    @Test("knobs, forced outcomes, setup test failures, faults, credentials, time, connectors, counters and resets")
    func adminRoutes() async throws {
        try await withFivetran { simulator, client in
            let admin = try #require(simulator.baseURL) + "/_admin"
            #expect(try await rawRequest(.GET, admin + "/health", authorized: false).body == #"{"status":"ok"}"#)

            // Syncs of twenty minutes: each lasts until the test moves the clock past it.
            let knobs = try await rawRequest(.PATCH, admin + "/knobs", body: #"{"syncDurationMs": 1200000, "outcomeWeights": {"failed": 1}, "seed": 7}"#)
            #expect(knobs.status == 200 && simulator.knobs.syncDuration == .seconds(1_200) && simulator.knobs.outcomeWeights == [.failed: 1])
            #expect(try await rawRequest(.PATCH, admin + "/knobs", body: #"{"serverErrorRate": 2}"#).status == 400)
            #expect(try await rawRequest(.PATCH, admin + "/knobs", body: #"{"syncDurationMS": 1}"#).status == 400)
            _ = try await rawRequest(.PATCH, admin + "/knobs", body: #"{"outcomeWeights": {"success": 1}}"#)

            // Forced outcome for one connector wins over the weights.
            #expect(try await rawRequest(.POST, admin + "/outcomes", body: #"{"outcome": "failed", "connectorId": "shrank_paparazzi", "count": 1, "message": "forced"}"#).status == 200)
            try await client.syncConnector(id: connectorID)
            finishSyncs(simulator)
            try await eventually("the sync ends") { try await client.connector(id: connectorID).status.syncState == .scheduled }
            #expect(try await client.connector(id: connectorID).status.tasks.first?.message == "forced")
            #expect(try await rawRequest(.POST, admin + "/outcomes", body: #"{"outcome": "aborted"}"#).status == 400)
            #expect(try await rawRequest(.DELETE, admin + "/outcomes").status == 200)

            #expect(try await rawRequest(.POST, admin + "/setup-tests", body: #"{"status": "WARNING", "title": "Checking permissions", "count": 1}"#).status == 200)
            #expect(try await client.runSetupTests(connectorID: connectorID).hasWarnings)
            #expect(try await rawRequest(.POST, admin + "/setup-tests", body: #"{"title": "No such test"}"#).status == 400)

            let faults = try await rawRequest(.POST, admin + "/faults", body: #"{"loseAnswers": 1, "reschedule": {"count": 0, "delayMs": 0}}"#)
            #expect(faults.status == 200)
            _ = try await expectVendorError(.server) { try await client.syncConnector(id: "second_connector") }
            #expect(try await client.connector(id: "second_connector").status.syncState == .syncing, "the lost answer's sync started")

            // A scheduled sync out of band; 409 while syncing.
            finishSyncs(simulator)
            try await eventually("the sync ends") { try await client.connector(id: "second_connector").status.syncState == .scheduled }
            #expect(try await rawRequest(.POST, admin + "/connectors/second_connector/sync").status == 200)
            #expect(try await rawRequest(.POST, admin + "/connectors/second_connector/sync").status == 409)
            #expect(try await rawRequest(.POST, admin + "/connectors/no_such/sync").status == 404)

            let added = try await rawRequest(.POST, admin + "/connectors", body: #"{"id": "new_one", "service": "salesforce", "paused": true, "scheduleType": "manual"}"#)
            #expect(added.status == 200)
            let newOne = try await client.connector(id: "new_one")
            #expect(newOne.paused && newOne.scheduleType == .manual && newOne.service == "salesforce" && newOne.status.syncState == .paused)
            #expect(try await rawRequest(.POST, admin + "/connectors", body: #"{"id": "Bad-Id"}"#).status == 400)

            let advanced = try await rawRequest(.POST, admin + "/time/advance", body: #"{"seconds": 3600}"#)
            #expect(advanced.status == 200 && advanced.body.contains("now"))

            // Frozen, simulated time stands still (however much wall time passes) except when
            // advanced; resumed, it goes on from there.
            let frozen = try jsonObject(try await rawRequest(.POST, admin + "/time/freeze").body)
            #expect(frozen["frozen"] as? Bool == true)
            let frozenNow = try #require(FivetranTimestamp(frozen["now"] as? String ?? ""))
            try await Task.sleep(for: .milliseconds(20))
            let stillFrozen = try jsonObject(try await rawRequest(.POST, admin + "/time/freeze").body)
            #expect(stillFrozen["now"] as? String == frozenNow.text)
            let moved = try jsonObject(try await rawRequest(.POST, admin + "/time/advance", body: #"{"seconds": 60}"#).body)
            let movedNow = try #require(FivetranTimestamp(moved["now"] as? String ?? ""))
            #expect(abs(movedNow.date.timeIntervalSince(frozenNow.date) - 60) < 0.001, "\(frozenNow) → \(movedNow)")
            let resumed = try jsonObject(try await rawRequest(.POST, admin + "/time/resume").body)
            let resumedNow = try #require(FivetranTimestamp(resumed["now"] as? String ?? ""))
            #expect(resumed["frozen"] as? Bool == false && resumedNow >= movedNow && resumedNow.date.timeIntervalSince(movedNow.date) < 60)

            // A rescheduled sync brought due at once: rescheduled_for becomes now; 409 with none.
            #expect(try await rawRequest(.POST, admin + "/connectors/second_connector/reschedule-due").status == 409)
            #expect(try await rawRequest(.POST, admin + "/faults", body: #"{"reschedule": {"count": 1, "delayMs": 3600000}}"#).status == 200)
            try await client.syncConnector(id: "second_connector")
            let waiting = try #require(try await client.connector(id: "second_connector").status.rescheduledFor)
            let due = try await rawRequest(.POST, admin + "/connectors/second_connector/reschedule-due")
            #expect(due.status == 200)
            let dueStatus = (try jsonObject(due.body)["data"] as? [String: Any])?["status"] as? [String: Any]
            let dueFor = try #require(FivetranTimestamp(dueStatus?["rescheduled_for"] as? String ?? ""))
            #expect(dueFor < waiting && dueFor.date.timeIntervalSince(waiting.date) < -3_000)
            #expect(try await client.connector(id: "second_connector").status.syncState == .syncing, "an auto connector starts a due sync by itself")
            #expect(try await rawRequest(.POST, admin + "/connectors/no_such/reschedule-due").status == 404)

            let counters = try jsonObject(try await rawRequest(.GET, admin + "/counters").body)
            #expect((counters["syncsStarted"] as? [String: Int])?[connectorID] == 1)
            #expect((counters["lostAnswers"] as? Int) == 1)
            #expect((counters["requests"] as? [String: Any])?["POST /connectors/{connectorId}/sync"] != nil)

            #expect(try await rawRequest(.PUT, admin + "/credentials", body: #"{"credentials": [{"apiKey": "k2", "apiSecret": "s2"}]}"#).status == 200)
            _ = try await expectVendorError(.unauthorized) { _ = try await client.connector(id: connectorID) }
            #expect(try await rawRequest(.POST, admin + "/credentials/revoke").status == 200)
            simulator.setCredentials([testCredential])

            #expect(try await rawRequest(.POST, admin + "/reset?connectors=true").status == 200)
            #expect(simulator.counters().totalRequests == 0)
            _ = try await expectVendorError(.notFound) { _ = try await client.connector(id: "new_one") }
        }
    }

    @Test("an admin token, when set, guards /_admin and not the API")
    func adminToken() async throws {
        try await withFivetran(simulator: { $0.adminToken = "let-me-in" }) { simulator, client in
            let admin = try #require(simulator.baseURL) + "/_admin"
            #expect(try await rawRequest(.GET, admin + "/counters").status == 401)
            #expect(try await rawRequest(.GET, admin + "/counters", headers: [("X-Simulator-Admin-Token", "let-me-in")]).status == 200)
            _ = try await client.connector(id: connectorID)
        }
    }
}
