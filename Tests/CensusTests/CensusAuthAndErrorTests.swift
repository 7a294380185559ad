@testable import Census
import CensusSimulator
import Foundation
import NIOHTTP1
import InMemoryLogging
import Logging
import NIOCore
import Synchronization
import Testing
import VendorHTTP

@Suite("Census: authentication, envelopes and errors", .timeLimit(.minutes(1)))
struct CensusAuthAndErrorTests {
    @Test("the token is sent as Bearer secret-token:…, whether configured with its prefix or without")
    func tokenForms() async throws {
        for configured in [testToken, prefixedToken, "  \(prefixedToken)\n"] {
            try await withCensus(client: { $0.token = VendorSecret(configured) }) { _, client in
                let sync = try await client.sync(id: 61)
                #expect(sync.id == 61)
            }
        }
    }

    @Test("the simulator accepts Bearer secret-token:… and Basic bearer:secret-token:…; refuses the rest with 401 and the error envelope")
    func authForms() async throws {
        try await withCensus { simulator, _ in
            let url = try #require(simulator.baseURL) + "/api/v1/syncs/61"
            let basic = Data("bearer:\(prefixedToken)".utf8).base64EncodedString()
            let upperBasic = Data("BEARER:\(prefixedToken)".utf8).base64EncodedString()
            for headers in [bearer, [("Authorization", "Basic \(basic)")], [("Authorization", "basic \(upperBasic)")], [("authorization", "bearer \(prefixedToken)")]] {
                let answer = try await rawRequest(.GET, url, headers: headers)
                #expect(answer.status == 200, "\(headers): \(answer.body)")
                #expect(try envelopeData(answer.body)["id"] as? Int == 61)
            }
            let refused: [[(String, String)]] = [
                [],
                [("Authorization", "Bearer \(testToken)")],  // without the prefix
                [("Authorization", "Bearer secret-token:wrong")],
                [("Authorization", "Basic \(Data("user:\(prefixedToken)".utf8).base64EncodedString())")],
                [("Authorization", "Basic !!!")],
                [("Authorization", "Token \(prefixedToken)")],
            ]
            for headers in refused {
                let answer = try await rawRequest(.GET, url, headers: headers)
                #expect(answer.status == 401, "\(headers): \(answer.body)")
                let body = try jsonObject(answer.body)
                #expect(body["status"] as? String == "error" && (body["message"] as? String)?.hasPrefix("Unauthorized") == true)
            }
            #expect(simulator.counters().responses(status: 401) == refused.count)
        }
    }

    @Test("401 is .unauthorized, not retried, with Census's message")
    func unauthorized() async throws {
        try await withCensus(client: { $0.token = VendorSecret("secret-token:revoked") }) { simulator, client in
            let error = try await expectVendorError(.unauthorized) { _ = try await client.sync(id: 61) }
            #expect(error.status == 401 && error.attempts == 1 && error.message?.contains("not valid") == true)
            #expect(error.description.contains("census GET /syncs/{sync_id} failed"))
            #expect(simulator.counters().totalRequests == 1)
        }
    }

    @Test("404 answers {\"status\": 404, \"message\": …} and is .notFound, for syncs, runs and connections")
    func notFound() async throws {
        try await withCensus { simulator, client in
            let error = try await expectVendorError(.notFound) { _ = try await client.sync(id: 4242) }
            #expect(error.message == "Couldn't find Sync with 'id'=4242" && error.attempts == 1)
            _ = try await expectVendorError(.notFound) { _ = try await client.syncRun(id: 61) }
            let raw = try await rawRequest(.GET, try #require(simulator.baseURL) + "/api/v1/sync_runs/77", headers: bearer)
            #expect(raw.status == 404)
            #expect(try jsonObject(raw.body)["status"] as? Int == 404)
        }
    }

    @Test("5xx on a read is retried until it works; a trigger's 5xx is not retried and says the outcome is unknown")
    func serverErrors() async throws {
        try await withCensus(knobs: { $0.serverErrorRate = 1 }) { simulator, client in
            let error = try await expectVendorError(.server) { _ = try await client.sync(id: 61) }
            #expect(error.attempts == 4 && error.message == "Internal Server Error" && error.outcomeUnknown)
            let trigger = try await expectVendorError(.server) { _ = try await client.triggerSync(id: 61) }
            #expect(trigger.attempts == 1 && trigger.outcomeUnknown, "a trigger may have started a run: never sent twice blindly")
            #expect(trigger.description.contains("check its state before repeating"))
            simulator.updateKnobs { $0.serverErrorRate = 0.5; $0.seed = 3 }
            for _ in 0..<10 { _ = try await client.sync(id: 61) }
            #expect(simulator.counters().injectedFaults > 5)
        }
    }

    @Test("a proxy's 502/503/504 HTML page becomes a one-line message")
    func proxyPages() async throws {
        try await withCensus(knobs: { $0.serverErrorRate = 1; $0.serverErrorStatus = 503 }, client: { $0.retryPolicy = .none }) { _, client in
            let error = try await expectVendorError(.server) { _ = try await client.sync(id: 61) }
            #expect(error.status == 503 && error.message == "503 Service Temporarily Unavailable")
        }
    }

    @Test("a lost trigger answer: the run exists, the caller sees a 502 with outcomeUnknown and finds the run by time")
    func lostTriggerAnswer() async throws {
        try await withCensus { simulator, client in
            let before = Date().addingTimeInterval(-1)
            simulator.loseTriggerAnswers(1)
            let error = try await expectVendorError(.server) { _ = try await client.triggerSync(id: 61) }
            #expect(error.status == 502 && error.outcomeUnknown && error.attempts == 1)
            let found = try await client.runs(syncID: 61, createdAtOrAfter: before)
            #expect(found.count == 1 && simulator.counters().totalTriggers == 1)
            _ = try await client.triggerSync(id: 61)
            #expect(simulator.counters().totalTriggers == 2, "only the next trigger's answer was lost")
        }
    }

    @Test("429 with Retry-After is retried after the wait; still limited after the budget is .rateLimited")
    func rateLimited() async throws {
        // The window counts simulated time: frozen, it stays full until the test moves the clock,
        // however long the requests take; the client's budget outlasts a slow test doing so.
        try await withCensus(
            knobs: { $0.rateLimit = CensusSimulator.RateLimit(requests: 2, window: .milliseconds(600)) },
            client: { $0.retryPolicy = RetryPolicy(maxAttempts: 30, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), totalBudget: .seconds(30)) }
        ) { simulator, client in
            simulator.freezeClock()
            let raw = try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 { group.addTask { _ = try await client.sync(id: 61) } }
                try await group.waitForAll()
                return try await rawRequest(.GET, try #require(simulator.baseURL) + "/api/v1/syncs/61", headers: bearer)
            }
            #expect(raw.status == 429)
            #expect(raw.headers.first(name: "Retry-After") == "1")
            #expect(try jsonObject(raw.body)["status"] as? String == "error")
            // Refused too, the client waits Retry-After (1 s); meanwhile the window frees, and its
            // next attempt gets through.
            let started = ContinuousClock.now
            let waiting = Task { try await client.sync(id: 61) }
            #expect(try await eventually { simulator.counters().rateLimited >= 2 }, "the client is refused")
            simulator.advanceClock(by: .seconds(1))
            _ = try await waiting.value
            #expect(ContinuousClock.now - started >= .milliseconds(500))
            #expect(simulator.counters().rateLimited >= 2)
        }
        try await withCensus(
            knobs: { $0.rateLimit = CensusSimulator.RateLimit(requests: 1, window: .seconds(30)) },
            client: { $0.retryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), totalBudget: .seconds(2)) }
        ) { simulator, client in
            simulator.freezeClock()  // the window counts simulated time: full until the test moves it
            _ = try await client.sync(id: 61)
            let error = try await expectVendorError(.rateLimited) { _ = try await client.sync(id: 61) }
            #expect(error.status == 429 && error.message?.contains("Too many requests") == true)
        }
    }

    @Test("the client-side limiter keeps a busy client under the simulator's limit: no 429 at all")
    func clientSideLimit() async throws {
        try await withCensus(
            knobs: { $0.rateLimit = CensusSimulator.RateLimit(requests: 5, window: .milliseconds(500)) },
            client: { $0.rateLimit = RateLimiter.Configuration(permits: 5, window: .milliseconds(500)) }
        ) { simulator, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<15 { group.addTask { _ = try await client.sync(id: 61) } }
                try await group.waitForAll()
            }
            #expect(simulator.counters().rateLimited == 0)
            #expect(simulator.counters().requests("GET /syncs/{sync_id}", status: 200) == 15)
        }
    }

    @Test("the task's send guard runs once the rate-limit permit is granted; a guard that throws sends nothing")
    func sendGuardRunsAfterThePermit() async throws {
        struct NotOurs: Error {}
        try await withCensus(client: { $0.rateLimit = RateLimiter.Configuration(permits: 1, window: .milliseconds(300), safetyMargin: .zero) }) { simulator, client in
            _ = try await client.triggerSync(id: 61)
            let firstDone = ContinuousClock.now
            let checked = Mutex<[ContinuousClock.Instant]>([])
            let refuse: @Sendable () async throws -> Void = {
                checked.withLock { $0.append(ContinuousClock.now) }
                throw NotOurs()
            }
            await #expect(throws: NotOurs.self) {
                try await VendorSendGuard.$current.withValue(VendorSendGuard(refuse)) { _ = try await client.triggerSync(id: 61) }
            }
            let calls = checked.withLock { $0 }
            #expect(calls.count == 1, "one attempt, checked once")
            #expect(calls.allSatisfy { $0 - firstDone >= .milliseconds(290) }, "checked only once the permit came, a window after the first trigger")
            #expect(simulator.counters().totalTriggers == 1, "the refused trigger was not sent")
            // A guard that lets it go: sent.
            try await VendorSendGuard.$current.withValue(VendorSendGuard({})) { _ = try await client.triggerSync(id: 61) }
            #expect(simulator.counters().totalTriggers == 2)
        }
    }

    @Test("error bodies: the envelope, a numeric status, {error: …}, a JSON string, text and HTML")
    func errorBodies() throws {
        func parse(_ text: String) -> VendorErrorBody { CensusErrorBody.parse(status: 500, body: ByteBuffer(string: text)) }
        #expect(parse(#"{"status":"error","message":"Sync is paused"}"#).message == "Sync is paused")
        #expect(parse(#"{"status":404,"message":"Not Found"}"#).message == "Not Found")
        #expect(parse(#"{"error":"boom"}"#).message == "boom")
        #expect(parse(#"{"error":{"message":"nested"}}"#).message == "nested")
        #expect(parse(#"{"status":"error","message":"Invalid","errors":{"mappings":["is empty"]}}"#).details?["mappings"] != nil)
        #expect(parse(#""Internal Server Error""#).message == "Internal Server Error")
        #expect(parse("upstream connect error\n  or disconnect").message == "upstream connect error or disconnect")
        #expect(parse("<html><head><title>502 Bad Gateway</title></head><body>x</body></html>").message == "502 Bad Gateway")
        #expect(parse(#"{"unexpected":true}"#).details?["unexpected"]?.boolValue == true)
    }

    @Test("no log line at trace level, no error and no description of the client or its configuration contains the token")
    func tokenNeverAppears() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "secret-test", factory: { _ in handler })
        logger.logLevel = .trace
        var texts: [String] = []
        try await withCensus(
            client: { $0.retryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10), totalBudget: .seconds(2)) },
            logger: logger
        ) { simulator, client in
            _ = try await client.triggerSync(id: 61, forceFullSync: false)
            _ = try await client.listSyncRuns(syncID: 61)
            let failures: [() async throws -> Void] = [
                { _ = try await client.sync(id: 4040) },
                {
                    simulator.updateKnobs { $0.serverErrorRate = 1 }
                    defer { simulator.updateKnobs { $0.serverErrorRate = 0 } }
                    _ = try await client.listSources()
                },
                {
                    simulator.setTokens(["other"])
                    defer { simulator.setTokens([testToken]) }
                    _ = try await client.checkConnection()
                },
            ]
            for failure in failures {
                do {
                    try await failure()
                    Issue.record("expected a failure")
                } catch {
                    texts.append(String(describing: error))
                    texts.append(String(reflecting: error))
                    var dumped = ""
                    dump(error, to: &dumped)
                    texts.append(dumped)
                }
            }
            texts.append(String(describing: client))
            texts.append(String(reflecting: client))
            texts.append(String(describing: client.configuration))
            var dumpedClient = ""
            dump(client, to: &dumpedClient)
            texts.append(dumpedClient)
        }
        let lines = handler.entries.map { "\($0.level) \($0.message) \($0.metadata) \($0.error.map { String(describing: $0) } ?? "")" }
        #expect(lines.count >= 6 && lines.contains { $0.contains("retrying") })
        for text in lines + texts {
            #expect(!text.contains(testToken), "the token leaked: \(text)")
        }
        #expect(texts.suffix(4).allSatisfy { $0.contains("redacted") })
    }
}
