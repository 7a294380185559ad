import FactoryEngine
import FactoryState
import JSONSchema

extension DBTCloudDriver {
    /// dbt Cloud's job webhooks (`POST /webhooks/dbtcloud`): the body signed with the webhook's
    /// secret, HMAC-SHA256 in hex in `Authorization`; `job.run.completed` and `job.run.errored`
    /// name the run (`data.runId`) whose end the notice concerns. `job.run.started` is ignored.
    public static let webhook = WebhookReceiver(
        path: "dbtcloud",
        secretVariable: "DBT_CLOUD_WEBHOOK_SECRET",
        verify: { body, header, secret in
            WebhookSignature.matches(header("Authorization"), body: body, secret: secret)
        },
        read: { body throws(WebhookRefusal) in
            guard let event = try? JSONValue(parsing: body), let kind = event["eventType"]?.stringValue else {
                throw WebhookRefusal("not a dbt Cloud webhook event: expected a JSON object with \"eventType\"")
            }
            guard kind == "job.run.completed" || kind == "job.run.errored" else { return nil }
            // dbt Cloud sends ids as strings; a number is read too.
            let runValue = event["data"]?["runId"]
            guard let run = runValue?.stringValue ?? runValue?.numberValue.map({ "\($0)" }), !run.isEmpty else {
                throw WebhookRefusal("a \(kind) event without data.runId")
            }
            let status = event["data"]?["runStatus"]?.stringValue ?? "?"
            return WebhookNotice(description: "\(kind) of run \(run) (\(status))") { followed, _ in
                followed.vendorRunID == run
            }
        }
    )
}
