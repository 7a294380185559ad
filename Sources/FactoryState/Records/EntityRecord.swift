import Foundation
import JSONSchema

// The documents in the state bucket (see docs/state.md). Every document carries `version`:
// this build writes version 2, reads versions 1 and 2 (a version-1 document is upgraded as it is
// read, and written back as version 2 by the next change), and never overwrites a newer one.

/// A command as the state remembers it.
public struct CommandReference: Sendable, Hashable {
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
public struct ActiveCommand: Sendable, Hashable {
    public enum Stage: String, Sendable, Hashable {
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
    /// The vendor objects as ensured (the driver's own JSON), recorded with the intent, so a
    /// resumed command triggers on the same objects without asking the vendor again.
    public var objects: JSONValue?
    /// What the vendor showed just before the trigger (the driver's own JSON), for vendors whose
    /// runs have no id: the resume check compares the vendor's state with it.
    public var baseline: JSONValue?

    public init(
        command: CommandReference, owner: String, heartbeatAt: Date, stage: Stage, triggerIntentAt: Date? = nil,
        objects: JSONValue? = nil, baseline: JSONValue? = nil
    ) {
        self.command = command
        self.owner = owner
        self.heartbeatAt = heartbeatAt
        self.stage = stage
        self.triggerIntentAt = triggerIntentAt
        self.objects = objects
        self.baseline = baseline
    }
}

/// The desired state of one resource: what was applied. Key `entity.<workspace>.<name>`.
public struct EntityRecord: Sendable, Hashable {
    public var version: Int
    public var workspace: String
    public var name: String
    /// The resource type (`hightouch`, …): the driver that owns the resource.
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
        self.version = StateVersion.current
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

    /// The applied spec.
    public var spec: JSONValue { manifest["resource"]?["spec"] ?? .null }
}

/// The versions of the state documents.
public enum StateVersion {
    /// Written by this build.
    public static let current = 2
    /// The oldest this build reads (and upgrades).
    public static let oldestReadable = 1
}
