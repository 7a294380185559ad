import Foundation
import VendorHTTP

// MARK: - CensusSource

/// A source connection (`GET /sources/{id}`), such as a warehouse.
public struct CensusSource: Sendable, Hashable, Decodable {
    public var id: CensusID
    public var name: String?
    public var label: String?
    /// `snowflake`, `big_query`, `redshift`, ...
    public var type: String?
    public var lastTestSucceeded: Bool?
    public var lastTestedAt: Date?
    /// Connection settings without secrets, as sent.
    public var connectionDetails: VendorJSON?
    public var readOnlyConnection: Bool?

    public init(id: CensusID, name: String? = nil, label: String? = nil, type: String? = nil) {
        self.id = id
        self.name = name
        self.label = label
        self.type = type
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, label, type
        case lastTestSucceeded = "last_test_succeeded"
        case lastTestedAt = "last_tested_at"
        case connectionDetails = "connection_details"
        case readOnlyConnection = "read_only_connection"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(CensusID.self, forKey: .id)
        self.name = try container.decodeCensusText(forKey: .name)
        self.label = try container.decodeCensusText(forKey: .label)
        self.type = try container.decodeCensusText(forKey: .type)
        self.lastTestSucceeded = try? container.decodeIfPresent(Bool.self, forKey: .lastTestSucceeded)
        self.lastTestedAt = try container.decodeCensusTimestamp(forKey: .lastTestedAt)
        self.connectionDetails = try container.decodeIfPresent(VendorJSON.self, forKey: .connectionDetails)
        self.readOnlyConnection = try? container.decodeIfPresent(Bool.self, forKey: .readOnlyConnection)
    }
}

// MARK: - CensusDestination

/// A destination connection (`GET /destinations/{id}`), such as a CRM.
public struct CensusDestination: Sendable, Hashable, Decodable {
    public var id: CensusID
    public var name: String?
    public var type: String?
    public var connectionDetails: VendorJSON?
    /// The objects a sync can write to (`label`, `full_name`, ...), as sent; only the single
    /// destination's answer lists them.
    public var objects: VendorJSON?

    public init(id: CensusID, name: String? = nil, type: String? = nil) {
        self.id = id
        self.name = name
        self.type = type
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, type, objects
        case connectionDetails = "connection_details"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(CensusID.self, forKey: .id)
        self.name = try container.decodeCensusText(forKey: .name)
        self.type = try container.decodeCensusText(forKey: .type)
        self.connectionDetails = try container.decodeIfPresent(VendorJSON.self, forKey: .connectionDetails)
        self.objects = try container.decodeIfPresent(VendorJSON.self, forKey: .objects)
    }
}
