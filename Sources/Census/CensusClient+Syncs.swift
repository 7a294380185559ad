import Foundation
import NIOHTTP1
import VendorHTTP

// MARK: - Syncs, sources and destinations

extension CensusClient {
    /// `GET /syncs/{id}`. Throws ``VendorError`` `.notFound` if there is no such sync.
    public func sync(id: CensusID) async throws -> CensusSync {
        try self.require(id, "sync id", method: .GET, route: "/syncs/{sync_id}")
        return try await self.call(CensusSync.self, route: "/syncs/{sync_id}", path: ["syncs", id.rawValue])
    }

    /// One page of `GET /syncs` (`page` starts at 1; `perPage` at most 100).
    public func listSyncsPage(page: Int = 1, perPage: Int = 25, order: CensusOrder? = nil) async throws -> CensusPage<CensusSync> {
        try await self.page(CensusSync.self, route: "/syncs", path: ["syncs"], page: page, perPage: Self.clamp(perPage), order: order)
    }

    /// `GET /syncs`, every page.
    public func listSyncs(order: CensusOrder? = nil) async throws -> [CensusSync] {
        try await self.collectPages(CensusSync.self, route: "/syncs", path: ["syncs"], order: order)
    }

    /// The connection test some clients run: `GET /syncs?page=1&per_page=1`. Returns normally
    /// when the endpoint and the token work; throws the ``VendorError`` otherwise.
    public func checkConnection() async throws {
        _ = try await self.listSyncsPage(page: 1, perPage: 1)
    }

    /// `POST /syncs/{id}/trigger`: starts a run and returns its id (`data.sync_run_id`).
    ///
    /// `forceFullSync` goes in the query as Census documents it (`force_full_sync=true`); `nil`
    /// sends nothing and leaves it to the server's default (false). There is no body.
    ///
    /// Not idempotent: retried only when Census certainly did not act (429, a connection never
    /// opened). After a 5xx or a timeout the error's `outcomeUnknown` is true: look for the run
    /// (``runs(syncID:createdAtOrAfter:)``) before triggering again.
    public func triggerSync(id: CensusID, forceFullSync: Bool? = nil) async throws -> CensusID {
        try self.require(id, "sync id", method: .POST, route: "/syncs/{sync_id}/trigger")
        let query = forceFullSync.map { [VendorRequest.QueryItem("force_full_sync", $0 ? "true" : "false")] } ?? []
        let triggered = try await self.call(
            CensusTriggerResult.self, method: .POST, route: "/syncs/{sync_id}/trigger", path: ["syncs", id.rawValue, "trigger"],
            query: query, isIdempotent: false
        )
        return triggered.syncRunID
    }

    /// `GET /sources/{id}`. Throws ``VendorError`` `.notFound` if there is none.
    public func source(id: CensusID) async throws -> CensusSource {
        try self.require(id, "source id", method: .GET, route: "/sources/{source_id}")
        return try await self.call(CensusSource.self, route: "/sources/{source_id}", path: ["sources", id.rawValue])
    }

    /// `GET /sources`, every page.
    public func listSources(order: CensusOrder? = nil) async throws -> [CensusSource] {
        try await self.collectPages(CensusSource.self, route: "/sources", path: ["sources"], order: order)
    }

    /// `GET /destinations/{id}`. Throws ``VendorError`` `.notFound` if there is none.
    public func destination(id: CensusID) async throws -> CensusDestination {
        try self.require(id, "destination id", method: .GET, route: "/destinations/{destination_id}")
        return try await self.call(CensusDestination.self, route: "/destinations/{destination_id}", path: ["destinations", id.rawValue])
    }

    /// `GET /destinations`, every page.
    public func listDestinations(order: CensusOrder? = nil) async throws -> [CensusDestination] {
        try await self.collectPages(CensusDestination.self, route: "/destinations", path: ["destinations"], order: order)
    }

    static func clamp(_ perPage: Int) -> Int { min(max(1, perPage), Configuration.maxPageSize) }
}

/// `data` of a trigger's answer: `{"sync_run_id": 1234567890}`.
struct CensusTriggerResult: Decodable {
    var syncRunID: CensusID

    private enum CodingKeys: String, CodingKey {
        case syncRunID = "sync_run_id"
    }
}
