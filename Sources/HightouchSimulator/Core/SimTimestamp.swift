import SimulatorKit

// MARK: - Timestamps and randomness

extension SimTimestamp {
    /// The API's timestamps: ISO-8601 in UTC with milliseconds (`2022-02-16T21:37:58.510Z`).
    static func format(_ seconds: Double) -> String { self.format(seconds, .milliseconds) }
}

extension SimRandomStream {
    static let outcome = SimRandomStream(1)
    static let querySize = SimRandomStream(2)
    static let fault = SimRandomStream(3)
    static let latency = SimRandomStream(4)
    static let rowSplit = SimRandomStream(5)
}
