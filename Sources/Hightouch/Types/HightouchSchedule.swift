import VendorHTTP

// MARK: - HightouchSchedule

/// When Hightouch runs a sync on its own (`schedule`): `{"type": ..., "schedule": {...}}`.
/// A sync without a schedule (`null`) runs only when triggered.
public struct HightouchSchedule: Sendable, Hashable, Codable {
    /// `interval`, `cron`, `visual`, `dbt`, ... as the API names it.
    public var type: String
    /// The type-specific part, e.g. `{"expression": "*/5 * * * *"}`; opaque to this client.
    public var schedule: VendorJSON

    public init(type: String, schedule: VendorJSON) {
        self.type = type
        self.schedule = schedule
    }

    /// Every `quantity` `unit`s; `unit` is `minute`, `hour`, `day` or `week`.
    public static func interval(unit: String, quantity: Int) -> HightouchSchedule {
        HightouchSchedule(type: "interval", schedule: ["interval": ["unit": .string(unit), "quantity": .number(Double(quantity))]])
    }

    /// A cron expression, e.g. `*/5 * * * *`.
    public static func cron(_ expression: String) -> HightouchSchedule {
        HightouchSchedule(type: "cron", schedule: ["expression": .string(expression)])
    }
}
