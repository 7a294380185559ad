import VendorHTTP

// MARK: - HightouchSyncUpdate

/// The body of `PATCH /syncs/{syncId}` (`SyncUpdate`): only what is set is sent. The API cannot
/// change a sync's slug, model or destination.
public struct HightouchSyncUpdate: Sendable, Hashable, Encodable {
    /// What to do with the schedule: keep it, clear it (`null`: run only when triggered) or set it.
    public enum ScheduleChange: Sendable, Hashable {
        case keep
        case manual
        case set(HightouchSchedule)
    }

    public var configuration: VendorJSON?
    public var schedule: ScheduleChange
    public var disabled: Bool?

    public init(configuration: VendorJSON? = nil, schedule: ScheduleChange = .keep, disabled: Bool? = nil) {
        self.configuration = configuration
        self.schedule = schedule
        self.disabled = disabled
    }

    /// Whether the update would send an empty body.
    public var isEmpty: Bool {
        self.configuration == nil && self.schedule == .keep && self.disabled == nil
    }

    private enum CodingKeys: String, CodingKey {
        case configuration, schedule, disabled
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.configuration, forKey: .configuration)
        switch self.schedule {
        case .keep: break
        case .manual: try container.encodeNil(forKey: .schedule)
        case .set(let schedule): try container.encode(schedule, forKey: .schedule)
        }
        try container.encodeIfPresent(self.disabled, forKey: .disabled)
    }
}
