import FactoryEngine
import FactoryState
import FivetranDriver
import Foundation
import JSONSchema
import Testing

/// Fivetran's webhooks as the driver reads them (the process test is WebhookProcessTests).
@Suite("Fivetran webhooks: signature and notice")
struct FivetranWebhookTests {
    let body = Array(#"{"event":"sync_end","connector_id":"end_to_end_1","data":{"status":"SUCCESSFUL"}}"#.utf8)
    /// Python's `hmac.new(b"whsec", body, hashlib.sha256).hexdigest().upper()`, as Fivetran sends it.
    let signature = "DBD888D162532503283D946AACB7AF35DD2C0FDB79F8448301DCE5ED5B820726"

    func header(_ value: String?) -> (String) -> String? {
        { name in name == "X-Fivetran-Signature-256" ? value : nil }
    }

    @Test("the signature is checked in either case; a wrong, short, missing one or another secret fails")
    func signatures() {
        let verify = FivetranDriver.webhook.verify
        #expect(verify(body, header(signature), "whsec"))
        #expect(verify(body, header(signature.lowercased()), "whsec"))
        #expect(!verify(body, header(signature), "other"))
        #expect(!verify(body, header(String(signature.dropLast())), "whsec"))
        #expect(!verify(body, header(nil), "whsec"))
        #expect(!verify(body + [0x20], header(signature), "whsec"))
    }

    @Test("sync_end concerns the followed runs of resources on that connector only; other events are ignored; a body that is not an event is refused")
    func notice() throws {
        let notice = try #require(try FivetranDriver.webhook.read(body))
        let run = RunRecord(key: "c1", vendorRunID: nil, reference: nil, phase: .running, vendorStatus: "syncing", recordedAt: Date(), checkedAt: Date())
        #expect(notice.concerns(run, ["connectorId": "end_to_end_1"]))
        #expect(!notice.concerns(run, ["connectorId": "end_to_end_2"]))
        #expect(!notice.concerns(run, nil))
        #expect(try FivetranDriver.webhook.read(Array(#"{"event":"sync_start","connector_id":"end_to_end_1"}"#.utf8)) == nil)
        #expect(throws: WebhookRefusal.self) { try FivetranDriver.webhook.read(Array("[1]".utf8)) }
        #expect(throws: WebhookRefusal.self) { try FivetranDriver.webhook.read(Array(#"{"event":"sync_end"}"#.utf8)) }
    }
}
