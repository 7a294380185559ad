import Foundation
import VendorHTTP

// MARK: - HightouchModel

/// The query that pulls data from a source (`Model`).
public struct HightouchModel: Sendable, Hashable, Decodable {
    /// A raw SQL query (`raw`).
    public struct RawSQL: Sendable, Hashable, Codable {
        public var sql: String
        public init(sql: String) { self.sql = sql }
    }

    /// A whole table (`table`).
    public struct Table: Sendable, Hashable, Codable {
        public var name: String
        public init(name: String) { self.name = name }
    }

    public var id: HightouchID
    public var name: String
    public var slug: String
    public var description: String?
    public var workspaceID: HightouchID?
    /// `null` when the model is not synced directly (e.g. a relationship table).
    public var primaryKey: String?
    public var createdAt: Date?
    public var updatedAt: Date?
    public var sourceID: HightouchID?
    public var queryType: HightouchQueryType
    public var tags: [String: String]
    /// `true` when the model only builds other models (visual querying).
    public var isSchema: Bool
    /// Ids of the syncs using this model.
    public var syncIDs: [HightouchID]
    public var raw: RawSQL?
    public var table: Table?
    public var visual: VendorJSON?
    public var custom: VendorJSON?
    public var dbt: VendorJSON?
    public var dbtCloud: VendorJSON?
    public var folderID: String?
    /// Rows returned by the last successful run of a sync using this model; `nil` if none yet.
    public var lastRunSize: Int?

    private enum CodingKeys: String, CodingKey {
        case id, name, slug, description, workspaceId, primaryKey, createdAt, updatedAt, sourceId
        case queryType, tags, isSchema, syncs, raw, table, visual, custom, dbt
        case dbtCloud = "dbt_cloud"
        case folderId, lastRunSize
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(HightouchID.self, forKey: .id)
        self.name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        self.slug = try container.decodeIfPresent(String.self, forKey: .slug) ?? ""
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
        self.workspaceID = try container.decodeIfPresent(HightouchID.self, forKey: .workspaceId)
        self.primaryKey = try container.decodeIfPresent(String.self, forKey: .primaryKey)
        self.createdAt = try container.decodeTimestampIfPresent(forKey: .createdAt)
        self.updatedAt = try container.decodeTimestampIfPresent(forKey: .updatedAt)
        self.sourceID = try container.decodeIfPresent(HightouchID.self, forKey: .sourceId)
        self.queryType = try container.decodeIfPresent(HightouchQueryType.self, forKey: .queryType) ?? ""
        self.tags = try container.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
        self.isSchema = try container.decodeIfPresent(Bool.self, forKey: .isSchema) ?? false
        self.syncIDs = try container.decodeIfPresent([HightouchID].self, forKey: .syncs) ?? []
        self.raw = try container.decodeIfPresent(RawSQL.self, forKey: .raw)
        self.table = try container.decodeIfPresent(Table.self, forKey: .table)
        self.visual = try container.decodeIfPresent(VendorJSON.self, forKey: .visual)
        self.custom = try container.decodeIfPresent(VendorJSON.self, forKey: .custom)
        self.dbt = try container.decodeIfPresent(VendorJSON.self, forKey: .dbt)
        self.dbtCloud = try container.decodeIfPresent(VendorJSON.self, forKey: .dbtCloud)
        self.folderID = try container.decodeIfPresent(String.self, forKey: .folderId)
        self.lastRunSize = try container.decodeIfPresent(Double.self, forKey: .lastRunSize).map { Int($0) }
    }
}

// MARK: - HightouchQueryType

/// How a model queries its source. The API documents `custom`, `raw_sql`, `table`, `dbt` and
/// `visual`; other values are kept as they arrive.
public struct HightouchQueryType: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
    public var description: String { self.rawValue }

    public static let rawSQL: HightouchQueryType = "raw_sql"
    public static let table: HightouchQueryType = "table"
    public static let dbt: HightouchQueryType = "dbt"
    public static let custom: HightouchQueryType = "custom"
    public static let visual: HightouchQueryType = "visual"
}
