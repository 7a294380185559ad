import DBTCloud
import DBTCloudSimulator
import Foundation
import InMemoryLogging
import Logging
import NATSTestKit
import Testing
import VendorHTTP

/// Every error class, mapped to the right typed error, retried or not as the policy says; the
/// simulator's counters prove how many attempts were made. Then HTTPS with a CA of the test's own,
/// and the token that never leaks.
@Suite("dbt Cloud client: errors, retries, TLS, the token", .timeLimit(.minutes(1)))
struct DBTCloudErrorTests {
    @Test("401 with the envelope's 'Invalid token.', not retried; 403 for an account the token is not scoped to")
    func unauthorized() async throws {
        try await withDBTCloud(client: { $0.token = VendorSecret("wrong") }) { simulator, client in
            let error = try await expectVendorError(.unauthorized) { _ = try await client.job(account: testAccount, id: dailyJob) }
            #expect(error.status == 401 && error.attempts == 1 && error.message == "Invalid token.")
            #expect(simulator.counters().responses(status: 401) == 1)
        }
        try await withDBTCloud { _, client in
            let error = try await expectVendorError(.unauthorized) { _ = try await client.job(account: 999, id: dailyJob) }
            #expect(error.status == 403 && error.message == "Access denied: Token is not scoped to account.")
        }
    }

    @Test("400 field errors come back as validation with the envelope's data as details")
    func validation() async throws {
        try await withDBTCloud { _, client in
            let error = try await expectVendorError(.validation) {
                _ = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "c", stepsOverride: ["ls"]))
            }
            #expect(error.status == 400 && error.attempts == 1)
            #expect(error.message == "The request was invalid. Please double check the provided data and try again.")
            #expect(error.details?["steps_override"]?.arrayValue?.isEmpty == false)
            #expect(String(describing: error).contains("steps_override"))
        }
    }

    @Test("429 is retried after Retry-After; a GET retried on 5xx until it succeeds; a trigger is not retried after a 5xx (outcome unknown)")
    func retries() async throws {
        // The window counts simulated time: frozen, it stays full until the test moves the clock,
        // however long the requests take; the client's budget outlasts a slow test doing so.
        try await withDBTCloud(
            knobs: { $0.rateLimit = DBTCloudSimulator.RateLimit(requests: 1, window: .seconds(1)) },
            client: { $0.retryPolicy = RetryPolicy(maxAttempts: 30, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), totalBudget: .seconds(30)) }
        ) { simulator, client in
            simulator.freezeClock()
            _ = try await client.job(account: testAccount, id: dailyJob)
            let started = ContinuousClock.now
            let throttled = Task { try await client.job(account: testAccount, id: dailyJob) }  // throttled once, then waits Retry-After (1 s)
            try await eventually("the second call is throttled") { simulator.counters().rateLimited >= 1 }
            simulator.advanceClock(by: .seconds(1))
            _ = try await throttled.value
            #expect(ContinuousClock.now - started >= .milliseconds(500))
            #expect(simulator.counters().rateLimited >= 1)
        }
        try await withDBTCloud(knobs: { $0.serverErrorRate = 1 }) { simulator, client in
            let error = try await expectVendorError(.server) { _ = try await client.job(account: testAccount, id: dailyJob) }
            #expect(error.attempts == fastRetries.maxAttempts && error.status == 500)
            #expect(error.message?.hasPrefix("An unexpected error occurred") == true)

            let trigger = try await expectVendorError(.server) {
                _ = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "once"))
            }
            #expect(trigger.attempts == 1 && trigger.outcomeUnknown)
            #expect(simulator.counters().requests("POST /accounts/{accountId}/jobs/{jobId}/run/") == 1)
        }
    }

    @Test("a lost trigger answer: 504 from the gateway, outcome unknown, but the run exists and carries the cause")
    func lostAnswer() async throws {
        try await withDBTCloud { simulator, client in
            simulator.dropTriggerAnswers(1)
            let error = try await expectVendorError(.server) {
                _ = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "lost [factory:abc]"))
            }
            #expect(error.status == 504 && error.outcomeUnknown && error.attempts == 1)
            #expect(error.message == "upstream request timeout")
            let runs = try await client.runs(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob, includeRelated: [.trigger]))
            #expect(runs.count == 1 && runs.first?.trigger?.cause == "lost [factory:abc]")
            #expect(simulator.counters().droppedAnswers == 1 && simulator.triggerLog().first?.answerDropped == true)
        }
    }

    @Test("HTTPS: the simulator serves with a certificate from a test CA; the client trusts it only with that CA in its configuration")
    func tls() async throws {
        let directory = try temporaryDirectory("dbtcloud-tls")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = try TestCertificates.make(in: directory)
        var configuration = testSimulatorConfiguration()
        configuration.tls = DBTCloudSimulator.TLSFiles(certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey)
        try await withDBTCloudSimulator(configuration: configuration) { simulator in
            let base = try #require(simulator.baseURL)
            #expect(base.hasPrefix("https://127.0.0.1:"))

            let client = try makeClient(simulator) { $0.caFile = certificates.ca }
            let job = try await client.job(account: testAccount, id: dailyJob)
            #expect(job.name == "Daily run")
            let run = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "over TLS"))
            #expect(run.href?.hasPrefix("https://127.0.0.1:") == true)

            // Not trusted without the CA, nor with an unrelated one: the handshake fails, nothing is sent.
            for caFile in [nil, certificates.otherCA] {
                let untrusting = try makeClient(simulator) {
                    $0.caFile = caFile
                    $0.retryPolicy = .none
                    $0.timeout = .seconds(1)
                }
                let error = try await expectVendorError(.transport) { _ = try await untrusting.job(account: testAccount, id: dailyJob) }
                #expect(error.status == nil && String(describing: error).lowercased().contains("certificate"), "\(error)")
            }
            #expect(simulator.counters().totalRuns == 1)
        }

        let missing = try await expectVendorError(.invalidArgument) {
            _ = try DBTCloudClient(
                configuration: .init(token: VendorSecret(testToken), caFile: directory + "/absent.pem"), logger: silentLogger
            )
        }
        #expect(missing.message?.contains("absent.pem") == true)
        try "not a certificate".write(toFile: directory + "/garbage.pem", atomically: true, encoding: .utf8)
        _ = try await expectVendorError(.invalidArgument) {
            _ = try DBTCloudClient(configuration: .init(token: VendorSecret(testToken), caFile: directory + "/garbage.pem"), logger: silentLogger)
        }
    }

    @Test("no log line at trace level, no error and no description of the client or its configuration contains the token")
    func tokenNeverAppears() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "secret-test", factory: { _ in handler })
        logger.logLevel = .trace
        var texts: [String] = []
        try await withDBTCloud(
            client: { $0.retryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10), totalBudget: .seconds(2)) },
            logger: logger
        ) { simulator, client in
            let run = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "secret"))
            _ = try await client.run(account: testAccount, id: run.id)
            let failures: [() async throws -> Void] = [
                { _ = try await client.job(account: testAccount, id: 1) },
                { _ = try await client.job(account: 999, id: dailyJob) },
                {
                    simulator.updateKnobs { $0.serverErrorRate = 1 }
                    defer { simulator.updateKnobs { $0.serverErrorRate = 0 } }
                    _ = try await client.runs(account: testAccount)
                },
                {
                    simulator.setTokens(["other"])
                    defer { simulator.setTokens([testToken]) }
                    _ = try await client.run(account: testAccount, id: run.id)
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
            for value in [String(describing: client), String(reflecting: client), String(describing: client.configuration)] { texts.append(value) }
            var dumped = ""
            dump(client, to: &dumped)
            texts.append(dumped)
        }
        let lines = handler.entries.map { "\($0.level) \($0.message) \($0.metadata) \($0.error.map { String(describing: $0) } ?? "")" }
        #expect(lines.count >= 6, "the client logged its attempts")
        #expect(lines.contains { $0.contains("retrying") })
        for text in lines + texts {
            #expect(!text.contains(testToken), "the token leaked: \(text)")
        }
        #expect(texts.contains { $0.contains("<redacted>") })
    }
}
