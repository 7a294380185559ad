import VendorHTTP

// MARK: - CensusSyncRunStatus

/// The status of a sync run (`data.status`, not the envelope's `status`): `queued → working →`
/// `completed | failed`, or `skipped` when an earlier run of the sync was still running.
///
/// A word the API adds later (or `preparing`, which it used before `queued` in 2023) is kept in
/// ``unknown(_:)``; it is not terminal, and callers decide how to treat it.
public enum CensusSyncRunStatus: VendorStatusWord, CaseIterable {
    case queued, working, completed, failed, skipped
    case unknown(String)

    /// The five documented statuses.
    public static let allCases: [CensusSyncRunStatus] = [.queued, .working, .completed, .failed, .skipped]

    /// The statuses a run ends in.
    public static let terminalCases: [CensusSyncRunStatus] = [.completed, .failed, .skipped]

    public init(rawValue: String) {
        switch rawValue {
        case "queued": self = .queued
        case "working": self = .working
        case "completed": self = .completed
        case "failed": self = .failed
        case "skipped": self = .skipped
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .queued: "queued"
        case .working: "working"
        case .completed: "completed"
        case .failed: "failed"
        case .skipped: "skipped"
        case .unknown(let value): value
        }
    }

    /// Whether the run has ended (`completed`, `failed`, `skipped`). A skipped run never ran: an
    /// earlier run of the sync was still working when it was due.
    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .skipped: true
        case .queued, .working, .unknown: false
        }
    }
}
