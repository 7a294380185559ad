// MARK: - DBTCloudRunStatus

/// A run's (or a run step's) status code: 1 queued, 2 starting, 3 running, 10 success, 20 error,
/// 30 cancelled. A code the API adds later is kept as it arrived and treated as still going, so a
/// follower keeps polling instead of giving up.
public struct DBTCloudRunStatus: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    public static let queued = DBTCloudRunStatus(rawValue: 1)
    public static let starting = DBTCloudRunStatus(rawValue: 2)
    public static let running = DBTCloudRunStatus(rawValue: 3)
    public static let success = DBTCloudRunStatus(rawValue: 10)
    public static let error = DBTCloudRunStatus(rawValue: 20)
    public static let cancelled = DBTCloudRunStatus(rawValue: 30)

    /// The six documented codes.
    public static let allKnown: [DBTCloudRunStatus] = [.queued, .starting, .running, .success, .error, .cancelled]
    /// Queued, starting and running: what `status__in=[1,2,3]` selects.
    public static let active: [DBTCloudRunStatus] = [.queued, .starting, .running]

    /// Whether the run has ended (10, 20, 30).
    public var isTerminal: Bool { self == .success || self == .error || self == .cancelled }

    /// The word dbt Cloud's `status_humanized` uses for the documented codes.
    public var humanized: String {
        switch self {
        case .queued: "Queued"
        case .starting: "Starting"
        case .running: "Running"
        case .success: "Success"
        case .error: "Error"
        case .cancelled: "Cancelled"
        default: "Unknown (\(self.rawValue))"
        }
    }

    public var description: String { "\(self.rawValue) (\(self.humanized))" }

    /// A number, or (as some list answers send it) a string of digits.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self.rawValue = number
            return
        }
        let text = try container.decode(String.self)
        guard let number = Int(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected a run status code such as 10, got \"\(text)\".")
        }
        self.rawValue = number
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}
