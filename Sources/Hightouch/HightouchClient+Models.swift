import NIOHTTP1
import VendorHTTP

// MARK: - Models

extension HightouchClient {
    /// `GET /models`, every page.
    public func listModels(_ filter: HightouchModelFilter = .init()) async throws -> [HightouchModel] {
        try await self.collectPages(HightouchModel.self, route: "/models", path: ["models"], query: filter.queryItems)
    }

    /// One page of `GET /models`.
    public func listModelsPage(
        _ filter: HightouchModelFilter = .init(),
        limit: Int = 100,
        offset: Int = 0
    ) async throws -> HightouchPage<HightouchModel> {
        try await self.page(
            HightouchModel.self,
            route: "/models",
            path: ["models"],
            query: filter.queryItems,
            limit: limit,
            offset: offset
        )
    }

    /// `GET /models/{modelId}`. Throws ``VendorError`` `.notFound` if there is none.
    public func model(id: HightouchID) async throws -> HightouchModel {
        try self.require(id.rawValue, "model id", method: .GET, route: "/models/{modelId}")
        return try await self.call(HightouchModel.self, method: .GET, route: "/models/{modelId}", path: ["models", id.rawValue])
    }

    /// The model with this slug, or `nil` (`GET /models?slug=`; the match is checked exactly).
    public func model(slug: String) async throws -> HightouchModel? {
        try self.require(slug, "model slug", method: .GET, route: "/models")
        let page = try await self.listModelsPage(HightouchModelFilter(slug: slug), limit: 100, offset: 0)
        return page.data.first { $0.slug == slug }
    }

    /// `POST /models`. Throws `.conflict` if the slug is taken, `.validation` with the API's
    /// per-field details if the body is rejected.
    ///
    /// - Parameter skipColumnQuery: ask Hightouch not to query the source for the model's columns.
    public func createModel(_ model: HightouchModelCreate, skipColumnQuery: Bool = false) async throws -> HightouchModel {
        try self.require(model.slug, "model slug", method: .POST, route: "/models")
        return try await self.call(
            HightouchModel.self,
            method: .POST,
            route: "/models",
            path: ["models"],
            query: skipColumnQuery ? [.init("skipColumnQuery", "true")] : [],
            body: model
        )
    }

    /// `PATCH /models/{modelId}` with the fields set in `update`.
    public func updateModel(id: HightouchID, _ update: HightouchModelUpdate) async throws -> HightouchModel {
        try self.require(id.rawValue, "model id", method: .PATCH, route: "/models/{modelId}")
        return try await self.call(
            HightouchModel.self,
            method: .PATCH,
            route: "/models/{modelId}",
            path: ["models", id.rawValue],
            body: update
        )
    }
}
