import VendorHTTP

// MARK: - FivetranSyncState

/// `status.sync_state` of a connector: `scheduled` (idle, waiting for its next sync), `syncing`,
/// `paused`, `rescheduled` (a sync was deferred until `status.rescheduled_for`). A word Fivetran
/// adds later is kept in ``unknown(_:)``.
public enum FivetranSyncState: VendorStatusWord {
    case scheduled, syncing, paused, rescheduled
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "scheduled": self = .scheduled
        case "syncing": self = .syncing
        case "paused": self = .paused
        case "rescheduled": self = .rescheduled
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .scheduled: "scheduled"
        case .syncing: "syncing"
        case .paused: "paused"
        case .rescheduled: "rescheduled"
        case .unknown(let word): word
        }
    }
}

// MARK: - FivetranSetupState

/// `status.setup_state`: `connected` (set up properly), `incomplete` (the setup tests never
/// passed), `broken` (the setup is broken now).
public enum FivetranSetupState: VendorStatusWord {
    case connected, incomplete, broken
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "connected": self = .connected
        case "incomplete": self = .incomplete
        case "broken": self = .broken
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .connected: "connected"
        case .incomplete: "incomplete"
        case .broken: "broken"
        case .unknown(let word): word
        }
    }
}

// MARK: - FivetranScheduleType

/// `schedule_type`: `auto` (Fivetran syncs every `sync_frequency` minutes) or `manual` (only the
/// API's sync calls start a sync, rescheduled ones included).
public enum FivetranScheduleType: VendorStatusWord {
    case auto, manual
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "auto": self = .auto
        case "manual": self = .manual
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .auto: "auto"
        case .manual: "manual"
        case .unknown(let word): word
        }
    }
}

// MARK: - FivetranSetupTestStatus

/// The status of one setup test: `PASSED`, `FAILED`, `WARNING` or `SKIPPED`.
public enum FivetranSetupTestStatus: VendorStatusWord {
    case passed, failed, warning, skipped
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue.uppercased() {
        case "PASSED": self = .passed
        case "FAILED": self = .failed
        case "WARNING": self = .warning
        case "SKIPPED": self = .skipped
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .passed: "PASSED"
        case .failed: "FAILED"
        case .warning: "WARNING"
        case .skipped: "SKIPPED"
        case .unknown(let word): word
        }
    }
}
