import FactoryModel
import Foundation
import JSONSchema

/// A vendor run's state, normalised: every driver maps its vendor's own status words onto these,
/// and the engine decides on them alone (when a run has ended, what RUNTIME says). The vendor's
/// word is kept beside it (`RunRecord.vendorStatus`).
public enum RunPhase: String, Sendable, Hashable, CaseIterable {
    case queued
    case running
    case succeeded
    /// Ended, and succeeded with warnings.
    case warning
    case failed
    case cancelled
    case timedOut = "timed_out"

    public var isFinished: Bool {
        switch self {
        case .queued, .running: return false
        case .succeeded, .warning, .failed, .cancelled, .timedOut: return true
        }
    }

    /// The RUNTIME column for a run in this phase.
    public var runtime: Runtime {
        switch self {
        case .queued, .running: return .inprogress
        case .succeeded, .warning: return .succeeded
        case .failed, .timedOut: return .failed
        case .cancelled: return .cancelled
        }
    }
}

/// The RUNTIME column.
public enum Runtime: String, Sendable, Hashable, CaseIterable {
    case pending, inprogress, succeeded, failed, cancelled
}

/// One look at a vendor run, as a driver reports it.
public struct RunObservation: Sendable, Hashable {
    public var phase: RunPhase
    /// The vendor's own status word (`processing`, `3`, `working`, …), for people.
    public var vendorStatus: String
    /// The vendor's id of the run, when it has one.
    public var vendorRunID: String?
    public var createdAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    /// 0…1, where the vendor says how far the run got.
    public var progress: Double?
    /// One short line for people, e.g. `rows 285/851`.
    public var summary: String?
    public var error: String?
    /// The vendor's own fields, owned by the driver and opaque to the engine.
    public var details: JSONValue?

    public init(
        phase: RunPhase, vendorStatus: String, vendorRunID: String? = nil, createdAt: Date? = nil, startedAt: Date? = nil,
        finishedAt: Date? = nil, progress: Double? = nil, summary: String? = nil, error: String? = nil, details: JSONValue? = nil
    ) {
        self.phase = phase
        self.vendorStatus = vendorStatus
        self.vendorRunID = vendorRunID
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.progress = progress
        self.summary = summary
        self.error = error
        self.details = details
    }
}

/// One vendor run, as last seen.
public struct RunRecord: Sendable, Hashable {
    /// The run's identity in the state: the id of the command that caused it (one command causes
    /// at most one run). Runs recorded by state version 1 without a command keep `v1-<vendor id>`.
    public var key: String
    /// The vendor's id of the run, when it has one (Fivetran's runs have none).
    public var vendorRunID: String?
    /// How the driver finds the run again (its own JSON; opaque to the engine).
    public var reference: JSONValue?
    public var phase: RunPhase
    public var vendorStatus: String
    public var createdAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var progress: Double?
    public var summary: String?
    public var error: String?
    public var details: JSONValue?
    /// When the engine first recorded the run: runs of one resource are ordered by it.
    public var recordedAt: Date
    /// When the run times out (the spec's timeout after the trigger); nil for no limit.
    public var deadline: Date?
    /// When the vendor was last asked about it.
    public var checkedAt: Date
    /// The run's lineage outbox: the OpenLineage event types (`START`, `COMPLETE`, …) already
    /// published for it. What the phase calls for and this lacks is still to be published
    /// (docs/lineage.md). Added in this release without a version change: a replica of the
    /// release before reads past it, and drops it when it rewrites the run.
    public var lineagePublished: [String] = []
    /// The run this one is part of (a pipeline run, for a task attempt's run), as the command that
    /// caused it said (``RunParent``); kept so that any replica's later look names the same parent.
    /// Added without a version change, as `lineage`: an older replica reads past it.
    public var parent: RunParent?

    public init(
        key: String, vendorRunID: String?, reference: JSONValue?, phase: RunPhase, vendorStatus: String, createdAt: Date? = nil,
        startedAt: Date? = nil, finishedAt: Date? = nil, progress: Double? = nil, summary: String? = nil, error: String? = nil,
        details: JSONValue? = nil, recordedAt: Date, checkedAt: Date
    ) {
        self.key = key
        self.vendorRunID = vendorRunID
        self.reference = reference
        self.phase = phase
        self.vendorStatus = vendorStatus
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.progress = progress
        self.summary = summary
        self.error = error
        self.details = details
        self.recordedAt = recordedAt
        self.checkedAt = checkedAt
    }

    /// A run just triggered (or adopted) by command `key`, with what the vendor said of it.
    public init(key: String, reference: JSONValue?, observation: RunObservation, at now: Date) {
        self.init(key: key, vendorRunID: observation.vendorRunID, reference: reference, phase: observation.phase, vendorStatus: observation.vendorStatus, recordedAt: now, checkedAt: now)
        apply(observation, at: now)
    }

    /// What people see as the run's id: the vendor's, or else the command's.
    public var displayID: String { vendorRunID ?? key }

    public var runtime: Runtime { phase.runtime }
    public var isFinished: Bool { phase.isFinished }

    /// Takes in a new look at the run; identity, reference and the recording time stay.
    public mutating func apply(_ observation: RunObservation, at now: Date) {
        phase = observation.phase
        vendorStatus = observation.vendorStatus
        if let id = observation.vendorRunID { vendorRunID = id }
        createdAt = observation.createdAt ?? createdAt
        startedAt = observation.startedAt ?? startedAt
        finishedAt = observation.finishedAt ?? finishedAt
        progress = observation.progress ?? progress
        summary = observation.summary ?? summary
        error = observation.error
        details = observation.details ?? details
        checkedAt = now
    }
}
