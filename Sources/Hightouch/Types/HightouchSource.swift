import Foundation
import VendorHTTP

// MARK: - HightouchSource

/// A warehouse or database Hightouch reads from (`Source`). Read-only for this client.
public struct HightouchSource: Sendable, Hashable, Decodable {
    public var id: HightouchID
    public var name: String
    public var slug: String
    public var type: String
    public var workspaceID: HightouchID?
    public var createdAt: Date?
    public var updatedAt: Date?
    /// Opaque by contract: "consumers should NOT make assumptions on the contents".
    public var configuration: VendorJSON

    private enum CodingKeys: String, CodingKey {
        case id, name, slug, type, workspaceId, createdAt, updatedAt, configuration
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(HightouchID.self, forKey: .id)
        self.name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        self.slug = try container.decodeIfPresent(String.self, forKey: .slug) ?? ""
        self.type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
        self.workspaceID = try container.decodeIfPresent(HightouchID.self, forKey: .workspaceId)
        self.createdAt = try container.decodeTimestampIfPresent(forKey: .createdAt)
        self.updatedAt = try container.decodeTimestampIfPresent(forKey: .updatedAt)
        self.configuration = try container.decodeIfPresent(VendorJSON.self, forKey: .configuration) ?? .object([:])
    }
}
