import Foundation
import VendorHTTP

// MARK: - HightouchSync

/// How a model's rows are mapped to a destination (`Sync`). A sync has no name, only a slug.
public struct HightouchSync: Sendable, Hashable, Decodable {
    public var id: HightouchID
    public var slug: String
    public var workspaceID: HightouchID?
    public var createdAt: Date?
    public var updatedAt: Date?
    public var destinationID: HightouchID?
    public var modelID: HightouchID?
    /// Destination-specific mapping; opaque by contract.
    public var configuration: VendorJSON
    /// `nil`: runs only when triggered.
    public var schedule: HightouchSchedule?
    public var status: HightouchSyncStatus?
    public var disabled: Bool
    public var lastRunAt: Date?
    public var referencedColumns: [String]
    public var primaryKey: String?
    public var externalSegment: VendorJSON?
    public var tags: [String: String]

    private enum CodingKeys: String, CodingKey {
        case id, slug, workspaceId, createdAt, updatedAt, destinationId, modelId, configuration, schedule
        case status, disabled, lastRunAt, referencedColumns, primaryKey, externalSegment, tags
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(HightouchID.self, forKey: .id)
        self.slug = try container.decodeIfPresent(String.self, forKey: .slug) ?? ""
        self.workspaceID = try container.decodeIfPresent(HightouchID.self, forKey: .workspaceId)
        self.createdAt = try container.decodeTimestampIfPresent(forKey: .createdAt)
        self.updatedAt = try container.decodeTimestampIfPresent(forKey: .updatedAt)
        self.destinationID = try container.decodeIfPresent(HightouchID.self, forKey: .destinationId)
        self.modelID = try container.decodeIfPresent(HightouchID.self, forKey: .modelId)
        self.configuration = try container.decodeIfPresent(VendorJSON.self, forKey: .configuration) ?? .object([:])
        self.schedule = try container.decodeIfPresent(HightouchSchedule.self, forKey: .schedule)
        self.status = try container.decodeIfPresent(HightouchSyncStatus.self, forKey: .status)
        self.disabled = try container.decodeIfPresent(Bool.self, forKey: .disabled) ?? false
        self.lastRunAt = try container.decodeTimestampIfPresent(forKey: .lastRunAt)
        self.referencedColumns = try container.decodeIfPresent([String].self, forKey: .referencedColumns) ?? []
        self.primaryKey = try container.decodeIfPresent(String.self, forKey: .primaryKey)
        self.externalSegment = try container.decodeIfPresent(VendorJSON.self, forKey: .externalSegment)
        self.tags = try container.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
    }
}
