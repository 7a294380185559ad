import Fivetran
import FivetranSimulator
import Foundation
import InMemoryLogging
import Logging
import Testing
import VendorHTTP

@Suite("Fivetran client: the key and secret never leak", .timeLimit(.minutes(1)))
struct FivetranSecretTests {
    @Test("no log line at trace level, no error and no description of the client or its configuration holds the key, the secret or their Basic encoding")
    func credentialsNeverAppear() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "secret-test", factory: { _ in handler })
        logger.logLevel = .trace

        var texts: [String] = []
        try await withFivetran(
            client: { $0.retryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10), totalBudget: .seconds(2)) },
            logger: logger
        ) { simulator, client in
            _ = try await client.connector(id: connectorID)
            try await client.syncConnector(id: connectorID)
            _ = try await client.runSetupTests(connectorID: connectorID)
            let failures: [() async throws -> Void] = [
                { _ = try await client.connector(id: "no_such_connector") },
                { try await client.resyncTable(connectorID: connectorID, schema: "s", table: "t") },
                { _ = try await client.updateConnector(id: connectorID, FivetranConnectorUpdate(syncFrequency: 3)) },
                {
                    simulator.updateKnobs { $0.serverErrorRate = 1 }
                    defer { simulator.updateKnobs { $0.serverErrorRate = 0 } }
                    _ = try await client.connector(id: connectorID)
                },
                {
                    simulator.setCredentials([.init(apiKey: "other", apiSecret: "other")])
                    defer { simulator.setCredentials([testCredential]) }
                    _ = try await client.connector(id: connectorID)
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
            var dumpedConfiguration = ""
            dump(client.configuration, to: &dumpedConfiguration)
            texts.append(dumpedConfiguration)
            texts.append(String(describing: testCredential))
        }

        let lines = handler.entries.map { entry in
            "\(entry.level) \(entry.message) \(entry.metadata) \(entry.error.map { String(describing: $0) } ?? "")"
        }
        #expect(lines.count >= 10, "the client logged its attempts at trace and debug level")
        #expect(lines.contains { $0.contains("retrying") }, "retries were logged")
        for text in lines + texts {
            #expect(!text.contains(testKey) && !text.contains(testSecret) && !text.contains(testBasic), "a credential leaked: \(text)")
        }
    }
}
