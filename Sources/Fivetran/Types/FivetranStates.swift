// MARK: - FivetranSyncState

/// `status.sync_state` of a connector: `scheduled` (idle, waiting for its next sync), `syncing`,
/// `paused`, `rescheduled` (a sync was deferred until `status.rescheduled_for`). A word Fivetran
/// adds later is kept in ``unknown(_:)``.
public enum FivetranSyncState: Sendable, Hashable, Codable, CustomStringConvertible {
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

    public var description: String { self.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}

// MARK: - FivetranSetupState

/// `status.setup_state`: `connected` (set up properly), `incomplete` (the setup tests never
/// passed), `broken` (the setup is broken now).
public enum FivetranSetupState: Sendable, Hashable, Codable, CustomStringConvertible {
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

    public var description: String { self.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}

// MARK: - FivetranScheduleType

/// `schedule_type`: `auto` (Fivetran syncs every `sync_frequency` minutes) or `manual` (only the
/// API's sync calls start a sync, rescheduled ones included).
public enum FivetranScheduleType: Sendable, Hashable, Codable, CustomStringConvertible {
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

    public var description: String { self.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}

// MARK: - FivetranSetupTestStatus

/// The status of one setup test: `PASSED`, `FAILED`, `WARNING` or `SKIPPED`.
public enum FivetranSetupTestStatus: Sendable, Hashable, Codable, CustomStringConvertible {
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

    public var description: String { self.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}
