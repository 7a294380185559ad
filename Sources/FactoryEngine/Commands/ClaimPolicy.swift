import FactoryModel
import FactoryState
import Foundation
import JSONSchema

/// What a command asks of its resource, as the claim decides on it.
struct ClaimRequest: Sendable {
    enum Operation: Sendable {
        /// The manifest as applied, the digest of its spec, and who applied it.
        case apply(manifest: JSONValue, specDigest: String, owner: String?)
        case run
        case delete
        case cancel
    }

    var reference: CommandReference
    var workspace: String
    var name: String
    /// The resource type served where the command came (its driver).
    var type: String
    var operation: Operation
    /// This replica.
    var instanceID: String
    /// A redelivered command held by a replica silent for this long may be taken over.
    var takeoverAfter: Duration
    /// The driver's ``DriverDescriptor/everyRunCommandRuns``: an older `run` is not superseded.
    var everyRunCommandRuns: Bool = false

    /// A `run` command that takes effect even when a newer command did already.
    var runsEvenIfOlder: Bool {
        guard everyRunCommandRuns, case .run = operation else { return false }
        return true
    }

    /// A `cancel` acts on the run in progress (or the run it names) when it is handled: it takes
    /// no part in stream order, neither superseded by newer commands nor superseding older ones.
    var isCancel: Bool {
        if case .cancel = operation { return true }
        return false
    }

    /// Whether a command at `other` (newer in the stream) makes this one a no-op.
    func isSuperseded(by other: CommandReference) -> Bool {
        other.sequence > reference.sequence && !runsEvenIfOlder && !isCancel && !other.isCancel
    }

    var label: String { "\(workspace)/\(name)" }
}

/// What the claim does about a command, given the resource's entity as read.
enum ClaimDecision: Sendable {
    /// Write this entity (create it when there was none, else compare-and-set on the revision
    /// read). `resumed`: the command was active already (a redelivery, here or elsewhere);
    /// `replacing`: an orphaned earlier command this one replaces.
    case write(EntityRecord, resumed: Bool, replacing: String?)
    /// Nothing to do; acknowledge.
    case done(outcome: String, detail: String)
    /// Not now; redeliver after the delay.
    case wait(Duration, String)
    /// The command can never succeed.
    case refuse(reason: String, message: String)
    /// The decision depends on the resource's status: read it and decide again.
    case needsStatus
}

/// The claim's decision, without I/O: commands for one resource take effect in stream order, one
/// at a time, and a command that took effect once never takes effect again. Cancels are handled
/// one at a time too but outside the order: a cancel of a run (a pipeline cancelling a late
/// attempt's run) arriving before an older `run` of the same resource must not make that `run`
/// a no-op (found by the full suite: a pipeline task stuck `queued`). The compare-and-set
/// loop around it is ``CommandProcessor``'s; tests call it directly with any entity.
enum ClaimPolicy {
    /// `status` is the resource's status when `statusRead` (nil: there is none).
    static func decide(_ request: ClaimRequest, entity current: EntityRecord?, status: StatusRecord?, statusRead: Bool, now: Date) -> ClaimDecision {
        let reference = request.reference
        var replacing: String?
        if let entity = current {
            if let active = entity.activeCommand {
                let silentFor = now.timeIntervalSince(active.heartbeatAt)
                if active.command.id == reference.id {
                    if active.owner != request.instanceID, silentFor < request.takeoverAfter.seconds {
                        return .wait(.seconds(max(1, request.takeoverAfter.seconds - silentFor)), "held by \(active.owner)")
                    }
                    // Resume it: a crash or redelivery interrupted it, here or elsewhere.
                    var resumed = entity
                    resumed.activeCommand?.owner = request.instanceID
                    resumed.activeCommand?.heartbeatAt = now
                    return .write(resumed, resumed: true, replacing: nil)
                }
                if request.isSuperseded(by: active.command) {
                    return .done(outcome: "superseded", detail: "a newer command (\(active.command.id)) is in progress")
                }
                guard silentFor > 4 * request.takeoverAfter.seconds else {
                    return .wait(.seconds(1), "waiting for command \(active.command.id) on the same resource")
                }
                // An earlier command silent for so long is orphaned (its message is gone): this
                // newer command replaces it.
                replacing = active.command.id
            }
            if let last = entity.lastCommand {
                if last.id == reference.id {
                    return .done(outcome: "duplicate", detail: "already done at sequence \(last.sequence)")
                }
                if request.isSuperseded(by: last) {
                    return .done(outcome: "superseded", detail: "a newer command (\(last.id)) already took effect")
                }
            }
            if !entity.deleted, entity.type != request.type {
                return .refuse(
                    reason: "typeMismatch",
                    message: "\(request.label) is a \(entity.type) resource, not \(request.type); delete it before using the name for another type"
                )
            }
        }
        let active = ActiveCommand(command: reference, owner: request.instanceID, heartbeatAt: now, stage: .received)
        switch request.operation {
        case .apply(let manifest, let digest, let owner):
            if let current, !current.deleted, current.specDigest == digest {
                guard statusRead else { return .needsStatus }
                if let status, status.phase == .active, status.observedGeneration == current.generation {
                    return .done(outcome: "unchanged", detail: "the spec is already applied")
                }
            }
            let changed = current == nil || current?.deleted == true || current?.specDigest != digest
            return .write(
                EntityRecord(
                    workspace: request.workspace, name: request.name, type: request.type,
                    owner: owner ?? current?.owner,
                    manifest: manifest, specDigest: digest,
                    generation: (current?.generation ?? 0) + (changed ? 1 : 0), deleted: false,
                    lastCommand: current?.lastCommand,
                    activeCommand: active,
                    createdAt: current?.createdAt ?? now, updatedAt: now
                ),
                resumed: false, replacing: replacing
            )
        case .run:
            guard var current, !current.deleted else {
                return .refuse(reason: "notApplied", message: "\(request.label) is not applied; apply it before asking for a run")
            }
            // Straight to triggering: a run ensures nothing, it triggers on the recorded objects.
            var running = active
            running.stage = .triggering
            running.triggerIntentAt = now
            current.activeCommand = running
            current.updatedAt = now
            return .write(current, resumed: false, replacing: replacing)
        case .cancel:
            guard var current, !current.deleted else {
                return .done(outcome: "nothingToCancel", detail: "\(request.label) is not applied")
            }
            // The desired state stays; the command only holds the resource while it cancels.
            current.activeCommand = active
            current.updatedAt = now
            return .write(current, resumed: false, replacing: replacing)
        case .delete:
            guard var current, !current.deleted else {
                return .done(outcome: "nothingToDelete", detail: "\(request.label) is not applied")
            }
            current.deleted = true
            current.generation += 1
            current.activeCommand = active
            current.updatedAt = now
            return .write(current, resumed: false, replacing: replacing)
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension CommandReference {
    /// A `cancel`, which takes no part in stream order (``ClaimPolicy``).
    var isCancel: Bool { operation == CommandOperation.cancel.rawValue }
}
