import SimulatorKit

// MARK: - The API's answers

extension SimState {
    /// `page`, `per_page` and `order` of a collection request, as Census reads them.
    struct Paging: Sendable {
        var page = 1
        var perPage = 25
        var descending = true
    }

    /// `{"status": "success", "data": ...}`.
    static func success(_ data: SimJSON) -> SimJSON {
        .object(["status": "success", "data": data])
    }

    /// A page of `items` (already in creation order, oldest first) with Census's `pagination`
    /// object and the `next` URL it is phasing out.
    static func page(_ items: [SimJSON], paging: Paging, nextURL: (Int) -> String) -> SimJSON {
        let ordered = paging.descending ? Array(items.reversed()) : items
        let total = ordered.count
        let lastPage = max(1, (total + paging.perPage - 1) / paging.perPage)
        let start = min((paging.page - 1) * paging.perPage, total)
        let end = min(start + paging.perPage, total)
        let nextPage: Int? = end < total ? paging.page + 1 : nil
        var object: SimObject = ["status": "success", "data": .array(Array(ordered[start..<end]))]
        if let nextPage { object["next"] = .string(nextURL(nextPage)) }
        object["pagination"] = .object([
            "total_records": .int(total),
            "per_page": .int(paging.perPage),
            "prev_page": paging.page > 1 ? .int(min(paging.page - 1, lastPage)) : .null,
            "page": .int(paging.page),
            "next_page": .optionalInt(nextPage),
            "last_page": .int(lastPage),
        ])
        return .object(object)
    }

    // MARK: Syncs

    func syncJSON(_ sync: SimSync) -> SimJSON {
        let model = SimObject([
            ("type", "model"), ("id", .int(sync.id * 10 + 5)), ("name", .string("model_for_sync_\(sync.id)")),
            ("created_at", .string(SimTimestamp.format(sync.createdAt))), ("updated_at", .string(SimTimestamp.format(sync.createdAt))),
            ("query", .string("select id, email from analytics.users")),
        ])
        let lastRun = self.runsBySync[sync.id]?.last
        var object = SimObject()
        object["id"] = .int(sync.id)
        object["label"] = .optionalString(sync.label)
        object["schedule_frequency"] = "never"
        object["schedule_day"] = .null
        object["schedule_hour"] = .null
        object["schedule_minute"] = .null
        object["created_at"] = .string(SimTimestamp.format(sync.createdAt))
        object["updated_at"] = .string(SimTimestamp.format(max(sync.createdAt, lastRun?.createdAt ?? sync.createdAt)))
        object["operation"] = .string(sync.operation)
        object["paused"] = false
        object["status"] = "Ready"
        object["lead_union_insert_to"] = .null
        object["trigger_on_dbt_cloud_rebuild"] = false
        object["field_behavior"] = "specific_properties"
        object["field_normalization"] = .null
        object["mirror_strategy"] = .null
        object["source_attributes"] = .object(["connection_id": .int(sync.sourceID), "object": .object(model)])
        object["destination_attributes"] = .object(["connection_id": .int(sync.destinationID), "object": "user"])
        object["mappings"] = .array([
            .object([
                "from": .object(["type": "column", "data": "EMAIL"]), "to": "external_id", "is_primary_identifier": true,
                "generate_field": false, "preserve_values": false, "operation": .null,
            ])
        ])
        return .object(object)
    }

    func sync(id: Int) throws(SimFailure) -> SimJSON {
        guard let sync = self.syncs[id] else { throw .notFound("Sync", String(id)) }
        return Self.success(self.syncJSON(sync))
    }

    func listSyncs(paging: Paging, nextURL: (Int) -> String) -> SimJSON {
        let ordered = self.syncs.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return Self.page(ordered.map(self.syncJSON), paging: paging, nextURL: nextURL)
    }

    // MARK: Sources and destinations

    func connectionJSON(_ connection: SimConnection, destination: Bool, single: Bool) -> SimJSON {
        var object = SimObject()
        object["id"] = .int(connection.id)
        object["name"] = .string(connection.name)
        if destination {
            object["type"] = .string(connection.type)
            object["connection_details"] = .object([:])
            if single {
                object["objects"] = .array([
                    .object(["label": "User", "full_name": "user", "allow_custom_fields": true, "allow_case_sensitive_field_names": true])
                ])
            }
        } else {
            object["label"] = .null
            object["type"] = .string(connection.type)
            object["last_test_succeeded"] = true
            object["last_tested_at"] = .string(SimTimestamp.format(connection.createdAt))
            object["connection_details"] = .object([:])
            object["read_only_connection"] = false
        }
        return .object(object)
    }

    func connection(destination: Bool, id: Int) throws(SimFailure) -> SimJSON {
        guard let connection = destination ? self.destinations[id] : self.sources[id] else {
            throw .notFound(destination ? "Destination" : "Source", String(id))
        }
        return Self.success(self.connectionJSON(connection, destination: destination, single: true))
    }

    func listConnections(destination: Bool, paging: Paging, nextURL: (Int) -> String) -> SimJSON {
        let connections = (destination ? self.destinations : self.sources).values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return Self.page(connections.map { self.connectionJSON($0, destination: destination, single: false) }, paging: paging, nextURL: nextURL)
    }

    // MARK: Runs

    func syncRun(id: Int, now: Double) throws(SimFailure) -> SimJSON {
        guard let location = self.runLocation[id], let run = self.runsBySync[location.syncID]?[location.position] else {
            throw .notFound("SyncRun", String(id))
        }
        return Self.success(run.json(at: now))
    }

    func listRuns(syncID: Int, paging: Paging, now: Double, nextURL: (Int) -> String) throws(SimFailure) -> SimJSON {
        guard self.syncs[syncID] != nil else { throw .notFound("Sync", String(syncID)) }
        return Self.page((self.runsBySync[syncID] ?? []).map { $0.json(at: now) }, paging: paging, nextURL: nextURL)
    }
}
