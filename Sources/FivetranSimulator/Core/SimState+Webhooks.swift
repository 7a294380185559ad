import JSONSchema
import SimulatorKit

// MARK: - Webhooks

extension SimState {
    /// The `sync_end` bodies of the syncs that have ended since the last call, as Fivetran sends
    /// them: one per ended sync, once. A connector's first look only records where it stands.
    mutating func endedSyncWebhooks(now: Double) -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        for id in self.connectors.keys.sorted() {
            self.settle(id, now: now)
            guard let connector = self.connectors[id] else { continue }
            let ended = max(connector.succeededAt ?? -1, connector.failedAt ?? -1)
            guard let seen = self.webhookSeen[id] else {
                self.webhookSeen[id] = ended
                continue
            }
            guard ended > seen else { continue }
            self.webhookSeen[id] = ended
            let succeeded = (connector.succeededAt ?? -1) >= (connector.failedAt ?? -1)
            var data: JSONObject = ["status": .string(succeeded ? "SUCCESSFUL" : "FAILURE_WITH_TASK")]
            if !succeeded { data["reason"] = .string(connector.failureTask ?? "The sync failed.") }
            let event: JSONObject = [
                "event": .string("sync_end"),
                "created": .string(SimTimestamp.format(ended, .milliseconds)),
                "connector_type": .string(connector.service),
                "connector_id": .string(id),
                "connector_name": .string(connector.schema),
                "sync_id": .string("sync-\(id)-\(Int64(ended * 1000))"),
                "destination_group_id": .string(connector.groupID),
                "data": .object(data),
            ]
            bodies.append(JSONValue.object(event).serializedBytes())
        }
        return bodies
    }
}
