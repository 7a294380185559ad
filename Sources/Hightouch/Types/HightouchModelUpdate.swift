import VendorHTTP

// MARK: - HightouchModelUpdate

/// The body of `PATCH /models/{modelId}` (`ModelUpdate`): only the fields set are sent.
/// The API cannot change a model's `slug`, `sourceId` or `queryType`.
public struct HightouchModelUpdate: Sendable, Hashable, Encodable {
    public var name: String?
    public var isSchema: Bool?
    public var primaryKey: String?
    public var raw: HightouchModel.RawSQL?
    public var table: HightouchModel.Table?
    public var visual: VendorJSON?
    public var custom: VendorJSON?
    public var dbt: VendorJSON?
    public var folderID: String?

    public init(
        name: String? = nil,
        isSchema: Bool? = nil,
        primaryKey: String? = nil,
        raw: HightouchModel.RawSQL? = nil,
        table: HightouchModel.Table? = nil,
        visual: VendorJSON? = nil,
        custom: VendorJSON? = nil,
        dbt: VendorJSON? = nil,
        folderID: String? = nil
    ) {
        self.name = name
        self.isSchema = isSchema
        self.primaryKey = primaryKey
        self.raw = raw
        self.table = table
        self.visual = visual
        self.custom = custom
        self.dbt = dbt
        self.folderID = folderID
    }

    private enum CodingKeys: String, CodingKey {
        case name, isSchema, primaryKey, raw, table, visual, custom, dbt, folderId
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.name, forKey: .name)
        try container.encodeIfPresent(self.isSchema, forKey: .isSchema)
        try container.encodeIfPresent(self.primaryKey, forKey: .primaryKey)
        try container.encodeIfPresent(self.raw, forKey: .raw)
        try container.encodeIfPresent(self.table, forKey: .table)
        try container.encodeIfPresent(self.visual, forKey: .visual)
        try container.encodeIfPresent(self.custom, forKey: .custom)
        try container.encodeIfPresent(self.dbt, forKey: .dbt)
        try container.encodeIfPresent(self.folderID, forKey: .folderId)
    }
}
