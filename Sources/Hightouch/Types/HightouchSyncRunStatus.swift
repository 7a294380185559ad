import VendorHTTP

// MARK: - HightouchSyncRunStatus

/// The status of a sync run (`SyncRunStatus`): `queued → querying → processing → reporting →`
/// `success | warning | failed | cancelled | interrupted`. A value the API adds later is kept in
/// ``unknown(_:)`` and treated as still running, so a follower keeps polling instead of giving up.
public enum HightouchSyncRunStatus: VendorStatusWord, CaseIterable {
    case queued, querying, processing, reporting
    case success, warning, failed, cancelled, interrupted
    case unknown(String)

    /// The nine documented statuses.
    public static let allCases: [HightouchSyncRunStatus] = [
        .queued, .querying, .processing, .reporting, .success, .warning, .failed, .cancelled, .interrupted,
    ]

    /// The statuses a run ends in.
    public static let terminalCases: [HightouchSyncRunStatus] = [.success, .warning, .failed, .cancelled, .interrupted]

    public init(rawValue: String) {
        switch rawValue {
        case "queued": self = .queued
        case "querying": self = .querying
        case "processing": self = .processing
        case "reporting": self = .reporting
        case "success": self = .success
        case "warning": self = .warning
        case "failed": self = .failed
        case "cancelled": self = .cancelled
        case "interrupted": self = .interrupted
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .queued: "queued"
        case .querying: "querying"
        case .processing: "processing"
        case .reporting: "reporting"
        case .success: "success"
        case .warning: "warning"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .interrupted: "interrupted"
        case .unknown(let value): value
        }
    }

    /// Whether the run has ended (success, warning, failed, cancelled, interrupted).
    public var isTerminal: Bool {
        switch self {
        case .success, .warning, .failed, .cancelled, .interrupted: true
        case .queued, .querying, .processing, .reporting, .unknown: false
        }
    }

    /// Whether the run ended and delivered its rows (`success`, or `warning`: some rows failed).
    public var isSuccessful: Bool { self == .success || self == .warning }
}
