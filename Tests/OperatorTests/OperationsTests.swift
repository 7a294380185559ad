import FactoryModel
import Foundation
import HightouchDriver
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HightouchSimulator
import NATSKit
import NATSTestKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Operations: metrics, logs, secrets, manifest", .serialized, .timeLimit(.minutes(3)))
struct OperationsTests {
    static func http(_ url: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    static func waitForHTTP(_ url: String, timeout: Duration = .seconds(30)) async throws -> (Int, String) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if let answer = try? await http(url) { return answer }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await http(url)
    }

    @Test("metrics, health and readiness endpoints; JSON log lines; the vendor secret appears in no log line, KV entry, reply, metric, dead letter or error")
    func metricsLogsAndSecret() async throws {
        let secret = "s3cr3t-hightouch-key-6f1d2c"
        let harness = try await OperatorHarness.start(replicas: 0)
        harness.simulator.setTokens([secret])
        let metricPort = try FreePort.pick()
        let replica = try harness.startProcess(named: "observed", [
            "HIGHTOUCH_SERVICE_SECRET": secret, "LOG_FORMAT": "json", "LOG_LEVEL": "trace", "METRIC_PORT": "\(metricPort)",
        ])
        do {
            let (health, healthBody) = try await Self.waitForHTTP("http://127.0.0.1:\(metricPort)/healthz")
            #expect(health == 200 && healthBody == "ok\n")
            try await harness.waitForQueryable()
            let (ready, readyBody) = try await Self.waitForHTTP("http://127.0.0.1:\(metricPort)/readyz")
            #expect(ready == 200, "\(readyBody)")
            #expect(readyBody.contains("nats.connected ok"))

            var replies: [String] = []
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            // A refused command and a vendor that refuses the key for a while.
            try await harness.publishRaw(Array("not json".utf8), messageID: "garbage")
            harness.simulator.setTokens(["another-key"])
            try await harness.publish(.run(ResourceReference(name: try ResourceName("pipeline-01")), workspace: try WorkspaceName("public")), messageID: "run-while-revoked")
            let unauthorized = try await harness.waitForStatus("pipeline-01") { $0.lastError?.reason == "vendorUnauthorized" }
            #expect(unauthorized.lastError?.message.contains("HIGHTOUCH_SERVICE_SECRET") == true, "says what to check")
            harness.simulator.setTokens([secret])
            try await harness.waitForStatus("pipeline-01", timeout: .seconds(30)) { $0.lastCommand?.id == "run-while-revoked" && $0.runtime == "succeeded" }
            for query in [StatusQuery(workspace: "public", name: "pipeline-01"), StatusQuery(workspace: "public"), StatusQuery(workspace: nil, allWorkspaces: true)] {
                let raw = try await harness.client.request(Array(try JSONEncoder().encode(query)), to: harness.names.querySubject)
                replies.append(raw.string)
            }

            let (metricsStatus, metrics) = try await Self.http("http://127.0.0.1:\(metricPort)/metrics")
            #expect(metricsStatus == 200)
            for name in [
                #"factory_commands_total{op="apply",outcome="triggered",disposition="ack"}"#, "factory_commands_received_total",
                #"outcome="refused""#, "factory_vendor_requests_total", #"status="401""#, "factory_vendor_request_duration_seconds",
                "factory_kv_operations_total", "factory_runs_finished_total", "factory_queries_total", "factory_query_duration_seconds",
                "factory_leader 1",
            ] {
                #expect(metrics.contains(name), "metrics lack \(name)")
            }

            // Every KV entry, raw.
            let bucket = try await harness.jetStream.keyValue(harness.names.stateBucket)
            var stored: [String] = []
            for key in try await bucket.keys() {
                if let entry = try await bucket.get(key) { stored.append(key + " " + entry.string) }
            }
            #expect(!stored.isEmpty)
            let letters = try await harness.deadLetters().map { letter in letter.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n") + String(decoding: letter.payload, as: UTF8.self) }

            replica.terminate()
            #expect(await replica.waitForExit() == 0, "SIGTERM: exit 0")
            let log = replica.log
            let lines = log.split(separator: "\n")
            #expect(lines.count > 10)
            let unparsable = lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) == nil }
            #expect(unparsable.isEmpty, "every log line is JSON: \(unparsable.prefix(3))")
            #expect(log.contains(#""command.outcome":"triggered""#), "commands are logged with their metadata")
            #expect(log.contains(#""level":"trace""#))

            for (place, text) in [("log", log), ("KV", stored.joined(separator: "\n")), ("replies", replies.joined()), ("metrics", metrics), ("dead letters", letters.joined())] {
                #expect(!text.contains(secret), "the secret appears in the \(place)")
            }
        } catch {
            print(replica.log.suffix(4000))
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test("--manifest: resource types, enabled workspaces and subjects from an operator manifest; its environmentVars are defaults under the real environment")
    func manifestDefaults() async throws {
        let harness = try await OperatorHarness.start(replicas: 0)
        let manifestText = try String(contentsOf: OperatorHarness.seedResource.deletingLastPathComponent().appendingPathComponent("operator.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "    - public\n    - sandbox", with: "    - analytics")
            .replacingOccurrences(of: "ELECTION_CLUSTER_NAME: hightouch-operators", with: "ELECTION_CLUSTER_NAME: manifest-group")
        let manifest = harness.processDirectory.appendingPathComponent("operator.yaml")
        try manifestText.write(to: manifest, atomically: true, encoding: .utf8)
        // The manifest says https://api.hightouch.com and its own secret: the real environment wins.
        let replica = try harness.startProcess(named: "manifested", arguments: ["--manifest", manifest.path])
        do {
            try await harness.waitForQueryable()
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("analytics")))
            let applied = try await harness.waitForStatus("pipeline-01", workspace: "analytics") { $0.runtime == "succeeded" }
            #expect(applied.status == "active")
            try await harness.publish(.apply(try OperatorHarness.seedManifest(name: "elsewhere"), workspace: try WorkspaceName("public")))
            let refused = try await harness.waitForStatus("elsewhere") { $0.lastError != nil }
            #expect(refused.lastError?.reason == "workspaceNotEnabled")
            #expect(replica.log.contains("election manifest-group"), "ELECTION_CLUSTER_NAME came from the manifest")
            #expect(replica.log.contains("url: \(harness.hightouch.serviceURL)"), "the real HIGHTOUCH_SERVICE_URL won over the manifest's")
        } catch {
            print(replica.log.suffix(4000))
            await harness.stop()
            throw error
        }
        replica.terminate()
        _ = await replica.waitForExit()
        await harness.stop()
    }
}

@Suite("Operations: NATS security through the environment", .serialized, .timeLimit(.minutes(2)))
struct OperatorSecurityTests {
    @Test("a replica configured by NATS_URL=tls://…, NATS_CA, NATS_CERT, NATS_KEY and NATS_CREDS works; wrong credentials stop start-up with one clear line")
    func tlsAndCredentialsFromEnvironment() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("operator-security-\(UUID().uuidString.prefix(8))").path
        let certificates = try TestCertificates.make(in: base + "/tls")
        let credentials = try TestCredentials.make(in: base + "/creds", name: "operator")
        let stranger = try TestCredentials.make(in: base + "/stranger", name: "stranger")
        let serverConfiguration = NATSServerProcess.Configuration(
            extraConfiguration: certificates.serverConfiguration(verifyClients: true) + "\n" + credentials.serverConfiguration
        )
        let harness = try await OperatorHarness.start(replicas: 0, server: serverConfiguration) { nats in
            nats.servers = nats.servers.map { $0.replacingOccurrences(of: "nats://", with: "tls://") }
            nats.tls = .init(caFile: certificates.ca, certificateFile: certificates.clientCertificate, keyFile: certificates.clientKey)
            nats.authentication = .credentialsFile(path: credentials.credentialsFile)
        }
        let security = [
            "NATS_CA": certificates.ca, "NATS_CERT": certificates.clientCertificate, "NATS_KEY": certificates.clientKey,
            "NATS_CREDS": credentials.credentialsFile,
        ]
        let replica = try harness.startProcess(named: "secure", security)
        do {
            try await harness.waitForQueryable()
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }

            var wrong = security
            wrong["NATS_CREDS"] = stranger.credentialsFile
            let refused = try harness.startProcess(named: "refused", wrong)
            let status = await refused.waitForExit(timeout: .seconds(30))
            #expect(status == 1, "start-up failed")
            let lines = refused.log.split(separator: "\n").filter { $0.hasPrefix("hightouch-operator:") }
            #expect(lines.count == 1, "one line: \(refused.log.suffix(500))")
            #expect(lines.first?.contains("Authorization Violation") == true, "\(lines)")
            #expect(lines.first?.contains(".creds") == true, "says what to check")
            var noCertificate = security
            noCertificate["NATS_KEY"] = nil
            noCertificate["NATS_CERT"] = nil
            let incomplete = try harness.startProcess(named: "incomplete", ["NATS_CA": certificates.ca, "NATS_CERT": certificates.clientCertificate, "NATS_CREDS": credentials.credentialsFile])
            #expect(await incomplete.waitForExit(timeout: .seconds(10)) == 2)
            #expect(incomplete.log.contains("NATS_KEY"), "names the missing variable: \(incomplete.log)")
        } catch {
            print(replica.log.suffix(3000))
            await harness.stop()
            throw error
        }
        replica.terminate()
        _ = await replica.waitForExit()
        await harness.stop()
    }
}
