// MARK: - HightouchTriggerOptions

/// The flags of a trigger (`TriggerRunInput`). They are always sent explicitly: one generated SDK
/// turned the spec's string default `'false'` into `true`, so relying on defaults is unsafe.
public struct HightouchTriggerOptions: Sendable, Hashable, Encodable {
    /// Resync every row of the query, ignoring what was synced before.
    public var fullResync: Bool
    /// Mark every row as synced without sending changes to the destination.
    public var resetCDC: Bool
    /// Clear the destination audience, then sync the full query.
    public var clearAndFill: Bool

    /// `fullResync` and `resetCDC` have no default on purpose: say what you mean.
    public init(fullResync: Bool, resetCDC: Bool, clearAndFill: Bool = false) {
        self.fullResync = fullResync
        self.resetCDC = resetCDC
        self.clearAndFill = clearAndFill
    }
}

// MARK: - HightouchSyncReference

/// Which sync `POST /syncs/trigger` should run.
public enum HightouchSyncReference: Sendable, Hashable, CustomStringConvertible {
    case id(HightouchID)
    case slug(String)

    public var description: String {
        switch self {
        case .id(let id): "sync \(id)"
        case .slug(let slug): "sync \"\(slug)\""
        }
    }
}
