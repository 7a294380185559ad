import Foundation
import VendorHTTP

// MARK: - CensusSync

/// A sync (`GET /syncs/{id}`): what it reads (`source_attributes`), where it writes
/// (`destination_attributes`) and how. FactoryOperator does not create or change syncs; it reads
/// them to check they exist and to show their connections.
public struct CensusSync: Sendable, Hashable, Decodable {
    /// Where the sync reads from: a source connection and an object in it (a model or a table).
    public struct SourceAttributes: Sendable, Hashable, Decodable {
        public var connectionID: CensusID?
        /// `{"type": "model", "id": 15, "name": ...}` and similar; kept as sent.
        public var object: VendorJSON?

        public init(connectionID: CensusID?, object: VendorJSON? = nil) {
            self.connectionID = connectionID
            self.object = object
        }

        private enum CodingKeys: String, CodingKey {
            case connectionID = "connection_id"
            case object
        }
    }

    /// Where the sync writes: a destination connection and the object's full name (`user`).
    public struct DestinationAttributes: Sendable, Hashable, Decodable {
        public var connectionID: CensusID?
        /// The destination object, usually its full name as a string.
        public var object: VendorJSON?

        public init(connectionID: CensusID?, object: VendorJSON? = nil) {
            self.connectionID = connectionID
            self.object = object
        }

        private enum CodingKeys: String, CodingKey {
            case connectionID = "connection_id"
            case object
        }
    }

    public var id: CensusID
    /// The name people gave the sync; often `null`.
    public var label: String?
    /// `upsert`, `mirror`, `append`, `insert` or `update`.
    public var operation: String?
    /// The sync's own state word (`Ready`, ...), not a run status.
    public var status: String?
    public var paused: Bool?
    /// `never`, `continuous`, `hourly`, `daily`, `weekly`, `expression`, ...
    public var scheduleFrequency: String?
    public var createdAt: Date?
    public var updatedAt: Date?
    public var sourceAttributes: SourceAttributes?
    public var destinationAttributes: DestinationAttributes?
    /// The field mappings, as sent.
    public var mappings: VendorJSON?

    /// The source connection's id (`source_attributes.connection_id`).
    public var sourceConnectionID: CensusID? { self.sourceAttributes?.connectionID }
    /// The destination connection's id (`destination_attributes.connection_id`).
    public var destinationConnectionID: CensusID? { self.destinationAttributes?.connectionID }

    public init(
        id: CensusID, label: String? = nil, operation: String? = nil, status: String? = nil, paused: Bool? = nil,
        scheduleFrequency: String? = nil, createdAt: Date? = nil, updatedAt: Date? = nil,
        sourceAttributes: SourceAttributes? = nil, destinationAttributes: DestinationAttributes? = nil, mappings: VendorJSON? = nil
    ) {
        self.id = id
        self.label = label
        self.operation = operation
        self.status = status
        self.paused = paused
        self.scheduleFrequency = scheduleFrequency
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sourceAttributes = sourceAttributes
        self.destinationAttributes = destinationAttributes
        self.mappings = mappings
    }

    private enum CodingKeys: String, CodingKey {
        case id, label, operation, status, paused, mappings
        case scheduleFrequency = "schedule_frequency"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case sourceAttributes = "source_attributes"
        case destinationAttributes = "destination_attributes"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(CensusID.self, forKey: .id)
        self.label = try container.decodeCensusText(forKey: .label)
        self.operation = try container.decodeCensusText(forKey: .operation)
        self.status = try container.decodeCensusText(forKey: .status)
        self.paused = try? container.decodeIfPresent(Bool.self, forKey: .paused)
        self.scheduleFrequency = try container.decodeCensusText(forKey: .scheduleFrequency)
        self.createdAt = try container.decodeCensusTimestamp(forKey: .createdAt)
        self.updatedAt = try container.decodeCensusTimestamp(forKey: .updatedAt)
        self.sourceAttributes = try container.decodeIfPresent(SourceAttributes.self, forKey: .sourceAttributes)
        self.destinationAttributes = try container.decodeIfPresent(DestinationAttributes.self, forKey: .destinationAttributes)
        self.mappings = try container.decodeIfPresent(VendorJSON.self, forKey: .mappings)
    }
}
