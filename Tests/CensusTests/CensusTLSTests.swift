import Census
import CensusSimulator
import Foundation
import NATSTestKit
import Testing
import VendorHTTP

/// The simulator serving HTTPS with a certificate made by openssl for this test, and the client
/// trusting it through the CA file in its configuration.
@Suite("Census over HTTPS", .serialized, .timeLimit(.minutes(1)))
struct CensusTLSTests {
    static func certificates() throws -> TestCertificates {
        try TestCertificates.make(in: FileManager.default.temporaryDirectory.appendingPathComponent("census-tls-\(UUID().uuidString)").path)
    }

    @Test("with the CA in its configuration the client talks HTTPS to the simulator: read, trigger, follow")
    func trustedCA() async throws {
        let certificates = try Self.certificates()
        defer { try? FileManager.default.removeItem(atPath: certificates.directory) }
        try await withCensus(
            simulator: { $0.tls = CensusSimulator.TLSFiles(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey) },
            client: { $0.caCertificateFile = certificates.ca }
        ) { simulator, client in
            #expect(simulator.baseURL?.hasPrefix("https://127.0.0.1:") == true)
            try await client.checkConnection()
            let run = try await client.triggerSync(id: 61, forceFullSync: true)
            finishRuns(simulator)
            let ended = try await client.waitForRun(id: run, pollInterval: .milliseconds(20), timeout: .seconds(30))
            #expect(ended.status == .completed && ended.fullSync == true)
            #expect(client.description.contains("ca: \(certificates.ca)"))
        }
    }

    @Test("without the CA, or trusting another CA, the handshake fails as a transport error, and nothing is sent")
    func untrusted() async throws {
        let certificates = try Self.certificates()
        defer { try? FileManager.default.removeItem(atPath: certificates.directory) }
        for caFile in [nil, certificates.otherCA] {
            try await withCensus(
                simulator: { $0.tls = CensusSimulator.TLSFiles(certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey) },
                // AsyncHTTPClient retries a failed handshake until the request's deadline: keep it short.
                client: { $0.caCertificateFile = caFile; $0.retryPolicy = .none; $0.timeout = .seconds(1) }
            ) { simulator, client in
                let error = try await expectVendorError(.transport) { _ = try await client.triggerSync(id: 61) }
                #expect(error.underlying != nil)
                #expect(simulator.counters().totalTriggers == 0)
            }
        }
    }

    @Test("a CA file that is missing or not PEM is refused when the client is made, naming the file")
    func badCAFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("census-bad-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let notPEM = directory + "/not.pem"
        try "hello".write(toFile: notPEM, atomically: true, encoding: .utf8)
        for path in [directory + "/missing.pem", notPEM] {
            do throws(CensusTLSError) {
                _ = try CensusClient(configuration: .init(token: VendorSecret(testToken), caCertificateFile: path), logger: silentLogger)
                Issue.record("expected the CA file \(path) to be refused")
            } catch {
                #expect(error.path == path && error.description.contains(path) && error.description.contains("PEM"))
            }
        }
    }

    @Test("the simulator refuses to start with a certificate it cannot read")
    func badServerCertificate() async throws {
        let simulator = CensusSimulator(configuration: .init(tls: .init(certificateFile: "/nonexistent/cert.pem", keyFile: "/nonexistent/key.pem")))
        do {
            try await simulator.start()
            Issue.record("expected the start to fail")
            await simulator.stop()
        } catch let error as CensusSimulatorError {
            #expect(error.description.contains("/nonexistent/cert.pem"))
        }
    }
}
