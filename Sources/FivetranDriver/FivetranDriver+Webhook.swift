import FactoryEngine
import JSONSchema

extension FivetranDriver {
    /// Fivetran's webhooks (`POST /webhooks/fivetran`): the body signed with the webhook's secret,
    /// HMAC-SHA256 in hex in `X-Fivetran-Signature-256`; a `sync_end` event names the connector
    /// whose sync ended (`connector_id`). Fivetran's syncs have no run id, so the notice concerns
    /// the followed run of every resource on that connector.
    public static let webhook = WebhookReceiver(
        path: "fivetran",
        secretVariable: "FIVETRAN_WEBHOOK_SECRET",
        verify: { body, header, secret in
            WebhookSignature.matches(header("X-Fivetran-Signature-256"), body: body, secret: secret)
        },
        read: { body throws(WebhookRefusal) in
            guard let event = try? JSONValue(parsing: body), let kind = event["event"]?.stringValue else {
                throw WebhookRefusal("not a Fivetran webhook event: expected a JSON object with \"event\"")
            }
            guard kind == "sync_end" else { return nil }
            guard let connector = event["connector_id"]?.stringValue, !connector.isEmpty else {
                throw WebhookRefusal("a sync_end event without connector_id")
            }
            let status = event["data"]?["status"]?.stringValue ?? "?"
            return WebhookNotice(description: "sync_end of connector \(connector) (\(status))") { _, objects in
                objects?["connectorId"]?.stringValue == connector
            }
        }
    )
}
