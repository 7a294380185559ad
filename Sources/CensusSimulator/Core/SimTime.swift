import SimulatorKit

// MARK: - Timestamps and randomness

extension SimTimestamp {
    /// Census's timestamps: ISO-8601 in UTC with milliseconds (`2021-10-20T02:51:07.546Z`).
    static func format(_ seconds: Double) -> String { self.format(seconds, .milliseconds) }
}

extension SimRandomStream {
    static let outcome = SimRandomStream(1)
    static let recordCount = SimRandomStream(2)
    static let fault = SimRandomStream(3)
    static let latency = SimRandomStream(4)
}
