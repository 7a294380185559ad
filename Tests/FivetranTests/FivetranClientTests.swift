import Fivetran
import FivetranSimulator
import Foundation
import NIOHTTP1
import Testing
import VendorHTTP

/// Every endpoint of the client against the simulator, and what the simulator answers to the
/// requests public clients send.
@Suite("Fivetran client against the simulator", .timeLimit(.minutes(1)))
struct FivetranClientTests {
    @Test("a seeded connector is established: set up, unpaused, a past success in microseconds, no failure; the envelope and the keys clients require")
    func connectorDetails() async throws {
        try await withFivetran { simulator, client in
            let connector = try await client.connector(id: connectorID)
            #expect(connector.id == connectorID && connector.groupID == "projected_sickle" && connector.service == "postgres")
            #expect(connector.schema == "postgres_shrank_paparazzi" && connector.paused == false && connector.scheduleType == .auto)
            #expect(connector.status.setupState == .connected && connector.status.syncState == .scheduled && connector.status.updateState == "on_schedule")
            let succeeded = try #require(connector.succeededAt)
            #expect(connector.failedAt == nil && succeeded.date < Date())
            #expect(succeeded.text.range(of: #"\.\d{6}Z$"#, options: .regularExpression) != nil, "microseconds: \(succeeded.text)")
            #expect(connector.syncFrequency == 360 && connector.config?["database"] == "analytics")

            let base = try #require(simulator.baseURL)
            for family in ["connectors", "connections"] {
                let raw = try await rawRequest(.GET, "\(base)/v1/\(family)/\(connectorID)")
                #expect(raw.status == 200, "\(family): \(raw.body)")
                #expect(raw.headers.first(name: "Content-Type") == "application/json;version=2")
                let body = try jsonObject(raw.body)
                #expect(body["code"] as? String == "Success")
                let data = try #require(body["data"] as? [String: Any])
                for key in ["id", "schema", "service", "group_id", "paused", "schedule_type", "sync_frequency", "daily_sync_time", "config", "succeeded_at", "failed_at"] {
                    #expect(data.keys.contains(key), "\(family): missing \(key)")
                }
                let status = try #require(data["status"] as? [String: Any])
                for key in ["setup_state", "sync_state", "update_state", "is_historical_sync", "tasks", "warnings"] {
                    #expect(status.keys.contains(key), "\(family): missing status.\(key)")
                }
            }
        }
    }

    @Test("Content-Type and Accept application/json;version=2 on every request, GETs included; the client sends version=2; an Accept without JSON is a 406")
    func versionedMediaTypes() async throws {
        try await withFivetran { simulator, client in
            let base = try #require(simulator.baseURL)
            let versioned = [("Accept", "application/json;version=2"), ("Content-Type", "application/json;version=2")]
            #expect(try await rawRequest(.GET, "\(base)/v1/connectors/\(connectorID)", headers: versioned).status == 200)
            #expect(try await rawRequest(.GET, "\(base)/v1/connections/\(connectorID)", headers: [("Accept", "application/json")]).status == 200)
            #expect(try await rawRequest(.GET, "\(base)/v1/connectors/\(connectorID)", headers: [("Accept", "*/*")]).status == 200)
            #expect(try await rawRequest(.POST, "\(base)/v1/connectors/\(connectorID)/test", headers: versioned, body: "{}").status == 200)
            let refused = try await rawRequest(.GET, "\(base)/v1/connectors/\(connectorID)", headers: [("Accept", "text/html")])
            #expect(try refused.status == 406 && (jsonObject(refused.body)["code"] as? String) == "NotAcceptable")

            simulator.resetCounters()
            _ = try await client.connector(id: connectorID)
            try await client.syncConnector(id: "second_connector")
            #expect(simulator.counters().acceptHeaders == ["application/json;version=2": 2])
        }
    }

    @Test("PATCH schedule_type and paused; fields Fivetran refuses are a 400 naming them")
    func updates() async throws {
        try await withFivetran { simulator, client in
            let manual = try await client.updateConnector(id: connectorID, FivetranConnectorUpdate(scheduleType: .manual, runSetupTests: false))
            #expect(manual.scheduleType == .manual && manual.paused == false)
            let paused = try await client.updateConnector(id: connectorID, FivetranConnectorUpdate(paused: true))
            #expect(paused.paused && paused.status.syncState == .paused && paused.scheduleType == .manual)
            let resumed = try await client.updateConnector(id: connectorID, FivetranConnectorUpdate(paused: false, syncFrequency: 60))
            #expect(!resumed.paused && resumed.status.syncState == .scheduled && resumed.syncFrequency == 60)
            #expect(simulator.counters().updates[connectorID] == 3)

            let base = try #require(simulator.baseURL)
            let badType = try await rawRequest(.PATCH, "\(base)/v1/connectors/\(connectorID)", body: #"{"schedule_type": "hourly"}"#)
            #expect(badType.status == 400 && badType.body.contains("schedule_type"))
            let unknown = try await rawRequest(.PATCH, "\(base)/v1/connectors/\(connectorID)", body: #"{"schedule_typ": "manual"}"#)
            #expect(unknown.status == 400 && unknown.body.contains("schedule_typ"))
            let wrongType = try await rawRequest(.PATCH, "\(base)/v1/connectors/\(connectorID)", body: #"{"paused": "no"}"#)
            #expect(wrongType.status == 400 && wrongType.body.contains("paused"))
            let notJSON = try await rawRequest(.PATCH, "\(base)/v1/connectors/\(connectorID)", body: "paused=false")
            #expect(notJSON.status == 400)
            let error = try await expectVendorError(.validation) {
                _ = try await client.updateConnector(id: connectorID, FivetranConnectorUpdate(syncFrequency: 7))
            }
            #expect(error.status == 400 && error.message?.hasPrefix("InvalidInput: ") == true && error.attempts == 1)
        }
    }

    @Test("a sync moves sync_state scheduled → syncing → scheduled and succeeded_at past its old value; a sync call during a sync starts none; force and /force restart it")
    func syncLifecycle() async throws {
        try await withFivetran { simulator, client in
            let before = try await client.connector(id: connectorID)
            let message = try await client.syncConnector(id: connectorID)
            #expect(message.code == "Success" && message.message == "Sync has been successfully triggered for connector with id '\(connectorID)'")
            let syncing = try await client.connector(id: connectorID)
            #expect(syncing.status.syncState == .syncing && syncing.succeededAt == before.succeededAt)
            try await client.syncConnector(id: connectorID)
            #expect(simulator.counters().syncsStarted[connectorID] == 1 && simulator.counters().syncRequests[connectorID] == 2)

            finishSyncs(simulator)
            try await eventually("the sync ends") { try await client.connector(id: connectorID).status.syncState == .scheduled }
            let after = try await client.connector(id: connectorID)
            #expect(FivetranTimestamp.isNewer(after.succeededAt, than: before.succeededAt) && after.failedAt == nil)

            // Forced: the running sync stops, another starts; the last call finds one syncing (they
            // last ten simulated minutes) and starts none.
            let base = try #require(simulator.baseURL)
            try await client.syncConnector(id: connectorID)
            #expect(try await rawRequest(.POST, "\(base)/v1/connectors/\(connectorID)/sync", body: #"{"force": true}"#).status == 200)
            #expect(try await rawRequest(.POST, "\(base)/v1/connectors/\(connectorID)/force").status == 200)
            #expect(try await rawRequest(.POST, "\(base)/v1/connections/\(connectorID)/sync").status == 200)
            #expect(simulator.counters().syncsStarted[connectorID] == 4)
            let badForce = try await rawRequest(.POST, "\(base)/v1/connectors/\(connectorID)/sync", body: #"{"force": "yes"}"#)
            #expect(badForce.status == 400)
        }
    }

    @Test("a failed sync moves failed_at and leaves its cause as a task")
    func failedSync() async throws {
        try await withFivetran { simulator, client in
            simulator.forceOutcome(.failed, nextSyncs: 1, message: "quota exceeded at the source")
            let before = try await client.connector(id: connectorID)
            try await client.syncConnector(id: connectorID)
            finishSyncs(simulator)
            try await eventually("the sync ends") { try await client.connector(id: connectorID).status.syncState == .scheduled }
            let after = try await client.connector(id: connectorID)
            #expect(after.succeededAt == before.succeededAt && after.failedAt != nil)
            #expect(after.lastCompletion?.succeeded == false && after.status.updateState == "delayed")
            #expect(after.status.tasks.contains { $0.message == "quota exceeded at the source" })
        }
    }

    @Test("re-syncs: one table, tables, the connector with a scope; 409 during a sync, saying what to do; an empty scope is a 400")
    func resyncs() async throws {
        try await withFivetran { simulator, client in
            let message = try await client.resyncTable(connectorID: connectorID, schema: "public", table: "orders")
            #expect(message.message == "Re-sync has been triggered successfully")
            let historical = try await client.connector(id: connectorID)
            #expect(historical.status.syncState == .syncing && historical.status.isHistoricalSync == true)

            let conflict = try await expectVendorError(.conflict) {
                try await client.resyncTable(connectorID: connectorID, schema: "public", table: "orders")
            }
            #expect(conflict.status == 409 && conflict.attempts == 1 && conflict.message?.hasPrefix("Conflict: ") == true)
            #expect("\(conflict)".contains("sync of the connector is in progress"), "\(conflict)")
            _ = try await expectVendorError(.conflict) { try await client.resyncConnector(id: connectorID) }

            try await client.resyncTables(connectorID: "second_connector", ["sheets": ["a", "b"]])
            finishSyncs(simulator)
            try await eventually("the re-syncs end") {
                let first = try await client.connector(id: connectorID).status.syncState
                let second = try await client.connector(id: "second_connector").status.syncState
                return first == .scheduled && second == .scheduled
            }
            try await client.resyncConnector(id: connectorID, scope: ["public": ["customers"]])
            let counters = simulator.counters()
            #expect(counters.resyncs[connectorID] == 2 && counters.resyncs["second_connector"] == 1)
            #expect(counters.tableResyncs[connectorID] == ["public.orders": 1, "public.customers": 1])
            #expect(counters.tableResyncs["second_connector"] == ["sheets.a": 1, "sheets.b": 1])

            let base = try #require(simulator.baseURL)
            let empty = try await rawRequest(.POST, "\(base)/v1/connectors/second_connector/resync", body: #"{"scope": {}}"#)
            #expect(empty.status == 400)
            let emptyTables = try await rawRequest(.POST, "\(base)/v1/connectors/second_connector/resync", body: #"{"scope": {"s": []}}"#)
            #expect(emptyTables.status == 400)
            let whole = try await rawRequest(.POST, "\(base)/v1/connectors/second_connector/resync")
            #expect(whole.status == 200)
        }
    }

    @Test("setup tests: titles, statuses and messages; a test made to fail breaks the setup, a warning does not")
    func setupTests() async throws {
        try await withFivetran { simulator, client in
            let passed = try await client.runSetupTests(connectorID: connectorID)
            #expect(passed.tests.count == 4 && passed.tests.allSatisfy { $0.status == .passed } && !passed.hasFailures)
            #expect(passed.connector.status.setupState == .connected)

            simulator.failSetupTest(.failed, connector: connectorID, runs: 1)
            let failed = try await client.runSetupTests(connectorID: connectorID)
            let failure = try #require(failed.tests.first { $0.status == .failed })
            #expect(failure.title == "Connecting to the source" && failure.message?.contains("connection refused") == true)
            #expect(failed.connector.status.setupState == .broken && failed.hasFailures)
            #expect(try await client.connector(id: connectorID).status.tasks.contains { $0.code == "resolve_setup_test_failures" })

            simulator.failSetupTest(.warning, title: "Checking permissions", message: "two tables are not readable", runs: 1)
            let warned = try await client.runSetupTests(connectorID: connectorID, trustCertificates: true)
            #expect(warned.hasWarnings && !warned.hasFailures && warned.connector.status.setupState == .connected)
            #expect(warned.tests.first { $0.status == .warning }?.message == "two tables are not readable")
            #expect(simulator.counters().setupTests[connectorID] == 3)
        }
    }

    @Test("401 without or with wrong Basic credentials, not retried; 404 for an unknown connector on both path families")
    func authAndNotFound() async throws {
        try await withFivetran(client: { $0.apiSecret = VendorSecret("wrong") }) { simulator, client in
            let error = try await expectVendorError(.unauthorized) { _ = try await client.connector(id: connectorID) }
            #expect(error.status == 401 && error.attempts == 1 && error.message == "AuthFailed: Invalid API key or API secret.")
            let base = try #require(simulator.baseURL)
            let missing = try await rawRequest(.GET, "\(base)/v1/connectors/\(connectorID)", authorized: false)
            #expect(try missing.status == 401 && (jsonObject(missing.body)["code"] as? String) == "AuthFailed")
            let bearer = try await rawRequest(.GET, "\(base)/v1/connectors/\(connectorID)", headers: [("Authorization", "Bearer \(testSecret)")], authorized: false)
            #expect(bearer.status == 401)

            let good = try makeClient(simulator)
            let notFound = try await expectVendorError(.notFound) { _ = try await good.connector(id: "no_such_connector") }
            #expect(notFound.status == 404 && notFound.attempts == 1)
            #expect(notFound.message == "NotFound_Connector: Connector with id 'no_such_connector' does not exist.")
            #expect(notFound.route == "GET /connectors/{connectorId}" && notFound.path == "/v1/connectors/no_such_connector")
            let connection = try await rawRequest(.GET, "\(base)/v1/connections/no_such_connector")
            #expect(try connection.status == 404 && (jsonObject(connection.body)["code"] as? String) == "NotFound_Connection")
            _ = try await expectVendorError(.notFound) { try await good.syncConnector(id: "no_such_connector") }
            _ = try await expectVendorError(.invalidArgument) { _ = try await good.connector(id: " ") }
        }
    }

    @Test("429 carries Retry-After: the client waits what it says and succeeds; past its budget it gives up as rateLimited")
    func rateLimited() async throws {
        try await withFivetran(simulator: { $0.knobs.rateLimit = .init(requests: 2, window: .seconds(1)) }) { simulator, client in
            // The window counts simulated time: frozen, it stays full until the test moves the
            // clock, however long the requests take.
            simulator.freezeClock()
            let base = try #require(simulator.baseURL)
            _ = try await client.connector(id: connectorID)
            _ = try await client.connector(id: connectorID)
            let raw = try await rawRequest(.GET, "\(base)/v1/connectors/\(connectorID)")
            #expect(raw.status == 429 && raw.headers.first(name: "Retry-After") == "1")
            let body = try jsonObject(raw.body)
            #expect(body["code"] as? String == "TooManyRequests" && (body["message"] as? String)?.contains("Max 2 api calls") == true)

            // Refused too, the client waits the second Retry-After asks; meanwhile the window frees,
            // and its next attempt gets through. Its budget outlasts a slow test moving the clock.
            let patient = try makeClient(simulator) {
                $0.retryPolicy = RetryPolicy(maxAttempts: 30, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), totalBudget: .seconds(30))
            }
            let started = ContinuousClock.now
            let waiting = Task { try await patient.connector(id: connectorID) }
            try await eventually("the client is refused") { simulator.counters().rateLimited >= 2 }
            simulator.advanceClock(by: .seconds(1))
            _ = try await waiting.value
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(simulator.counters().rateLimited >= 2)

            simulator.updateKnobs { $0.rateLimit = .init(requests: 1, window: .seconds(60)) }
            _ = try await client.connector(id: connectorID)
            let error = try await expectVendorError(.rateLimited) { _ = try await client.connector(id: connectorID) }
            #expect(error.status == 429 && error.attempts == 1, "Retry-After 60 s is past the 5 s budget: \(error)")
        }
    }

    @Test("5xx: reads are retried; a sync whose answer is lost is not repeated, and the sync did start")
    func serverErrors() async throws {
        try await withFivetran { simulator, client in
            simulator.updateKnobs { $0.serverErrorRate = 1 }
            let error = try await expectVendorError(.server) { _ = try await client.connector(id: connectorID) }
            #expect(error.status == 500 && error.attempts == fastRetries.maxAttempts)
            simulator.updateKnobs { $0.serverErrorRate = 0 }

            simulator.loseAnswers(1)
            let lost = try await expectVendorError(.server) { try await client.syncConnector(id: connectorID) }
            #expect(lost.attempts == 1 && lost.outcomeUnknown, "a sync call is not repeated after a 5xx")
            let counters = simulator.counters()
            #expect(counters.syncsStarted[connectorID] == 1 && counters.lostAnswers == 1)
            #expect(try await client.connector(id: connectorID).status.syncState == .syncing)
        }
    }

    @Test("a sync asked for while rescheduled waits for rescheduled_for; an auto connector then starts it by itself")
    func rescheduled() async throws {
        try await withFivetran { simulator, client in
            // Deferred by ten simulated minutes: still deferred however slow the test, until the
            // test moves the clock to rescheduled_for.
            let delay = Duration.seconds(600)
            simulator.rescheduleNextSyncs(1, by: delay)
            try await client.syncConnector(id: connectorID)
            let deferred = try await client.connector(id: connectorID)
            #expect(deferred.status.syncState == .rescheduled && deferred.status.rescheduledFor != nil)
            try await client.syncConnector(id: connectorID)
            #expect(try await client.connector(id: connectorID).status.syncState == .rescheduled, "asked again too early: still deferred")
            simulator.advanceClock(by: delay)
            try await eventually("the rescheduled sync starts by itself") { try await client.connector(id: connectorID).status.syncState == .syncing }
            finishSyncs(simulator)
            try await eventually("the rescheduled sync ends") {
                let connector = try await client.connector(id: connectorID)
                return FivetranTimestamp.isNewer(connector.succeededAt, than: deferred.succeededAt)
            }
            #expect(simulator.counters().syncsStarted[connectorID] == 1)
        }
    }

    @Test("HTTPS with a self-signed certificate: trusted through the configuration's CA, refused without it; a CA that is not PEM is refused at once")
    func tls() async throws {
        let certificate = try SelfSignedCertificate.make()
        defer { certificate.remove() }
        let pem = try String(contentsOfFile: certificate.certificate, encoding: .utf8)
        try await withFivetran(
            simulator: { $0.tls = .init(certificateChainPath: certificate.certificate, privateKeyPath: certificate.key) },
            client: { $0.trustedCertificatesPEM = pem }
        ) { simulator, client in
            #expect(simulator.baseURL?.hasPrefix("https://") == true)
            #expect(try await client.connector(id: connectorID).id == connectorID)
            try await client.syncConnector(id: connectorID)

            let untrusting = try makeClient(simulator) {
                $0.retryPolicy = .none
                $0.timeout = .seconds(1)
            }
            // AsyncHTTPClient keeps retrying a failed handshake until the attempt's deadline, then
            // reports the TLS failure (or, on a loaded machine, the deadline).
            do {
                _ = try await untrusting.connector(id: connectorID)
                Issue.record("an untrusted certificate was accepted")
            } catch let error as VendorError {
                #expect([VendorError.Code.transport, .timeout].contains(error.code) && error.attempts == 1, "\(error)")
                #expect(error.code != .transport || "\(error)".contains("certificate") || "\(error)".contains("SSL"), "\(error)")
            }
        }
        #expect(throws: VendorError.self) {
            _ = try FivetranClient(
                configuration: .init(apiKey: VendorSecret(testKey), apiSecret: VendorSecret(testSecret), trustedCertificatesPEM: "not a certificate"),
                logger: silentLogger
            )
        }
        let badFiles = FivetranSimulator(configuration: .init(tls: .init(certificateChainPath: "/nonexistent.pem", privateKeyPath: "/nonexistent-key.pem")))
        await #expect(throws: FivetranSimulatorError.self) { try await badFiles.start() }
    }

    @Test("timestamps compare exactly to the microsecond, whatever their zone")
    func timestamps() throws {
        let a = try #require(FivetranTimestamp("2021-03-23T20:55:12.670390Z"))
        let b = try #require(FivetranTimestamp("2021-03-23T20:55:12.670391Z"))
        let c = try #require(FivetranTimestamp("2021-03-23T21:55:12.67039+01:00"))
        #expect(a < b && a == c && !FivetranTimestamp.isNewer(c, than: a) && FivetranTimestamp.isNewer(b, than: a))
        #expect(FivetranTimestamp.isNewer(a, than: nil) && !FivetranTimestamp.isNewer(nil, than: a))
        #expect(FivetranTimestamp("2021-03-23T20:55:12") == nil, "no zone: ambiguous")
        #expect(FivetranTimestamp("2023-01-05T18:12:49.562Z")?.nanoseconds == 562_000_000)
        let date = Date(timeIntervalSince1970: 1_700_000_000.5)
        #expect(FivetranTimestamp(date: date).text == "2023-11-14T22:13:20.500000Z")
    }
}
