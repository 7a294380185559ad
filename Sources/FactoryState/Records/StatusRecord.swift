import Foundation
import JSONSchema

/// The STATUS column.
public enum ResourcePhase: String, Sendable, Hashable, CaseIterable {
    case pending, active, error, deleted
}

/// Why the last command failed.
public struct ErrorRecord: Sendable, Hashable {
    /// A stable word: a command rejection reason (`schemaViolation`, `notJSON`, …) or a vendor
    /// failure (`vendorRejected`, `vendorUnauthorized`, `gaveUp`, …).
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

/// A repair of the vendor objects: what was found missing or changed, and what was done.
public struct DriftRecord: Sendable, Hashable {
    /// What was wrong, as the vendor said it.
    public var found: String
    /// What the operator did.
    public var repair: String
    /// `onUse` (a command found it) or `scheduled` (the leader's drift check).
    public var kind: String
    public var commandID: String?
    public var at: Date

    public init(found: String, repair: String, kind: String, commandID: String?, at: Date) {
        self.found = found
        self.repair = repair
        self.kind = kind
        self.commandID = commandID
        self.at = at
    }
}

/// The observed state of one resource: what the vendor has and what became of the runs.
/// Key `status.<workspace>.<name>`.
public struct StatusRecord: Sendable, Hashable {
    public var version: Int
    public var workspace: String
    public var name: String
    public var type: String
    public var phase: ResourcePhase
    /// The entity generation last realised at the vendor.
    public var observedGeneration: Int
    /// What exists at the vendor for this resource (the driver's own JSON; Hightouch: the model
    /// and sync ids and slugs).
    public var objects: JSONValue?
    public var currentRun: RunRecord?
    public var lastRun: RunRecord?
    public var lastError: ErrorRecord?
    /// The last repair of the vendor objects, if any.
    public var lastDrift: DriftRecord?
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?

    public init(workspace: String, name: String, type: String, phase: ResourcePhase, at: Date) {
        self.version = StateVersion.current
        self.workspace = workspace
        self.name = name
        self.type = type
        self.phase = phase
        self.observedGeneration = 0
        self.createdAt = at
        self.updatedAt = at
    }

    /// RUNTIME: the current run if one is going, else the last one.
    public var runtime: Runtime {
        if let currentRun { return currentRun.runtime }
        return lastRun?.runtime ?? .pending
    }

    /// The current or last run with this key.
    public func run(key: String) -> RunRecord? {
        if let currentRun, currentRun.key == key { return currentRun }
        if let lastRun, lastRun.key == key { return lastRun }
        return nil
    }

    /// Whether the run with this key is this resource's current or last run.
    public func knows(run key: String) -> Bool {
        run(key: key) != nil
    }

    /// Records a look at a run: it becomes the current run while it goes on, the last run when
    /// it ends. A look at a run recorded before the current one only updates the last run. Runs
    /// are ordered by when the engine recorded them, never by comparing vendor ids.
    public mutating func record(_ run: RunRecord) {
        // A late look at a run already recorded as ended (a follower that stalled while another
        // saw the end) would make it current again, and nothing would look at it any more.
        if !run.isFinished, let last = lastRun, last.key == run.key, last.isFinished { return }
        if let current = currentRun, current.key != run.key, current.recordedAt > run.recordedAt {
            if run.isFinished, lastRun == nil || lastRun?.key == run.key { lastRun = run }
            return
        }
        if run.isFinished {
            // The last run slot keeps the newest ended run.
            if let last = lastRun, last.key != run.key, last.recordedAt > run.recordedAt {
                if currentRun?.key == run.key { currentRun = nil }
                return
            }
            lastRun = run
            if currentRun?.key == run.key { currentRun = nil }
        } else {
            currentRun = run
        }
    }

    /// Marks lineage events of the run with this key as published (its outbox); false when the
    /// status does not hold the run or nothing changed.
    public mutating func markLineagePublished(run key: String, _ types: [String]) -> Bool {
        func mark(_ run: inout RunRecord) -> Bool {
            let added = types.filter { !run.lineagePublished.contains($0) }
            guard !added.isEmpty else { return false }
            run.lineagePublished += added
            return true
        }
        if var current = currentRun, current.key == key {
            let changed = mark(&current)
            currentRun = current
            return changed
        }
        if var last = lastRun, last.key == key {
            let changed = mark(&last)
            lastRun = last
            return changed
        }
        return false
    }

    /// Records a run a command has just started: the current run moves to the last; nothing
    /// changes if the run is known already (a resumed command recording it again).
    public mutating func start(_ run: RunRecord) {
        guard !knows(run: run.key) else { return }
        if run.isFinished {
            // Ended as it was triggered (an HTTP task): a run still going stays current.
            lastRun = run
            return
        }
        if let previous = currentRun { lastRun = previous }
        currentRun = run
    }
}
