import VendorHTTP

// MARK: - HightouchSyncCreate

/// The body of `POST /syncs` (`SyncCreate`). Every field is required by the API; `schedule` is
/// sent as `null` when the sync should run only when triggered.
public struct HightouchSyncCreate: Sendable, Hashable, Encodable {
    public var slug: String
    public var configuration: VendorJSON
    public var destinationID: HightouchID
    public var modelID: HightouchID
    public var schedule: HightouchSchedule?
    public var disabled: Bool

    public init(
        slug: String,
        configuration: VendorJSON,
        destinationID: HightouchID,
        modelID: HightouchID,
        schedule: HightouchSchedule?,
        disabled: Bool
    ) {
        self.slug = slug
        self.configuration = configuration
        self.destinationID = destinationID
        self.modelID = modelID
        self.schedule = schedule
        self.disabled = disabled
    }

    private enum CodingKeys: String, CodingKey {
        case slug, configuration, destinationId, modelId, schedule, disabled
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.slug, forKey: .slug)
        try container.encode(self.configuration, forKey: .configuration)
        try container.encode(self.destinationID, forKey: .destinationId)
        try container.encode(self.modelID, forKey: .modelId)
        if let schedule = self.schedule {
            try container.encode(schedule, forKey: .schedule)
        } else {
            try container.encodeNil(forKey: .schedule)
        }
        try container.encode(self.disabled, forKey: .disabled)
    }
}
