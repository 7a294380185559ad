import NIOHTTP1
import VendorHTTP

// MARK: - Connectors

extension FivetranClient {
    /// `GET /v1/connectors/{connectorId}`. Throws ``VendorError`` `.notFound` if there is none
    /// (or the key cannot see it).
    public func connector(id: String) async throws -> FivetranConnector {
        let route = "/connectors/{connectorId}"
        try self.require(id, "connector id", method: .GET, route: route)
        return try await self.object(FivetranConnector.self, method: .GET, route: route, path: ["connectors", id])
    }

    /// `PATCH /v1/connectors/{connectorId}` with the fields set in `update`; returns the connector
    /// as changed.
    public func updateConnector(id: String, _ update: FivetranConnectorUpdate) async throws -> FivetranConnector {
        let route = "/connectors/{connectorId}"
        try self.require(id, "connector id", method: .PATCH, route: route)
        return try await self.object(FivetranConnector.self, method: .PATCH, route: route, path: ["connectors", id], body: update)
    }

    /// `POST /v1/connectors/{connectorId}/sync`: starts a sync unless one is running, in which case
    /// that sync is the one to wait for (`force` stops it and starts again; orchestrators should
    /// leave it `nil`). Not retried after a 5xx or a timeout: whether it started is unknown then;
    /// read the connector.
    @discardableResult
    public func syncConnector(id: String, force: Bool? = nil) async throws -> FivetranMessage {
        let route = "/connectors/{connectorId}/sync"
        try self.require(id, "connector id", method: .POST, route: route)
        return try await self.message(method: .POST, route: route, path: ["connectors", id, "sync"], body: SyncBody(force: force))
    }

    /// `POST /v1/connectors/{connectorId}/resync`: a historical re-sync of the whole connector, or
    /// of `scope`'s tables (`{"schema": ["table", ...]}`). A 409 means a sync is running.
    @discardableResult
    public func resyncConnector(id: String, scope: [String: [String]]? = nil) async throws -> FivetranMessage {
        let route = "/connectors/{connectorId}/resync"
        try self.require(id, "connector id", method: .POST, route: route)
        return try await self.resync(route: route, path: ["connectors", id, "resync"], body: ResyncBody(scope: scope))
    }

    /// `POST /v1/connectors/{connectorId}/schemas/{schema}/tables/{table}/resync`: re-syncs one
    /// table. A 409 (``VendorError/Code/conflict``) means a sync is running.
    @discardableResult
    public func resyncTable(connectorID: String, schema: String, table: String) async throws -> FivetranMessage {
        let route = "/connectors/{connectorId}/schemas/{schema}/tables/{table}/resync"
        try self.require(connectorID, "connector id", method: .POST, route: route)
        try self.require(schema, "schema name", method: .POST, route: route)
        try self.require(table, "table name", method: .POST, route: route)
        return try await self.resync(route: route, path: ["connectors", connectorID, "schemas", schema, "tables", table, "resync"], body: nil as String?)
    }

    /// `POST /v1/connectors/{connectorId}/schemas/tables/resync` with `{"schema": ["table", ...]}`.
    @discardableResult
    public func resyncTables(connectorID: String, _ tables: [String: [String]]) async throws -> FivetranMessage {
        let route = "/connectors/{connectorId}/schemas/tables/resync"
        try self.require(connectorID, "connector id", method: .POST, route: route)
        return try await self.resync(route: route, path: ["connectors", connectorID, "schemas", "tables", "resync"], body: tables)
    }

    /// `POST /v1/connectors/{connectorId}/test` with `{}` (or the trust flags): runs the setup
    /// tests and returns their results with the connector after them. Repeating it is harmless,
    /// so it is retried like a read.
    public func runSetupTests(connectorID: String, trustCertificates: Bool? = nil, trustFingerprints: Bool? = nil) async throws -> FivetranSetupTestResult {
        let route = "/connectors/{connectorId}/test"
        try self.require(connectorID, "connector id", method: .POST, route: route)
        let envelope = try await self.send(
            FivetranConnector.self, method: .POST, route: route, path: ["connectors", connectorID, "test"],
            body: TestBody(trustCertificates: trustCertificates, trustFingerprints: trustFingerprints), isIdempotent: true
        )
        guard let connector = envelope.data else {
            throw self.error(.decoding, method: .POST, route: route, path: ["connectors", connectorID, "test"], status: 200, underlying: "the answer has no \"data\" object")
        }
        return FivetranSetupTestResult(connector: connector, tests: connector.setupTests ?? [])
    }

    /// A re-sync: a 409 is a sync in progress, and says so.
    private func resync(route: String, path: [String], body: (some Encodable & Sendable)?) async throws -> FivetranMessage {
        do {
            return try await self.message(method: .POST, route: route, path: path, body: body)
        } catch var error as VendorError where error.code == .conflict {
            error.remedy = "A sync of the connector is in progress and Fivetran could not finish it first; ask again once status.sync_state is no longer \"syncing\"."
            throw error
        }
    }

    // MARK: - Bodies

    private struct SyncBody: Encodable, Sendable {
        var force: Bool?
    }

    private struct ResyncBody: Encodable, Sendable {
        var scope: [String: [String]]?
    }

    private struct TestBody: Encodable, Sendable {
        var trustCertificates: Bool?
        var trustFingerprints: Bool?

        private enum CodingKeys: String, CodingKey {
            case trustCertificates = "trust_certificates", trustFingerprints = "trust_fingerprints"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(self.trustCertificates, forKey: .trustCertificates)
            try container.encodeIfPresent(self.trustFingerprints, forKey: .trustFingerprints)
        }
    }
}
