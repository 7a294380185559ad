import VendorHTTP

// MARK: - HightouchModelCreate

/// The body of `POST /models` (`ModelCreate`). Required: name, slug, queryType, sourceId,
/// isSchema, primaryKey; plus the query object matching `queryType` (`raw` for `raw_sql`).
public struct HightouchModelCreate: Sendable, Hashable, Encodable {
    public var name: String
    public var slug: String
    public var queryType: HightouchQueryType
    public var sourceID: HightouchID
    public var isSchema: Bool
    public var primaryKey: String
    public var raw: HightouchModel.RawSQL?
    public var table: HightouchModel.Table?
    public var visual: VendorJSON?
    public var custom: VendorJSON?
    public var dbt: VendorJSON?
    public var dbtCloud: VendorJSON?
    public var folderID: String?

    public init(
        name: String,
        slug: String,
        queryType: HightouchQueryType,
        sourceID: HightouchID,
        isSchema: Bool,
        primaryKey: String,
        raw: HightouchModel.RawSQL? = nil,
        table: HightouchModel.Table? = nil,
        visual: VendorJSON? = nil,
        custom: VendorJSON? = nil,
        dbt: VendorJSON? = nil,
        dbtCloud: VendorJSON? = nil,
        folderID: String? = nil
    ) {
        self.name = name
        self.slug = slug
        self.queryType = queryType
        self.sourceID = sourceID
        self.isSchema = isSchema
        self.primaryKey = primaryKey
        self.raw = raw
        self.table = table
        self.visual = visual
        self.custom = custom
        self.dbt = dbt
        self.dbtCloud = dbtCloud
        self.folderID = folderID
    }

    /// A raw-SQL model, the common case (and the seed resource's).
    public static func rawSQL(
        name: String,
        slug: String,
        sourceID: HightouchID,
        primaryKey: String,
        sql: String,
        isSchema: Bool = false
    ) -> HightouchModelCreate {
        HightouchModelCreate(
            name: name,
            slug: slug,
            queryType: .rawSQL,
            sourceID: sourceID,
            isSchema: isSchema,
            primaryKey: primaryKey,
            raw: .init(sql: sql)
        )
    }

    private enum CodingKeys: String, CodingKey {
        case name, slug, queryType, sourceId, isSchema, primaryKey, raw, table, visual, custom, dbt
        case dbtCloud = "dbt_cloud"
        case folderId
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.slug, forKey: .slug)
        try container.encode(self.queryType, forKey: .queryType)
        try container.encode(self.sourceID, forKey: .sourceId)
        try container.encode(self.isSchema, forKey: .isSchema)
        try container.encode(self.primaryKey, forKey: .primaryKey)
        try container.encodeIfPresent(self.raw, forKey: .raw)
        try container.encodeIfPresent(self.table, forKey: .table)
        try container.encodeIfPresent(self.visual, forKey: .visual)
        try container.encodeIfPresent(self.custom, forKey: .custom)
        try container.encodeIfPresent(self.dbt, forKey: .dbt)
        try container.encodeIfPresent(self.dbtCloud, forKey: .dbtCloud)
        try container.encodeIfPresent(self.folderID, forKey: .folderId)
    }
}
