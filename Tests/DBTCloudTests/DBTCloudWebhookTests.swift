import DBTCloudDriver
import FactoryEngine
import FactoryState
import Foundation
import JSONSchema
import Testing

/// dbt Cloud's job webhooks as the driver reads them (the process test is WebhookProcessTests).
@Suite("dbt Cloud webhooks: signature and notice")
struct DBTCloudWebhookTests {
    let body = Array(#"{"eventType":"job.run.completed","data":{"runId":"100000001","runStatus":"Success"}}"#.utf8)
    /// Python's `hmac.new(b"whsec", body, hashlib.sha256).hexdigest()`, as dbt Cloud sends it in `Authorization`.
    let signature = "3e64196b85cc6a98c20434b957e4937954cbd09830aafefbb31605548f5db7d6"

    func header(_ value: String?) -> (String) -> String? {
        { name in name == "Authorization" ? value : nil }
    }

    @Test("the signature in Authorization is checked; a wrong one or another secret fails")
    func signatures() {
        let verify = DBTCloudDriver.webhook.verify
        #expect(verify(body, header(signature), "whsec"))
        #expect(!verify(body, header(signature), "other"))
        #expect(!verify(body, header("Token " + signature), "whsec"))
        #expect(!verify(body, header(nil), "whsec"))
    }

    @Test("job.run.completed concerns the run with that id; job.run.started is ignored; a completed event without a run id is refused")
    func notice() throws {
        let notice = try #require(try DBTCloudDriver.webhook.read(body))
        func run(_ id: String?) -> RunRecord {
            RunRecord(key: "c", vendorRunID: id, reference: nil, phase: .running, vendorStatus: "running", recordedAt: Date(), checkedAt: Date())
        }
        #expect(notice.concerns(run("100000001"), nil))
        #expect(!notice.concerns(run("100000002"), nil))
        #expect(!notice.concerns(run(nil), nil))
        let numeric = try #require(try DBTCloudDriver.webhook.read(Array(#"{"eventType":"job.run.errored","data":{"runId":100000003}}"#.utf8)))
        #expect(numeric.concerns(run("100000003"), nil))
        #expect(try DBTCloudDriver.webhook.read(Array(#"{"eventType":"job.run.started","data":{"runId":"1"}}"#.utf8)) == nil)
        #expect(throws: WebhookRefusal.self) { try DBTCloudDriver.webhook.read(Array(#"{"eventType":"job.run.completed","data":{}}"#.utf8)) }
    }
}
