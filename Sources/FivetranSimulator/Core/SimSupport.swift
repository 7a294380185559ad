import SimulatorKit

// MARK: - Timestamps and randomness

extension SimTimestamp {
    /// Fivetran's timestamps: ISO-8601 in UTC with microseconds (`2021-03-23T20:55:12.670390Z`).
    /// Sub-second precision matters: clients decide a sync ended by `succeeded_at` moving past the
    /// value before the trigger, and a sync ending within the trigger's second must look newer.
    static func format(_ seconds: Double) -> String { self.format(seconds, .microseconds) }
}

extension SimRandomStream {
    static let outcome = SimRandomStream(1)
    static let fault = SimRandomStream(2)
    static let latency = SimRandomStream(3)
}

