import NIOHTTP1
import VendorHTTP

// MARK: - Sources and destinations

extension HightouchClient {
    /// `GET /sources`, every page.
    public func listSources(_ filter: HightouchResourceFilter = .init()) async throws -> [HightouchSource] {
        try await self.collectPages(HightouchSource.self, route: "/sources", path: ["sources"], query: filter.queryItems)
    }

    /// `GET /sources/{sourceId}`. Throws ``VendorError`` `.notFound` if there is none.
    public func source(id: HightouchID) async throws -> HightouchSource {
        try self.require(id.rawValue, "source id", method: .GET, route: "/sources/{sourceId}")
        return try await self.call(HightouchSource.self, method: .GET, route: "/sources/{sourceId}", path: ["sources", id.rawValue])
    }

    /// `GET /destinations`, every page.
    public func listDestinations(_ filter: HightouchResourceFilter = .init()) async throws -> [HightouchDestination] {
        try await self.collectPages(
            HightouchDestination.self,
            route: "/destinations",
            path: ["destinations"],
            query: filter.queryItems
        )
    }

    /// `GET /destinations/{destinationId}`. Throws ``VendorError`` `.notFound` if there is none.
    public func destination(id: HightouchID) async throws -> HightouchDestination {
        try self.require(id.rawValue, "destination id", method: .GET, route: "/destinations/{destinationId}")
        return try await self.call(
            HightouchDestination.self,
            method: .GET,
            route: "/destinations/{destinationId}",
            path: ["destinations", id.rawValue]
        )
    }
}
