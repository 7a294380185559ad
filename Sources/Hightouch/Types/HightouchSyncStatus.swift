import VendorHTTP

// MARK: - HightouchSyncStatus

/// The overall status of a sync (`SyncStatus`): the run statuses plus `disabled` and `pending`.
/// Values the API adds later are kept in ``unknown(_:)``.
public enum HightouchSyncStatus: VendorStatusWord {
    case disabled, pending, cancelled, failed, queued, success, warning, querying, processing, reporting, interrupted
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "disabled": self = .disabled
        case "pending": self = .pending
        case "cancelled": self = .cancelled
        case "failed": self = .failed
        case "queued": self = .queued
        case "success": self = .success
        case "warning": self = .warning
        case "querying": self = .querying
        case "processing": self = .processing
        case "reporting": self = .reporting
        case "interrupted": self = .interrupted
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .disabled: "disabled"
        case .pending: "pending"
        case .cancelled: "cancelled"
        case .failed: "failed"
        case .queued: "queued"
        case .success: "success"
        case .warning: "warning"
        case .querying: "querying"
        case .processing: "processing"
        case .reporting: "reporting"
        case .interrupted: "interrupted"
        case .unknown(let value): value
        }
    }
}
