import SimulatorKit

// MARK: - Paging

/// `limit`, `offset` and `orderBy` of a list request, already validated.
struct SimPaging: Sendable {
    var limit = 100
    var offset = 0
    var orderBy = "id"
}

extension SimulatorState {
    /// One page of `records`, rendered, in the envelope the endpoint documents. Only the page is
    /// rendered, so listing the last page of 10,000 syncs costs one page of JSON.
    func page<Record>(_ records: [Record], paging: SimPaging, withHasMore: Bool, render: (Record) -> SimJSON) -> SimJSON {
        let start = min(paging.offset, records.count)
        let end = min(start + paging.limit, records.count)
        var envelope = SimObject()
        if withHasMore { envelope["hasMore"] = .bool(end < records.count) }
        envelope["data"] = .array(records[start..<end].map(render))
        return .object(envelope)
    }

    /// Orders by a text key, then id.
    static func ordered<Record>(
        _ records: [Record],
        by orderBy: String,
        id: (Record) -> Int,
        text: (Record, String) -> String?,
        time: (Record, String) -> Double?
    ) -> [Record] {
        guard orderBy != "id" else { return records.sorted { id($0) < id($1) } }
        return records.sorted { lhs, rhs in
            if let left = time(lhs, orderBy), let right = time(rhs, orderBy), left != right { return left < right }
            if let left = text(lhs, orderBy), let right = text(rhs, orderBy), left != right { return left < right }
            return id(lhs) < id(rhs)
        }
    }

    // MARK: - Sources and destinations

    func listConnections(destinations: Bool, name: String?, slug: String?, paging: SimPaging) -> SimJSON {
        let order = destinations ? self.destinationOrder : self.sourceOrder
        let table = destinations ? self.destinations : self.sources
        let matching = order.compactMap { table[$0] }.filter { record in
            (name == nil || record.name == name) && (slug == nil || record.slug == slug)
        }
        let sorted = Self.ordered(
            matching,
            by: paging.orderBy,
            id: \.id,
            text: { record, key in key == "name" ? record.name : record.slug },
            time: { record, key in key == "createdAt" ? record.createdAt : key == "updatedAt" ? record.updatedAt : nil }
        )
        return self.page(sorted, paging: paging, withHasMore: false) { self.connectionJSON($0, destination: destinations) }
    }

    func connection(destination: Bool, id: Int) throws(SimFailure) -> SimJSON {
        guard let record = destination ? self.destinations[id] : self.sources[id] else {
            throw .notFound(destination ? "Destination" : "Source", String(id))
        }
        return self.connectionJSON(record, destination: destination)
    }

    func connectionJSON(_ record: SimConnection, destination: Bool) -> SimJSON {
        var object: SimObject = [
            "id": .int(record.id),
            "name": .string(record.name),
            "slug": .string(record.slug),
            "workspaceId": .int(self.workspaceID),
            "createdAt": .string(SimTimestamp.format(record.createdAt)),
            "updatedAt": .string(SimTimestamp.format(record.updatedAt)),
            "type": .string(record.type),
            "configuration": .object([:]),
        ]
        if destination {
            object["syncs"] = .array((self.syncIDsByDestination[record.id] ?? []).map { .int($0) })
        }
        return .object(object)
    }

    // MARK: - Models

    static let modelQueryKeys = ["raw", "table", "visual", "custom", "dbt", "dbt_cloud"]
    static let queryTypes = ["raw_sql", "table", "dbt", "dbt_cloud", "custom", "visual"]

    func listModels(name: String?, slug: String?, tags: [(String, String)], paging: SimPaging, now: Double) -> SimJSON {
        let matching = self.modelOrder.compactMap { self.models[$0] }.filter { model in
            (name == nil || model.name == name) && (slug == nil || model.slug == slug)
                && tags.allSatisfy { tag in model.tags.contains { $0 == tag } }
        }
        let sorted = Self.ordered(
            matching,
            by: paging.orderBy,
            id: \.id,
            text: { model, key in key == "name" ? model.name : model.slug },
            time: { model, key in key == "createdAt" ? model.createdAt : key == "updatedAt" ? model.updatedAt : nil }
        )
        return self.page(sorted, paging: paging, withHasMore: false) { self.modelJSON($0, now: now) }
    }

    func model(id: Int, now: Double) throws(SimFailure) -> SimJSON {
        guard let model = self.models[id] else { throw .notFound("Model", String(id)) }
        return self.modelJSON(model, now: now)
    }

    mutating func createModel(body: SimBody?, now: Double) throws(SimFailure) -> SimJSON {
        var validator = SimValidator(
            body: body,
            allowed: Set(["name", "slug", "queryType", "sourceId", "isSchema", "primaryKey", "folderId"] + Self.modelQueryKeys)
        )
        let name = validator.string("name", required: true)
        let slug = validator.string("slug", required: true)
        let queryType = validator.string("queryType", required: true)
        let sourceID = validator.integer("sourceId", required: true)
        let isSchema = validator.bool("isSchema", required: true)
        let primaryKey = validator.string("primaryKey", required: true)
        let folderID = validator.string("folderId", required: false)
        let queries = Self.validateQueries(&validator)
        if let slug, slug.isEmpty { validator.fail("slug", "'slug' must not be empty", value: .string(slug)) }
        if let queryType {
            if !Self.queryTypes.contains(queryType) {
                validator.fail(
                    "queryType",
                    "should be one of the following; [\(Self.queryTypes.map { "'\($0)'" }.joined(separator: ","))]",
                    value: .string(queryType)
                )
            } else {
                let required = queryType == "raw_sql" ? "raw" : queryType
                if queries[required] == nil {
                    validator.fail(required, "'\(required)' is required when queryType is \(queryType)")
                }
            }
        }
        if let sourceID, self.sources[sourceID] == nil {
            validator.fail("sourceId", "Source \(sourceID) does not exist in this workspace", value: .int(sourceID))
        }
        try validator.check()
        guard let name, let slug, let queryType, let sourceID, let isSchema, let primaryKey else {
            throw .validation(validator.details)
        }
        if self.modelIDBySlug[slug] != nil { throw .duplicateSlug("model", slug) }

        let id = self.nextModelID
        self.nextModelID += 1
        let model = SimModel(
            id: id,
            name: name,
            slug: slug,
            description: "",
            primaryKey: primaryKey,
            sourceID: sourceID,
            queryType: queryType,
            tags: [],
            isSchema: isSchema,
            queries: queries,
            folderID: folderID,
            createdAt: now,
            updatedAt: now
        )
        self.models[id] = model
        self.modelOrder.append(id)
        self.modelIDBySlug[slug] = id
        return self.modelJSON(model, now: now)
    }

    mutating func updateModel(id: Int, body: SimBody?, now: Double) throws(SimFailure) -> SimJSON {
        guard var model = self.models[id] else { throw .notFound("Model", String(id)) }
        var validator = SimValidator(
            body: body,
            allowed: ["name", "isSchema", "primaryKey", "folderId", "raw", "table", "visual", "custom", "dbt"]
        )
        let name = validator.string("name", required: false)
        let isSchema = validator.bool("isSchema", required: false)
        let primaryKey = validator.string("primaryKey", required: false)
        let folderID = validator.string("folderId", required: false)
        let queries = Self.validateQueries(&validator)
        try validator.check()

        if let name { model.name = name }
        if let isSchema { model.isSchema = isSchema }
        if let primaryKey { model.primaryKey = primaryKey }
        if let folderID { model.folderID = folderID }
        for member in queries.members { model.queries[member.key] = member.value }
        model.updatedAt = max(now, model.updatedAt)
        self.models[id] = model
        return self.modelJSON(model, now: now)
    }

    /// Validates the query objects present in a model body and returns them.
    private static func validateQueries(_ validator: inout SimValidator) -> SimObject {
        var queries = SimObject()
        for key in Self.modelQueryKeys where validator.has(key) {
            guard let query = validator.object(key, required: false) else { continue }
            switch key {
            case "raw":
                if query["sql"]?.stringValue == nil { validator.fail("raw.sql", "'sql' is required") }
            case "table":
                if query["name"]?.stringValue == nil { validator.fail("table.name", "'name' is required") }
            case "dbt", "dbt_cloud":
                if case .number? = query["modelId"] {} else { validator.fail("\(key).modelId", "'modelId' is required") }
            case "custom":
                if query["query"] == nil { validator.fail("custom.query", "'query' is required") }
            case "visual":
                if query["filter"] == nil { validator.fail("visual.filter", "'filter' is required") }
                if case .number? = query["parentId"] {} else { validator.fail("visual.parentId", "'parentId' is required") }
            default:
                break
            }
            queries[key] = .object(query)
        }
        return queries
    }

    func modelJSON(_ model: SimModel, now: Double) -> SimJSON {
        var object: SimObject = [
            "id": .int(model.id),
            "name": .string(model.name),
            "slug": .string(model.slug),
            "description": .string(model.description),
            "workspaceId": .int(self.workspaceID),
            "primaryKey": .string(model.primaryKey),
            "createdAt": .string(SimTimestamp.format(model.createdAt)),
            "updatedAt": .string(SimTimestamp.format(model.updatedAt)),
            "sourceId": .int(model.sourceID),
            "queryType": .string(model.queryType),
            "tags": .object(SimObject(pairs: model.tags)),
            "isSchema": .bool(model.isSchema),
        ]
        for member in model.queries.members { object[member.key] = member.value }
        if let folderID = model.folderID { object["folderId"] = .string(folderID) }
        let syncIDs = self.syncIDsByModel[model.id] ?? []
        object["syncs"] = .array(syncIDs.map { .int($0) })
        object["lastRunSize"] = self.lastRunSize(syncIDs: syncIDs, now: now).map { .int($0) } ?? .null
        return .object(object)
    }

    /// Rows returned by the most recent successful run of any sync of the model.
    private func lastRunSize(syncIDs: [Int], now: Double) -> Int? {
        var best: (end: Double, size: Int)?
        for syncID in syncIDs {
            guard let runs = self.runsBySync[syncID] else { continue }
            for run in runs.reversed() where run.end <= now && (run.outcome == .success || run.outcome == .warning) {
                if best.map({ run.end > $0.end }) ?? true { best = (run.end, run.querySize) }
                break
            }
        }
        return best?.size
    }

    // MARK: - Syncs

    func listSyncs(
        slug: String?,
        modelID: Int?,
        after: Double?,
        before: Double?,
        paging: SimPaging,
        now: Double
    ) -> SimJSON {
        let matching = self.syncOrder.compactMap { self.syncs[$0] }.filter { sync in
            guard slug == nil || sync.slug == slug, modelID == nil || sync.modelID == modelID else { return false }
            if after != nil || before != nil {
                // "select syncs that were run after/before given ISO timestamp"
                guard let lastRun = self.lastStartedRun(syncID: sync.id, now: now) else { return false }
                if let after, lastRun.start <= after { return false }
                if let before, lastRun.start >= before { return false }
            }
            return true
        }
        let sorted = Self.ordered(
            matching,
            by: paging.orderBy,
            id: \.id,
            text: { sync, _ in sync.slug },  // a sync has no name; `name` orders by slug
            time: { sync, key in key == "createdAt" ? sync.createdAt : key == "updatedAt" ? sync.updatedAt : nil }
        )
        return self.page(sorted, paging: paging, withHasMore: true) { self.syncJSON($0, now: now) }
    }

    func sync(id: Int, now: Double) throws(SimFailure) -> SimJSON {
        guard let sync = self.syncs[id] else { throw .notFound("Sync", String(id)) }
        return self.syncJSON(sync, now: now)
    }

    mutating func createSync(body: SimBody?, now: Double) throws(SimFailure) -> SimJSON {
        var validator = SimValidator(
            body: body,
            allowed: ["slug", "configuration", "destinationId", "modelId", "schedule", "disabled"]
        )
        let slug = validator.string("slug", required: true)
        let configuration = validator.object("configuration", required: true)
        let destinationID = validator.integer("destinationId", required: true)
        let modelID = validator.integer("modelId", required: true)
        let schedule = validator.schedule("schedule", required: true)
        let disabled = validator.bool("disabled", required: true)
        if let slug, slug.isEmpty { validator.fail("slug", "'slug' must not be empty", value: .string(slug)) }
        if let destinationID, self.destinations[destinationID] == nil {
            validator.fail("destinationId", "Destination \(destinationID) does not exist in this workspace", value: .int(destinationID))
        }
        if let modelID, self.models[modelID] == nil {
            validator.fail("modelId", "Model \(modelID) does not exist in this workspace", value: .int(modelID))
        }
        try validator.check()
        guard let slug, let configuration, let destinationID, let modelID, let schedule, let disabled else {
            throw .validation(validator.details)
        }
        if self.syncIDBySlug[slug] != nil { throw .duplicateSlug("sync", slug) }

        let id = self.nextSyncID
        self.nextSyncID += 1
        let sync = SimSync(
            id: id,
            slug: slug,
            destinationID: destinationID,
            modelID: modelID,
            configuration: .object(configuration),
            schedule: schedule,
            disabled: disabled,
            createdAt: now,
            updatedAt: now
        )
        self.syncs[id] = sync
        self.syncOrder.append(id)
        self.syncIDBySlug[slug] = id
        self.syncIDsByModel[modelID, default: []].append(id)
        self.syncIDsByDestination[destinationID, default: []].append(id)
        return self.syncJSON(sync, now: now)
    }

    /// Removes a sync and its runs, as someone deleting it in Hightouch's UI would (the API has no
    /// DELETE; this serves the admin route and drift tests).
    mutating func deleteSync(id: Int, now: Double) throws(SimFailure) {
        guard let sync = self.syncs.removeValue(forKey: id) else { throw .notFound("Sync", String(id)) }
        for run in self.runsBySync[id] ?? [] { self.retiredRunStatus[run.id] = run.status(at: now) }
        self.syncOrder.removeAll { $0 == id }
        if self.syncIDBySlug[sync.slug] == id { self.syncIDBySlug.removeValue(forKey: sync.slug) }
        for key in self.syncIDsByModel.keys { self.syncIDsByModel[key]?.removeAll { $0 == id } }
        for key in self.syncIDsByDestination.keys { self.syncIDsByDestination[key]?.removeAll { $0 == id } }
        for run in self.runsBySync.removeValue(forKey: id) ?? [] { self.runLocation.removeValue(forKey: run.id) }
        self.busyUntil.removeValue(forKey: id)
    }

    mutating func updateSync(id: Int, body: SimBody?, now: Double) throws(SimFailure) -> SimJSON {
        guard var sync = self.syncs[id] else { throw .notFound("Sync", String(id)) }
        var validator = SimValidator(body: body, allowed: ["configuration", "schedule", "disabled"])
        let configuration = validator.object("configuration", required: false)
        let schedule = validator.schedule("schedule", required: false)
        let disabled = validator.bool("disabled", required: false)
        try validator.check()

        if let configuration { sync.configuration = .object(configuration) }
        if let schedule { sync.schedule = schedule }
        if let disabled { sync.disabled = disabled }
        sync.updatedAt = max(now, sync.updatedAt)
        self.syncs[id] = sync
        return self.syncJSON(sync, now: now)
    }

    func syncJSON(_ sync: SimSync, now: Double) -> SimJSON {
        let lastStarted = self.lastStartedRun(syncID: sync.id, now: now)
        let status: String
        if sync.disabled {
            status = "disabled"
        } else if let lastStarted {
            status = lastStarted.status(at: now)
        } else if self.runsBySync[sync.id]?.isEmpty == false {
            status = "queued"
        } else {
            status = "pending"
        }
        return .object([
            "id": .int(sync.id),
            "slug": .string(sync.slug),
            "workspaceId": .int(self.workspaceID),
            "createdAt": .string(SimTimestamp.format(sync.createdAt)),
            "updatedAt": .string(SimTimestamp.format(sync.updatedAt)),
            "destinationId": .int(sync.destinationID),
            "modelId": .int(sync.modelID),
            "configuration": sync.configuration,
            "schedule": sync.schedule,
            "status": .string(status),
            "disabled": .bool(sync.disabled),
            "lastRunAt": lastStarted.map { .string(SimTimestamp.format($0.start)) } ?? .null,
            "referencedColumns": .array(sync.referencedColumns.map { .string($0) }),
            "primaryKey": .string(self.models[sync.modelID]?.primaryKey ?? ""),
            "externalSegment": .object([:]),
            "tags": .object([:]),
        ])
    }

    /// The most recent run of the sync that has started by `now`.
    func lastStartedRun(syncID: Int, now: Double) -> SimRun? {
        self.runsBySync[syncID]?.last { $0.hasStarted(at: now) }
    }
}

extension SimObject {
    init(pairs: [(String, String)]) {
        self.init()
        for (key, value) in pairs { self[key] = .string(value) }
    }
}
