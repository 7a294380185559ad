import DBTCloudSimulator
import FactoryModel
import FivetranSimulator
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JSONSchema
import NATSTestKit
import SimulatedVendors
import SimulatorKit
import Testing

/// Completion webhooks (issue 15, item 4) with processes: the vendor's simulator sends its signed
/// webhook to a `factory-operator` replica on OPERATOR_WEBHOOK_PORT when a run ends. The replicas
/// look at runs only every 60 s on their own, so a run seen ended within seconds was seen through
/// its webhook.
@Suite("Completion webhooks as processes: Fivetran and dbt Cloud", .serialized, .timeLimit(.minutes(4)))
struct WebhookProcessTests {
    static let secret = "whsec-e2e-4f1c"

    /// A vendor sending its webhooks to a replica's port, the replica polling every 60 s.
    static func withStack(_ makeVendor: (SimWebhookSender.Target) -> any SimulatedVendor, path: String, secretVariable: String, _ body: (VendorStack, any SimulatedVendor, Int) async throws -> Void) async throws {
        let port = try FreePort.pick()
        let vendor = makeVendor(.init(url: "http://127.0.0.1:\(port)/webhooks/\(path)", secret: secret))
        let stack = try await VendorStack.start(vendor, replicas: [])
        stack.extraEnvironment = [
            "OPERATOR_WEBHOOK_PORT": "\(port)", secretVariable: secret, "OPERATOR_RECONCILE_WORKERS_INTERVAL": "60s",
        ]
        do {
            try stack.startReplica("replica-a")
            _ = try await stack.waitForQueryable()
            try await body(stack, vendor, port)
        } catch {
            print(stack.logs)
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    /// Applies a resource of target 1 and waits for its run's end: within 30 s, where the
    /// replica's own next look would be 60 s after the trigger; one run at the vendor.
    static func runEndsThroughWebhook(_ stack: VendorStack, _ vendor: any SimulatedVendor) async throws {
        try vendor.prepare(1)
        try await stack.apply("hooked", spec: vendor.spec(1, serviceURL: stack.serviceURL, timeout: nil))
        let ended = try await stack.waitForStatus("hooked", timeout: .seconds(30)) { $0.runtime == "succeeded" }
        #expect(ended.lastRun?.phase == "succeeded")
        #expect(vendor.runs(1) == 1)
    }

    static func post(_ body: String, to url: String, headers: [String: String]) async throws -> Int {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test("dbt Cloud: job.run.completed ends the run at once; a wrong signature is refused (401), another vendor's path is 404")
    func dbtCloud() async throws {
        try await Self.withStack({ SimulatedDBTCloud(webhook: $0) }, path: "dbtcloud", secretVariable: "DBT_CLOUD_WEBHOOK_SECRET") { stack, vendor, port in
            let dbt = try #require(vendor as? SimulatedDBTCloud)
            try await Self.runEndsThroughWebhook(stack, vendor)
            let deliveries = dbt.simulator.webhooks?.deliveries ?? []
            #expect(deliveries.contains { $0.status == 200 && $0.body.contains("\"eventType\":\"job.run.completed\"") }, "\(deliveries)")

            let forged = #"{"eventType":"job.run.completed","data":{"runId":"1"}}"#
            #expect(try await Self.post(forged, to: "http://127.0.0.1:\(port)/webhooks/dbtcloud", headers: ["Authorization": String(repeating: "0", count: 64)]) == 401)
            #expect(try await Self.post(forged, to: "http://127.0.0.1:\(port)/webhooks/census", headers: [:]) == 404)
            let signer = SimWebhookSender(target: .init(url: "", secret: Self.secret), signatureHeader: "Authorization", upperCaseHex: false)
            let unreadable = "not json"
            #expect(try await Self.post(unreadable, to: "http://127.0.0.1:\(port)/webhooks/dbtcloud", headers: ["Authorization": signer.signature(of: Array(unreadable.utf8))]) == 400)
        }
    }

    @Test("Fivetran: sync_end ends the sync at once (Fivetran's syncs have no id: matched by connector); an unsigned one is refused")
    func fivetran() async throws {
        try await Self.withStack({ SimulatedFivetran(webhook: $0) }, path: "fivetran", secretVariable: "FIVETRAN_WEBHOOK_SECRET") { stack, vendor, port in
            let fivetran = try #require(vendor as? SimulatedFivetran)
            try await Self.runEndsThroughWebhook(stack, vendor)
            let deliveries = fivetran.simulator.webhooks?.deliveries ?? []
            #expect(deliveries.contains { $0.status == 200 && $0.body.contains("\"event\":\"sync_end\"") && $0.body.contains(vendor.target(1)) }, "\(deliveries)")
            #expect(try await Self.post(#"{"event":"sync_end","connector_id":"x"}"#, to: "http://127.0.0.1:\(port)/webhooks/fivetran", headers: [:]) == 401)
        }
    }
}
