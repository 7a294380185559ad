import Foundation
import Hightouch
import HightouchSimulator
import InMemoryLogging
import Logging
import Testing
import VendorHTTP

@Suite("Hightouch client: the token never leaks", .timeLimit(.minutes(1)))
struct HightouchSecretTests {
    @Test("no log line at trace level, no error and no description of the client or its configuration contains the token")
    func tokenNeverAppears() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "secret-test", factory: { _ in handler })
        logger.logLevel = .trace

        var errorTexts: [String] = []
        var clientTexts: [String] = []
        try await withHightouch(
            knobs: { $0.serverErrorRate = 0 },
            client: { $0.retryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10), totalBudget: .seconds(2)) },
            logger: logger
        ) { simulator, client in
            // Successes, every error class, retries.
            let sync = try await createSeedPipeline(client)
            _ = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            _ = try await client.listSyncRuns(syncID: sync.id)
            let failures: [() async throws -> Void] = [
                { _ = try await client.sync(id: 4040) },
                { _ = try await client.createModel(seedModel()) },
                { _ = try await client.createModel(.rawSQL(name: "x", slug: "x", sourceID: 9, primaryKey: "id", sql: "s")) },
                {
                    simulator.updateKnobs { $0.serverErrorRate = 1 }
                    defer { simulator.updateKnobs { $0.serverErrorRate = 0 } }
                    _ = try await client.listSources()
                },
                {
                    simulator.setTokens(["other"])
                    defer { simulator.setTokens([testToken]) }
                    _ = try await client.listSources()
                },
            ]
            for failure in failures {
                do {
                    try await failure()
                    Issue.record("expected a failure")
                } catch {
                    errorTexts.append(String(describing: error))
                    errorTexts.append(String(reflecting: error))
                    errorTexts.append((error as? VendorError)?.localizedDescription ?? "")
                    var dumped = ""
                    dump(error, to: &dumped)
                    errorTexts.append(dumped)
                }
            }
            clientTexts.append(String(describing: client))
            clientTexts.append(String(reflecting: client))
            clientTexts.append(String(describing: client.configuration))
            var dumpedClient = ""
            dump(client, to: &dumpedClient)
            clientTexts.append(dumpedClient)
            var dumpedConfiguration = ""
            dump(client.configuration, to: &dumpedConfiguration)
            clientTexts.append(dumpedConfiguration)
        }

        let lines = handler.entries.map { entry in
            "\(entry.level) \(entry.message) \(entry.metadata) \(entry.error.map { String(describing: $0) } ?? "")"
        }
        #expect(lines.count >= 10, "the client logged its attempts at trace and debug level")
        #expect(lines.contains { $0.contains("retrying") }, "retries were logged")
        for text in lines + errorTexts + clientTexts {
            #expect(!text.contains(testToken), "the token leaked: \(text)")
        }
        #expect(clientTexts.allSatisfy { $0.contains("redacted") })
    }
}
