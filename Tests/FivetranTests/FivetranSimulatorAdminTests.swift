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

            let knobs = try await rawRequest(.PATCH, admin + "/knobs", body: #"{"syncDurationMs": 100, "outcomeWeights": {"failed": 1}, "seed": 7}"#)
            #expect(knobs.status == 200 && simulator.knobs.syncDuration == .milliseconds(100) && simulator.knobs.outcomeWeights == [.failed: 1])
            #expect(try await rawRequest(.PATCH, admin + "/knobs", body: #"{"serverErrorRate": 2}"#).status == 400)
            #expect(try await rawRequest(.PATCH, admin + "/knobs", body: #"{"syncDurationMS": 1}"#).status == 400)
            _ = try await rawRequest(.PATCH, admin + "/knobs", body: #"{"outcomeWeights": {"success": 1}}"#)

            // Forced outcome for one connector wins over the weights.
            #expect(try await rawRequest(.POST, admin + "/outcomes", body: #"{"outcome": "failed", "connectorId": "shrank_paparazzi", "count": 1, "message": "forced"}"#).status == 200)
            try await client.syncConnector(id: connectorID)
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
