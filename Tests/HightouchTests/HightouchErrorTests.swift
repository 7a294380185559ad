import Foundation
import Hightouch
import HightouchSimulator
import NIOHTTP1
import Testing
import VendorHTTP

/// Every error class, mapped to the right typed error, retried or not as the policy says; the
/// simulator's request counters prove how many attempts were made.
@Suite("Hightouch client: errors and retries", .timeLimit(.minutes(1)))
struct HightouchErrorTests {
    @Test("401: a bad token is unauthorized, not retried; the documented bodies for missing and invalid tokens")
    func unauthorized() async throws {
        try await withHightouch(client: { $0.token = VendorSecret("wrong-token") }) { simulator, client in
            let error = try await expectVendorError(.unauthorized) { _ = try await client.listSources() }
            #expect(error.status == 401)
            #expect(error.message == "Authentication error: Token is invalid")
            #expect(error.attempts == 1)
            #expect(simulator.counters().requests("GET /sources", status: 401) == 1)

            let base = try #require(simulator.baseURL)
            let missing = try await rawRequest(.GET, base + "/api/v1/sources")
            #expect(missing.status == 401)
            let missingBody = try jsonObject(missing.body)
            #expect(missingBody["message"] as? String == "Authentication error")
            #expect(missingBody["details"] as? String == "No authorization header found")
            let invalid = try await rawRequest(.GET, base + "/api/v1/sources", headers: [("Authorization", "Bearer nope")])
            let invalidBody = try jsonObject(invalid.body)
            #expect(invalid.status == 401)
            #expect(invalidBody["message"] as? String == "Authentication error")
            #expect(invalidBody["details"] as? String == "Token is invalid")
        }
    }

    @Test("revoking and rotating the valid token at run time")
    func tokenRotation() async throws {
        try await withHightouch { simulator, client in
            _ = try await client.listSources()
            simulator.setTokens([])
            _ = try await expectVendorError(.unauthorized) { _ = try await client.listSources() }
            simulator.setTokens(["rotated"])
            _ = try await expectVendorError(.unauthorized) { _ = try await client.listSources() }
            var rotated = client.configuration
            rotated.token = VendorSecret("rotated")
            let newClient = HightouchClient(configuration: rotated, logger: silentLogger)
            #expect(try await newClient.listSources().isEmpty == false)
        }
    }

    @Test("404 is notFound and not retried")
    func notFound() async throws {
        try await withHightouch { simulator, client in
            let error = try await expectVendorError(.notFound) { _ = try await client.sync(id: 777) }
            #expect(error.status == 404)
            #expect(error.route == "GET /syncs/{syncId}")
            #expect(error.path == "/api/v1/syncs/777")
            #expect(error.message?.contains("777") == true)
            #expect(simulator.counters().requests("GET /syncs/{syncId}", status: 404) == 1)
        }
    }

    @Test("409 on a duplicate slug is a conflict carrying the ValidateErrorJSON details")
    func conflict() async throws {
        try await withHightouch { simulator, client in
            let model = try await client.createModel(seedModel())
            let modelError = try await expectVendorError(.conflict) { _ = try await client.createModel(seedModel()) }
            #expect(modelError.status == 409)
            #expect(modelError.message == "Validation failed")
            #expect(modelError.details?["requestBody.slug"] != nil)
            _ = try await client.createSync(seedSync(modelID: model.id))
            _ = try await expectVendorError(.conflict) { _ = try await client.createSync(seedSync(modelID: model.id)) }
            #expect(simulator.counters().requests("POST /models", status: 409) == 1)
            #expect(simulator.counters().requests("POST /syncs", status: 409) == 1)
        }
    }

    @Test("422 names each invalid field: unknown source, unknown model and destination, missing and mistyped fields")
    func validation() async throws {
        try await withHightouch { simulator, client in
            let badSource = try await expectVendorError(.validation) {
                _ = try await client.createModel(.rawSQL(name: "m", slug: "m", sourceID: 1, primaryKey: "id", sql: "select 1"))
            }
            #expect(badSource.status == 422)
            #expect(badSource.details?["requestBody.sourceId"] != nil)

            let badSync = try await expectVendorError(.validation) {
                _ = try await client.createSync(seedSync(modelID: 31_337))
            }
            #expect(badSync.details?["requestBody.modelId"] != nil)

            let base = try #require(simulator.baseURL)
            let auth = [("Authorization", "Bearer \(testToken)")]
            let missing = try await rawRequest(.POST, base + "/api/v1/models", headers: auth, body: #"{"name": 7, "queryType": "raw_sql", "isSchema": "maybe"}"#)
            #expect(missing.status == 422)
            let details = try #require(try jsonObject(missing.body)["details"] as? [String: Any])
            #expect(Set(details.keys).isSuperset(of: [
                "requestBody.name", "requestBody.slug", "requestBody.sourceId", "requestBody.isSchema", "requestBody.primaryKey",
                "requestBody.raw",
            ]))
            let malformed = try await rawRequest(.POST, base + "/api/v1/syncs", headers: auth, body: "{not json")
            #expect(malformed.status == 400)
            let model = try await client.createModel(seedModel())
            let excess = try await rawRequest(.PATCH, base + "/api/v1/models/\(model.id)", headers: auth, body: #"{"slug": "renamed"}"#)
            #expect(excess.status == 422, "slug is not part of ModelUpdate")
            #expect(excess.body.contains("excess property"))
            let badOrder = try await rawRequest(.GET, base + "/api/v1/syncs?orderBy=colour", headers: auth)
            #expect(badOrder.status == 422)
            #expect(simulator.counters().requests("POST /models", status: 422) == 2)
        }
    }

    @Test("5xx on a GET is retried until it succeeds; a persistent 5xx gives up after maxAttempts")
    func serverErrorsAreRetried() async throws {
        try await withHightouch(knobs: { $0.serverErrorRate = 1 }) { simulator, client in
            let error = try await expectVendorError(.server) { _ = try await client.source(id: 23474) }
            #expect(error.status == 500)
            #expect(error.message == "Internal Server Error")
            #expect(error.attempts == fastRetries.maxAttempts)
            #expect(simulator.counters().requests("GET /sources/{sourceId}", status: 500) == fastRetries.maxAttempts)

            simulator.resetCounters()
            simulator.updateKnobs { $0.serverErrorRate = 0.5; $0.seed = 3 }
            for _ in 0..<10 { _ = try await client.source(id: 23474) }
            let counters = simulator.counters()
            #expect(counters.requests("GET /sources/{sourceId}", status: 200) == 10)
            #expect(counters.requests("GET /sources/{sourceId}", status: 500) > 0, "some attempts failed and were retried")
            #expect(counters.injectedFaults == counters.requests("GET /sources/{sourceId}", status: 500))
        }
    }

    @Test("a trigger that gets a 5xx is not retried (a run may exist) and says the outcome is unknown")
    func triggerIsNotRetriedOnServerError() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            simulator.updateKnobs { $0.serverErrorRate = 1; $0.serverErrorStatus = 503 }
            let error = try await expectVendorError(.server) {
                _ = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            }
            #expect(error.status == 503)
            #expect(error.outcomeUnknown)
            #expect(error.attempts == 1)
            #expect(simulator.counters().requests("POST /syncs/{syncId}/trigger") == 1)
        }
    }

    @Test("4xx is never retried")
    func clientErrorsAreNotRetried() async throws {
        try await withHightouch { simulator, client in
            _ = try await expectVendorError(.notFound) { _ = try await client.model(id: 1) }
            _ = try await expectVendorError(.validation) {
                _ = try await client.createModel(.rawSQL(name: "m", slug: "m", sourceID: 5, primaryKey: "id", sql: "select 1"))
            }
            _ = try await client.createModel(seedModel())
            _ = try await expectVendorError(.conflict) { _ = try await client.createModel(seedModel()) }
            let counters = simulator.counters()
            #expect(counters.requests("GET /models/{modelId}") == 1)
            #expect(counters.requests("POST /models", status: 422) == 1)
            #expect(counters.requests("POST /models", status: 409) == 1)
        }
    }

    @Test("a 429 storm is ridden out within the retry budget; the server never sends Retry-After")
    func rateLimitStorm() async throws {
        try await withHightouch(
            knobs: { $0.rateLimit = .init(requests: 5, window: .milliseconds(500)) },
            client: {
                $0.rateLimit = nil  // the client's own limiter off: provoke the storm
                // Full jitter spreads 20 callers over a limit of 10 per second; enough attempts
                // that an unlucky caller still gets through well within the budget.
                $0.retryPolicy = RetryPolicy(maxAttempts: 40, baseDelay: .milliseconds(100), maxDelay: .seconds(1), totalBudget: .seconds(20))
            }
        ) { simulator, client in
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: HightouchSource.self) { group in
                for _ in 0..<20 { group.addTask { try await client.source(id: 23474) } }
                for try await source in group { #expect(source.id == 23474) }
            }
            let counters = simulator.counters()
            #expect(counters.requests("GET /sources/{sourceId}", status: 200) == 20)
            #expect(counters.requests("GET /sources/{sourceId}", status: 429) > 0)
            #expect(counters.rateLimited == counters.requests("GET /sources/{sourceId}", status: 429))
            #expect(ContinuousClock.now - start < .seconds(20))

            let base = try #require(simulator.baseURL)
            // A concurrent burst over the limit: sequential requests can be slow enough under load
            // never to exceed it.
            let limited = try await withThrowingTaskGroup(of: (status: Int, body: String, headers: HTTPHeaders).self) { group in
                for _ in 0..<12 {
                    group.addTask { try await rawRequest(.GET, base + "/api/v1/sources", headers: [("Authorization", "Bearer \(testToken)")]) }
                }
                var found: (status: Int, body: String, headers: HTTPHeaders)?
                for try await answer in group where answer.status == 429 { found = answer }
                return found
            }
            let answer = try #require(limited)
            #expect(try jsonObject(answer.body)["error"] is String)
            #expect(answer.headers["Retry-After"].isEmpty, "Hightouch sends no Retry-After")
        }
    }

    @Test("a slow answer is a timeout; an unreachable host is a transport error")
    func timeoutAndTransport() async throws {
        try await withHightouch(
            knobs: { $0.latency = .seconds(2) },
            client: { $0.timeout = .milliseconds(200); $0.retryPolicy = .none }
        ) { _, client in
            let error = try await expectVendorError(.timeout) { _ = try await client.listSources() }
            #expect(error.outcomeUnknown)
        }
        // Nothing listens on a port we just released.
        let port = try await withHightouchSimulator { simulator in try #require(simulator.port) }
        let unreachable = HightouchClient(
            configuration: .init(token: VendorSecret(testToken), baseURL: "http://127.0.0.1:\(port)", timeout: .milliseconds(300), retryPolicy: .none),
            logger: silentLogger
        )
        let error = try await expectVendorError(.transport) { _ = try await unreachable.listSources() }
        #expect(!error.outcomeUnknown, "a refused connection never reached the vendor")
    }

    @Test("empty ids and slugs are refused before anything is sent")
    func invalidArguments() async throws {
        try await withHightouch { simulator, client in
            _ = try await expectVendorError(.invalidArgument) { _ = try await client.sync(slug: " ") }
            _ = try await expectVendorError(.invalidArgument) { _ = try await client.sync(id: "") }
            #expect(simulator.counters().totalRequests == 0)
        }
    }
}
