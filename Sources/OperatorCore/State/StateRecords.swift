import Foundation
import JSONSchema

// The documents in the state bucket (see docs/state.md). Every document carries `version`;
// a replica refuses to overwrite a document with a version it does not know.

/// A command as the state remembers it.
public struct CommandReference: Codable, Sendable, Hashable {
    /// The command's identity: its `Nats-Msg-Id`, or `seq-<stream sequence>` without one.
    public var id: String
    /// Its stream sequence: commands for one resource take effect in this order.
    public var sequence: UInt64
    public var operation: String
    public var receivedAt: Date

    public init(id: String, sequence: UInt64, operation: String, receivedAt: Date) {
        self.id = id
        self.sequence = sequence
        self.operation = operation
        self.receivedAt = receivedAt
    }
}

/// The command currently changing a resource, and how far it got. Held by one replica at a
/// time; every step is a compare-and-set on the entity, so a replica that lost the command can
/// neither step on nor acknowledge another's work.
public struct ActiveCommand: Codable, Sendable, Hashable {
    public enum Stage: String, Codable, Sendable {
        /// Accepted: the desired state is recorded; the vendor objects are being ensured.
        case received
        /// The vendor objects exist; about to trigger a run. Found here after a crash, the
        /// command first looks for its run (recorded on the status, or created at the vendor
        /// since `triggerIntentAt`) before triggering again.
        case triggering
    }

    public var command: CommandReference
    public var owner: String
    /// Renewed while the owner works; a redelivered command whose holder has not renewed for an
    /// ack wait may be taken over.
    public var heartbeatAt: Date
    public var stage: Stage
    public var triggerIntentAt: Date?
    /// The vendor objects as ensured, recorded with the intent, so a resumed command triggers on
    /// the same sync without asking the vendor again.
    public var vendor: VendorObjects?

    public init(command: CommandReference, owner: String, heartbeatAt: Date, stage: Stage, triggerIntentAt: Date? = nil) {
        self.command = command
        self.owner = owner
        self.heartbeatAt = heartbeatAt
        self.stage = stage
        self.triggerIntentAt = triggerIntentAt
    }
}

/// The desired state of one resource: what was applied. Key `entity.<workspace>.<name>`.
public struct EntityRecord: Codable, Sendable {
    public static let currentVersion = 1

    public var version: Int
    public var workspace: String
    public var name: String
    public var type: String
    public var owner: String?
    /// The resource manifest as applied (JSON).
    public var manifest: JSONValue
    /// SHA-256 of the spec with sorted keys: an unchanged re-apply is recognised by it.
    public var specDigest: String
    /// +1 for every change of the desired state.
    public var generation: Int
    public var deleted: Bool
    /// The last command that took effect.
    public var lastCommand: CommandReference?
    /// The command working on the resource now, if any.
    public var activeCommand: ActiveCommand?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        workspace: String, name: String, type: String, owner: String?, manifest: JSONValue, specDigest: String,
        generation: Int, deleted: Bool, lastCommand: CommandReference?, activeCommand: ActiveCommand?, createdAt: Date, updatedAt: Date
    ) {
        self.version = Self.currentVersion
        self.workspace = workspace
        self.name = name
        self.type = type
        self.owner = owner
        self.manifest = manifest
        self.specDigest = specDigest
        self.generation = generation
        self.deleted = deleted
        self.lastCommand = lastCommand
        self.activeCommand = activeCommand
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Row counts of a run, as the vendor reports them.
public struct RowCounts: Codable, Sendable, Hashable {
    public var added: Int
    public var changed: Int
    public var removed: Int

    public init(added: Int, changed: Int, removed: Int) {
        self.added = added
        self.changed = changed
        self.removed = removed
    }

    public var total: Int { added + changed + removed }
}

/// One vendor run, as last seen.
public struct RunRecord: Codable, Sendable, Hashable {
    public var id: String
    /// The vendor's status word (Hightouch: queued, querying, processing, reporting, success,
    /// warning, failed, cancelled, interrupted).
    public var status: String
    public var createdAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var completionRatio: Double?
    public var querySize: Int?
    public var plannedRows: RowCounts?
    public var successfulRows: RowCounts?
    public var failedRows: RowCounts?
    public var error: String?
    /// The command that triggered it.
    public var commandID: String?
    public var checkedAt: Date

    public init(
        id: String, status: String, createdAt: Date? = nil, startedAt: Date? = nil, finishedAt: Date? = nil, completionRatio: Double? = nil,
        querySize: Int? = nil, plannedRows: RowCounts? = nil, successfulRows: RowCounts? = nil, failedRows: RowCounts? = nil,
        error: String? = nil, commandID: String? = nil, checkedAt: Date
    ) {
        self.id = id
        self.status = status
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.completionRatio = completionRatio
        self.querySize = querySize
        self.plannedRows = plannedRows
        self.successfulRows = successfulRows
        self.failedRows = failedRows
        self.error = error
        self.commandID = commandID
        self.checkedAt = checkedAt
    }

    public var runtime: Runtime { Runtime(vendorStatus: status) }
    public var isFinished: Bool { runtime != .inprogress && runtime != .pending }
}

/// The RUNTIME column.
public enum Runtime: String, Codable, Sendable, Hashable, CaseIterable {
    case pending, inprogress, succeeded, failed, cancelled

    /// Hightouch's run statuses; `warning` succeeded (with warnings, shown in the detail).
    public init(vendorStatus: String) {
        switch vendorStatus {
        case "queued", "querying", "processing", "reporting", "pending": self = .inprogress
        case "success", "warning": self = .succeeded
        case "failed", "interrupted": self = .failed
        case "cancelled", "canceled", "aborted": self = .cancelled
        default: self = .inprogress  // unknown: keep following, as orchestrators do
        }
    }
}

/// The STATUS column.
public enum Phase: String, Codable, Sendable, Hashable, CaseIterable {
    case pending, active, error, deleted
}

/// What the operator created at the vendor for a resource.
public struct VendorObjects: Codable, Sendable, Hashable {
    public var modelID: String?
    public var modelSlug: String?
    public var syncID: String?
    public var syncSlug: String?

    public init(modelID: String? = nil, modelSlug: String? = nil, syncID: String? = nil, syncSlug: String? = nil) {
        self.modelID = modelID
        self.modelSlug = modelSlug
        self.syncID = syncID
        self.syncSlug = syncSlug
    }
}

/// Why the last command failed.
public struct ErrorRecord: Codable, Sendable, Hashable {
    /// A stable word: a command rejection reason (`schemaViolation`, `notJSON`, …) or a vendor
    /// failure (`vendorValidation`, `vendorUnauthorized`, `gaveUp`, …).
    public var reason: String
    public var message: String
    public var commandID: String?
    public var at: Date

    public init(reason: String, message: String, commandID: String?, at: Date) {
        self.reason = reason
        self.message = message
        self.commandID = commandID
        self.at = at
    }
}

/// The observed state of one resource: what the vendor has and what became of the runs.
/// Key `status.<workspace>.<name>`.
public struct StatusRecord: Codable, Sendable {
    public static let currentVersion = 1

    public var version: Int
    public var workspace: String
    public var name: String
    public var type: String
    public var phase: Phase
    /// The entity generation last realised at the vendor.
    public var observedGeneration: Int
    public var vendor: VendorObjects
    public var currentRun: RunRecord?
    public var lastRun: RunRecord?
    public var lastError: ErrorRecord?
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?

    public init(workspace: String, name: String, type: String, phase: Phase, at: Date) {
        self.version = Self.currentVersion
        self.workspace = workspace
        self.name = name
        self.type = type
        self.phase = phase
        self.observedGeneration = 0
        self.vendor = VendorObjects()
        self.createdAt = at
        self.updatedAt = at
    }

    /// RUNTIME: the current run if one is going, else the last one.
    public var runtime: Runtime {
        if let currentRun { return currentRun.runtime }
        return lastRun?.runtime ?? .pending
    }

    /// Whether `run` is this resource's current or last run.
    func knows(run id: String) -> Bool {
        currentRun?.id == id || lastRun?.id == id
    }

    /// Records a look at a run: it becomes the current run while it goes on, the last run when
    /// it ends. A look at an older run than the current one only updates the last run.
    public mutating func record(_ run: RunRecord) {
        // A late look at a run already recorded as ended (a follower that stalled while another
        // saw the end) would make it current again, and nothing would look at it any more.
        if !run.isFinished, let last = lastRun, last.id == run.id, last.isFinished { return }
        if let current = currentRun, current.id != run.id, Self.isNewer(current.id, than: run.id) {
            if run.isFinished, lastRun == nil || lastRun?.id == run.id { lastRun = run }
            return
        }
        if run.isFinished {
            lastRun = run
            if currentRun?.id == run.id || currentRun == nil { currentRun = nil }
        } else {
            currentRun = run
        }
    }

    /// Run ids grow; compare numerically when both are numbers.
    static func isNewer(_ lhs: String, than rhs: String) -> Bool {
        if let left = Int64(lhs), let right = Int64(rhs) { return left > right }
        return lhs > rhs
    }
}
