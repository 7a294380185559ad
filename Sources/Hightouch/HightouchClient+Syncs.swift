import NIOHTTP1
import VendorHTTP

// MARK: - Syncs

extension HightouchClient {
    /// `GET /syncs`, every page.
    public func listSyncs(_ filter: HightouchSyncFilter = .init()) async throws -> [HightouchSync] {
        try await self.collectPages(HightouchSync.self, route: "/syncs", path: ["syncs"], query: filter.queryItems)
    }

    /// One page of `GET /syncs`.
    public func listSyncsPage(
        _ filter: HightouchSyncFilter = .init(),
        limit: Int = 100,
        offset: Int = 0
    ) async throws -> HightouchPage<HightouchSync> {
        try await self.page(
            HightouchSync.self,
            route: "/syncs",
            path: ["syncs"],
            query: filter.queryItems,
            limit: limit,
            offset: offset
        )
    }

    /// `GET /syncs/{syncId}`. Throws ``VendorError`` `.notFound` if there is none.
    public func sync(id: HightouchID) async throws -> HightouchSync {
        try self.require(id.rawValue, "sync id", method: .GET, route: "/syncs/{syncId}")
        return try await self.call(HightouchSync.self, method: .GET, route: "/syncs/{syncId}", path: ["syncs", id.rawValue])
    }

    /// The sync with this slug, or `nil` (`GET /syncs?slug=`; the match is checked exactly).
    public func sync(slug: String) async throws -> HightouchSync? {
        try self.require(slug, "sync slug", method: .GET, route: "/syncs")
        let page = try await self.listSyncsPage(HightouchSyncFilter(slug: slug), limit: 100, offset: 0)
        return page.data.first { $0.slug == slug }
    }

    /// `POST /syncs`. Throws `.conflict` if the slug is taken, `.validation` with details if the
    /// body is rejected (for example an unknown model or destination).
    public func createSync(_ sync: HightouchSyncCreate) async throws -> HightouchSync {
        try self.require(sync.slug, "sync slug", method: .POST, route: "/syncs")
        return try await self.call(HightouchSync.self, method: .POST, route: "/syncs", path: ["syncs"], body: sync)
    }

    /// `PATCH /syncs/{syncId}` with what `update` sets. To retire a sync (the API has no DELETE),
    /// send `HightouchSyncUpdate(disabled: true)`.
    public func updateSync(id: HightouchID, _ update: HightouchSyncUpdate) async throws -> HightouchSync {
        try self.require(id.rawValue, "sync id", method: .PATCH, route: "/syncs/{syncId}")
        return try await self.call(
            HightouchSync.self,
            method: .PATCH,
            route: "/syncs/{syncId}",
            path: ["syncs", id.rawValue],
            body: update
        )
    }

    // MARK: - Triggers

    /// `POST /syncs/{syncId}/trigger` with explicit flags; returns the new run's id.
    ///
    /// If a run is in progress, Hightouch queues this one to start right after it (its
    /// `createdAt` is then earlier than its `startedAt`).
    ///
    /// A trigger is not idempotent: it is retried after a 429 or a refused connection only. After
    /// a 5xx or a timeout the error's ``VendorError/outcomeUnknown`` is `true`: a run may have been
    /// created, so look with ``runs(syncID:createdAtOrAfter:)`` before triggering again.
    public func triggerRun(syncID: HightouchID, options: HightouchTriggerOptions) async throws -> HightouchID {
        try self.require(syncID.rawValue, "sync id", method: .POST, route: "/syncs/{syncId}/trigger")
        let output = try await self.call(
            TriggerOutput.self,
            method: .POST,
            route: "/syncs/{syncId}/trigger",
            path: ["syncs", syncID.rawValue, "trigger"],
            body: options
        )
        return output.id
    }

    /// `POST /syncs/trigger` by sync id or slug, with explicit flags; returns the new run's id.
    /// Same retry and queueing behaviour as ``triggerRun(syncID:options:)``.
    public func triggerRun(_ sync: HightouchSyncReference, options: HightouchTriggerOptions) async throws -> HightouchID {
        let body: TriggerCustomInput
        switch sync {
        case .id(let id):
            try self.require(id.rawValue, "sync id", method: .POST, route: "/syncs/trigger")
            body = TriggerCustomInput(syncID: id.rawValue, syncSlug: nil, options: options)
        case .slug(let slug):
            try self.require(slug, "sync slug", method: .POST, route: "/syncs/trigger")
            body = TriggerCustomInput(syncID: nil, syncSlug: slug, options: options)
        }
        let output = try await self.call(
            TriggerOutput.self,
            method: .POST,
            route: "/syncs/trigger",
            path: ["syncs", "trigger"],
            body: body
        )
        return output.id
    }
}

// MARK: - Trigger payloads

/// `TriggerRunOutput`: `{"id": "<run id>"}` (a string, unlike other ids).
private struct TriggerOutput: Decodable {
    var id: HightouchID
}

/// `TriggerRunCustomInput`: `syncId` is a string of digits, unlike other ids.
private struct TriggerCustomInput: Encodable, Sendable {
    var syncID: String?
    var syncSlug: String?
    var options: HightouchTriggerOptions

    private enum CodingKeys: String, CodingKey {
        case syncId, syncSlug, fullResync, resetCDC, clearAndFill
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.syncID, forKey: .syncId)
        try container.encodeIfPresent(self.syncSlug, forKey: .syncSlug)
        try container.encode(self.options.fullResync, forKey: .fullResync)
        try container.encode(self.options.resetCDC, forKey: .resetCDC)
        try container.encode(self.options.clearAndFill, forKey: .clearAndFill)
    }
}
