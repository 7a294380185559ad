import FactoryModel
import Foundation
import JSONSchema
import Logging
import NATSKit
import Synchronization

/// Turns one command delivery into vendor calls and state, exactly once per command whatever
/// crashes, redeliveries and duplicate publishes happen (see docs/state.md for the protocol).
///
/// 1. Validate; a bad command is dead-lettered, reported on its resource's status, terminated.
/// 2. Claim the resource: a compare-and-set on its entity that records the command as active.
///    Commands for one resource take effect in stream order: an older one arriving late is
///    superseded, a newer one waits for the active one. The last command's id makes a repeated
///    command (even published again after the duplicate window) a no-op.
/// 3. Work in stages, each recorded on the entity with compare-and-set; a replica that lost the
///    command fails its next write and abandons it without acknowledging.
/// 4. Trigger once: the intent is recorded before the call; a resumed command first looks for a
///    run created since the intent.
/// 5. Record the run on the status, publish a follow-up, release the resource, acknowledge.
public final class CommandProcessor: Sendable {
    public struct Settings: Sendable {
        public var instanceID: String
        /// A redelivered command held by a replica silent for this long may be taken over.
        public var takeoverAfter: Duration
        /// Deliveries before giving up on a command that keeps failing transiently.
        public var maxAttempts: Int
        /// Clock skew allowed between us and the vendor when looking for a run we may have
        /// triggered before a crash.
        public var clockSkewMargin: Duration

        public init(instanceID: String, takeoverAfter: Duration, maxAttempts: Int, clockSkewMargin: Duration = .seconds(5)) {
            self.instanceID = instanceID
            self.takeoverAfter = takeoverAfter
            self.maxAttempts = maxAttempts
            self.clockSkewMargin = clockSkewMargin
        }
    }

    let store: StateStore
    let vendor: any PipelineVendor
    let validator: CommandValidator
    let deadLetters: DeadLetters
    let followUps: FollowUps
    let settings: Settings
    let logger: Logger
    /// Commands this replica is handling right now. A second delivery of one of them (a NATS
    /// server that lost its consumer state redelivers a message its holder is still working on)
    /// must not resume it beside the first: both could trigger.
    private let handling = Mutex<Set<String>>([])

    public init(
        store: StateStore, vendor: any PipelineVendor, validator: CommandValidator, deadLetters: DeadLetters,
        followUps: FollowUps, settings: Settings, logger: Logger
    ) {
        self.store = store
        self.vendor = vendor
        self.validator = validator
        self.deadLetters = deadLetters
        self.followUps = followUps
        self.settings = settings
        self.logger = logger
    }

    /// Never throws and never crashes on input: every path ends in a disposition.
    public func process(_ delivery: CommandDelivery) async -> CommandResult {
        let command: ValidatedCommand
        switch validator.validate(delivery.payload) {
        case .failure(let rejection):
            return await refuse(delivery, reason: rejection.reason.rawValue, message: rejection.description)
        case .success(let validated):
            command = validated
        }
        let target = Target(command: command, delivery: delivery)
        guard handling.withLock({ $0.insert(target.reference.id).inserted }) else {
            return CommandResult(.nak(delay: .seconds(1)), "waiting", "this replica is still handling command \(target.reference.id)")
        }
        defer { _ = handling.withLock { $0.remove(target.reference.id) } }
        do {
            return try await execute(target)
        } catch let lost as OwnershipLost {
            return CommandResult(.abandon, "lostOwnership", lost.description)
        } catch let failure as VendorFailure {
            return await vendorFailed(target, failure)
        } catch {
            return await transientFailure(target, reason: "stateUnavailable", message: "\(error)")
        }
    }

    // MARK: - Execution

    private func execute(_ target: Target) async throws -> CommandResult {
        let claim = try await self.claim(target)
        switch claim {
        case .done(let outcome, let detail):
            return CommandResult(.ack, outcome, detail)
        case .wait(let delay, let detail):
            return CommandResult(.nak(delay: delay), "waiting", detail)
        case .refuse(let reason, let message):
            return await refuse(target.delivery, reason: reason, message: message)
        case .claimed(let entity, let created):
            switch target.command.envelope.payload {
            case .apply:
                return try await apply(target, entity, created: created)
            case .run:
                return try await run(target, entity)
            case .delete:
                return try await delete(target, entity)
            }
        }
    }

    /// `created`: the claim created the entity. Nothing the status could hold matters then (no
    /// run of this command, vendor objects that a create finds by slug anyway), so it is not read:
    /// the status write creates it, or reads and changes the one there is.
    private func apply(_ target: Target, _ claimed: Versioned<EntityRecord>, created: Bool) async throws -> CommandResult {
        var entity = claimed
        let spec = entity.document.manifest["resource"]?["spec"] ?? .null
        let status = created ? nil : try await store.read(StatusRecord.self, key: target.statusKey)
        var objects = entity.document.activeCommand?.vendor ?? status?.document.vendor ?? VendorObjects()
        if stage(entity) == .received {
            // Repeatable: a resumed command ensures again and finds what it created.
            objects = try await vendor.ensure(spec: spec, known: objects)
            let ensured = objects
            entity = try await advance(target, entity) { active in
                active.stage = .triggering
                active.triggerIntentAt = Date()
                active.vendor = ensured
            }
        }
        return try await triggerAndFinish(target, entity, spec: spec, objects: objects, status: status)
    }

    private func run(_ target: Target, _ claimed: Versioned<EntityRecord>) async throws -> CommandResult {
        let spec = claimed.document.manifest["resource"]?["spec"] ?? .null
        let status = try await store.read(StatusRecord.self, key: target.statusKey)
        guard let objects = status?.document.vendor, objects.syncID != nil else {
            throw VendorFailure(kind: .rejected, reason: "notApplied", message: "\(target.label) has no sync at the vendor yet; apply it first")
        }
        return try await triggerAndFinish(target, claimed, spec: spec, objects: objects, status: status)
    }

    /// Trigger (once), then record: the status first (vendor ids, the run tagged with this
    /// command), the follow-up second, the release of the resource last. A crash anywhere in
    /// between resumes at `triggering`, finds its run (on the status, or at the vendor since the
    /// intent), and repeats only idempotent writes; the follow-up is de-duplicated by run.
    private func triggerAndFinish(
        _ target: Target, _ entity: Versioned<EntityRecord>, spec: JSONValue, objects: VendorObjects, status: Versioned<StatusRecord>?
    ) async throws -> CommandResult {
        let runID = try await triggerOnce(target, entity, spec: spec, objects: objects, status: status?.document)
        let generation = entity.document.generation
        let run = RunRecord(id: runID, status: "queued", commandID: target.reference.id, checkedAt: Date())
        try await writeStatus(target, startingWith: status) { status in
            status.vendor = objects
            status.phase = .active
            status.observedGeneration = generation
            status.lastError = nil
            status.deletedAt = nil
            if status.currentRun?.id != runID, status.lastRun?.id != runID {
                if let previous = status.currentRun { status.lastRun = previous }
                status.currentRun = run
            }
        }
        if let syncID = objects.syncID {
            try await followUps.publish(
                FollowUp(workspace: target.workspace, name: target.name, syncID: syncID, runID: runID, commandID: target.reference.id)
            )
        }
        try await release(target, entity)
        return CommandResult(.ack, "triggered", "run \(runID)")
    }

    private func delete(_ target: Target, _ claimed: Versioned<EntityRecord>) async throws -> CommandResult {
        let status = try await store.read(StatusRecord.self, key: target.statusKey)
        try await vendor.retire(objects: status?.document.vendor ?? VendorObjects())
        let generation = claimed.document.generation
        try await writeStatus(target, startingWith: status) { status in
            status.phase = .deleted
            status.deletedAt = Date()
            status.observedGeneration = generation
            status.lastError = nil
            if let current = status.currentRun {
                status.lastRun = current
                status.currentRun = nil
            }
        }
        try await release(target, claimed)
        return CommandResult(.ack, "deleted", "vendor sync disabled")
    }

    /// Triggers a run once per command: a command resumed in the triggering stage first adopts a
    /// run created since its recorded intent (allowing for clock skew) that the status does not
    /// already know.
    private func triggerOnce(_ target: Target, _ entity: Versioned<EntityRecord>, spec: JSONValue, objects: VendorObjects, status: StatusRecord?) async throws -> String {
        let intent = entity.document.activeCommand?.triggerIntentAt ?? Date()
        if target.resumed {
            // Recorded already (a crash after the status write): that run is ours.
            for run in [status?.currentRun, status?.lastRun].compactMap({ $0 }) where run.commandID == target.reference.id {
                return run.id
            }
            let since = intent.addingTimeInterval(-settings.clockSkewMargin.seconds)
            let known = Set([status?.currentRun?.id, status?.lastRun?.id].compactMap { $0 })
            let candidates = try await vendor.runs(spec: spec, objects: objects, createdAtOrAfter: since).filter { !known.contains($0.id) }
            if let adopted = candidates.first {
                logger.notice(
                    "Adopted a run triggered before a crash",
                    metadata: [LoggingKeys.resource: "\(target.label)", LoggingKeys.run: "\(adopted.id)", LoggingKeys.command: "\(target.reference.id)"]
                )
                return adopted.id
            }
        }
        return try await vendor.trigger(spec: spec, objects: objects)
    }

    // MARK: - Claiming

    private enum Claim {
        /// `created`: the entity did not exist before this claim.
        case claimed(Versioned<EntityRecord>, created: Bool)
        case done(outcome: String, detail: String)
        case wait(Duration, String)
        case refuse(reason: String, message: String)
    }

    private func claim(_ target: Target) async throws -> Claim {
        let key = target.entityKey
        let reference = target.reference
        for _ in 0..<20 {
            let current = try await store.read(EntityRecord.self, key: key)
            let now = Date()
            if let entity = current?.document {
                if entity.version > EntityRecord.currentVersion {
                    return .wait(.seconds(30), "\(key) was written by a newer operator (version \(entity.version)); upgrade this replica")
                }
                if let active = entity.activeCommand {
                    if active.command.id == reference.id {
                        let silentFor = now.timeIntervalSince(active.heartbeatAt)
                        if active.owner != settings.instanceID, silentFor < settings.takeoverAfter.seconds {
                            return .wait(.seconds(max(1, settings.takeoverAfter.seconds - silentFor)), "held by \(active.owner)")
                        }
                        // Resume it: a crash or redelivery interrupted it, here or elsewhere.
                        var resumed = entity
                        resumed.activeCommand?.owner = settings.instanceID
                        resumed.activeCommand?.heartbeatAt = now
                        if let revision = try await store.update(resumed, key: key, revision: current!.revision) {
                            target.markResumed()
                            return .claimed(Versioned(document: resumed, revision: revision), created: false)
                        }
                        continue
                    }
                    if active.command.sequence > reference.sequence {
                        return .done(outcome: "superseded", detail: "a newer command (\(active.command.id)) is in progress")
                    }
                    let silentFor = now.timeIntervalSince(active.heartbeatAt)
                    guard silentFor > 4 * settings.takeoverAfter.seconds else {
                        return .wait(.seconds(1), "waiting for command \(active.command.id) on the same resource")
                    }
                    // An earlier command silent for so long is orphaned (its message is gone):
                    // this newer command replaces it.
                    logger.warning("Replacing an orphaned command", metadata: [LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(active.command.id)"])
                }
                if let last = entity.lastCommand {
                    if last.id == reference.id {
                        return .done(outcome: "duplicate", detail: "already done at sequence \(last.sequence)")
                    }
                    if last.sequence > reference.sequence {
                        return .done(outcome: "superseded", detail: "a newer command (\(last.id)) already took effect")
                    }
                }
            }
            guard let next = try await desiredEntity(target, current: current?.document, now: now) else {
                // Nothing to change: an unchanged apply, or a delete of what is not there.
                if case .apply = target.command.envelope.payload {
                    return .done(outcome: "unchanged", detail: "the spec is already applied")
                }
                return .done(outcome: "nothingToDelete", detail: "\(target.label) is not applied")
            }
            if case .refuse(let reason, let message) = next {
                return .refuse(reason: reason, message: message)
            }
            guard case .entity(let entity) = next else { continue }
            let revision: UInt64?
            if let current {
                revision = try await store.update(entity, key: key, revision: current.revision)
            } else {
                revision = try await store.create(entity, key: key)
            }
            if let revision { return .claimed(Versioned(document: entity, revision: revision), created: current == nil) }
        }
        return .wait(.seconds(1), "\(key) changes too often; trying again")
    }

    private enum Desired {
        case entity(EntityRecord)
        case refuse(reason: String, message: String)
    }

    /// The entity this command makes, with the command active; nil if there is nothing to do.
    private func desiredEntity(_ target: Target, current: EntityRecord?, now: Date) async throws -> Desired? {
        let reference = target.reference
        switch target.command.envelope.payload {
        case .apply(let manifest):
            let digest = SHA256.hexDigest(manifest.resource.spec.serializedBytes(sortedKeys: true))
            if let current, !current.deleted, current.specDigest == digest {
                let status = try await store.read(StatusRecord.self, key: target.statusKey)?.document
                if let status, status.phase == .active, status.observedGeneration == current.generation {
                    return nil
                }
            }
            let changed = current == nil || current?.deleted == true || current?.specDigest != digest
            return .entity(EntityRecord(
                workspace: target.workspace, name: target.name, type: manifest.resource.type,
                owner: manifest.meta.additionalFields["owner"]?.stringValue ?? current?.owner,
                manifest: manifest.jsonValue, specDigest: digest,
                generation: (current?.generation ?? 0) + (changed ? 1 : 0), deleted: false,
                lastCommand: current?.lastCommand,
                activeCommand: ActiveCommand(command: reference, owner: settings.instanceID, heartbeatAt: now, stage: .received),
                createdAt: current?.createdAt ?? now, updatedAt: now
            ))
        case .run:
            guard var current, !current.deleted else {
                return .refuse(reason: "notApplied", message: "\(target.label) is not applied; apply it before asking for a run")
            }
            current.activeCommand = ActiveCommand(command: reference, owner: settings.instanceID, heartbeatAt: now, stage: .triggering, triggerIntentAt: now)
            current.updatedAt = now
            return .entity(current)
        case .delete:
            guard var current, !current.deleted else { return nil }
            current.deleted = true
            current.generation += 1
            current.activeCommand = ActiveCommand(command: reference, owner: settings.instanceID, heartbeatAt: now, stage: .received)
            current.updatedAt = now
            return .entity(current)
        }
    }

    // MARK: - Stage bookkeeping

    private func stage(_ entity: Versioned<EntityRecord>) -> ActiveCommand.Stage? {
        entity.document.activeCommand?.stage
    }

    /// Moves the active command on, if it is still ours.
    private func advance(_ target: Target, _ entity: Versioned<EntityRecord>, _ change: (inout ActiveCommand) -> Void) async throws -> Versioned<EntityRecord> {
        var next = entity.document
        guard var active = next.activeCommand, active.command.id == target.reference.id else {
            throw OwnershipLost(description: "\(target.label): the command is no longer active")
        }
        change(&active)
        active.heartbeatAt = Date()
        next.activeCommand = active
        next.updatedAt = Date()
        guard let revision = try await store.update(next, key: target.entityKey, revision: entity.revision) else {
            throw OwnershipLost(description: "\(target.label): another replica took the command over")
        }
        return Versioned(document: next, revision: revision)
    }

    /// Ends the command: the resource is free, and the command is remembered as its last.
    private func release(_ target: Target, _ entity: Versioned<EntityRecord>) async throws {
        var next = entity.document
        guard next.activeCommand?.command.id == target.reference.id else {
            throw OwnershipLost(description: "\(target.label): the command is no longer active")
        }
        next.activeCommand = nil
        next.lastCommand = target.reference
        next.updatedAt = Date()
        guard try await store.update(next, key: target.entityKey, revision: entity.revision) != nil else {
            throw OwnershipLost(description: "\(target.label): another replica took the command over")
        }
    }

    /// Writes the status with compare-and-set from the version read earlier; on a lost race
    /// (a follower recorded a look meanwhile) reads again and reapplies `change`.
    private func writeStatus(_ target: Target, startingWith read: Versioned<StatusRecord>?, _ change: @escaping (inout StatusRecord) -> Void) async throws {
        var status = read?.document ?? target.newStatus()
        change(&status)
        status.updatedAt = Date()
        let written: UInt64?
        if let read {
            written = try await store.update(status, key: target.statusKey, revision: read.revision)
        } else {
            written = try await store.create(status, key: target.statusKey)
        }
        if written == nil {
            _ = try await updateStatus(target, change)
        }
    }

    private func updateStatus(_ target: Target, _ change: @escaping (inout StatusRecord) -> Void) async throws -> Versioned<StatusRecord> {
        let updated = try await store.modify(StatusRecord.self, key: target.statusKey) { current in
            var status = current ?? target.newStatus()
            change(&status)
            status.updatedAt = Date()
            return status
        }
        guard let updated else { throw StateDocumentError(key: target.statusKey, message: "could not be written") }
        return updated
    }

    // MARK: - Failures

    /// A command that can never succeed: dead-letter it, say why on its resource, terminate.
    private func refuse(_ delivery: CommandDelivery, reason: String, message: String) async -> CommandResult {
        let identity = CommandIdentity.identify(delivery.payload)
        let workspace = identity.workspace?.rawValue
        let name = identity.resourceName?.rawValue
        do {
            try await deadLetters.record(delivery, reason: reason, message: message, workspace: workspace, resource: name)
            if let workspace, let name {
                let key = StateStore.statusKey(workspace: workspace, name: name)
                try await store.modify(StatusRecord.self, key: key) { current in
                    var status = current ?? StatusRecord(workspace: workspace, name: name, type: ResourceTypeRegistry.defaultResourceType, phase: .error, at: Date())
                    status.lastError = ErrorRecord(reason: reason, message: message, commandID: delivery.commandID, at: Date())
                    if status.phase != .deleted { status.phase = .error }
                    status.updatedAt = Date()
                    return status
                }
            }
        } catch {
            // Nothing may be lost: if the refusal cannot be recorded, try again later.
            logger.warning("Could not record a refused command; will retry", metadata: ["error": "\(error)", LoggingKeys.sequence: "\(delivery.streamSequence)"])
            return CommandResult(.nak(delay: backoff(delivery.deliveryCount)), "retrying", "recording the refusal failed: \(error)")
        }
        return CommandResult(.term, "refused", "\(reason): \(message)")
    }

    private func vendorFailed(_ target: Target, _ failure: VendorFailure) async -> CommandResult {
        switch failure.kind {
        case .rejected:
            return await fail(target, reason: failure.reason, message: failure.message, outcome: "failed")
        case .transient, .unauthorized:
            return await transientFailure(target, reason: failure.reason, message: failure.message)
        }
    }

    private func transientFailure(_ target: Target, reason: String, message: String) async -> CommandResult {
        if target.delivery.deliveryCount >= settings.maxAttempts {
            return await fail(target, reason: "gaveUp", message: "gave up after \(target.delivery.deliveryCount) attempts; last error: \(reason): \(message)", outcome: "gaveUp")
        }
        // Say why on the status while retrying; best effort. Not once the status holds this
        // command's run: another delivery finished it meanwhile, and a stale "retrying" would
        // outlive the success.
        _ = try? await store.modify(StatusRecord.self, key: target.statusKey) { current in
            let id = target.reference.id
            var status = current ?? target.newStatus()
            if status.currentRun?.commandID == id || status.lastRun?.commandID == id { return nil }
            status.lastError = ErrorRecord(reason: reason, message: message + " (attempt \(target.delivery.deliveryCount), retrying)", commandID: id, at: Date())
            status.updatedAt = Date()
            return status
        }
        return CommandResult(.nak(delay: backoff(target.delivery.deliveryCount)), "retrying", "\(reason): \(message)")
    }

    /// A command that failed for good: say why, dead-letter it, free the resource, terminate.
    private func fail(_ target: Target, reason: String, message: String, outcome: String) async -> CommandResult {
        do {
            try await deadLetters.record(target.delivery, reason: reason, message: message, workspace: target.workspace, resource: target.name)
            _ = try await updateStatus(target) { status in
                status.phase = .error
                status.lastError = ErrorRecord(reason: reason, message: message, commandID: target.reference.id, at: Date())
            }
            if let entity = try await store.read(EntityRecord.self, key: target.entityKey), entity.document.activeCommand?.command.id == target.reference.id {
                try await release(target, entity)
            }
        } catch let lost as OwnershipLost {
            return CommandResult(.abandon, "lostOwnership", lost.description)
        } catch {
            logger.warning("Could not record a failed command; will retry", metadata: ["error": "\(error)", LoggingKeys.command: "\(target.reference.id)"])
            return CommandResult(.nak(delay: backoff(target.delivery.deliveryCount)), "retrying", "recording the failure failed: \(error)")
        }
        return CommandResult(.term, outcome, "\(reason): \(message)")
    }

    /// 1 s, 2 s, 4 s … up to a minute, with jitter so replicas do not retry in step.
    func backoff(_ deliveries: Int) -> Duration {
        let base = min(60.0, pow(2.0, Double(max(0, deliveries - 1))))
        return .milliseconds(Int(base * 1000 * Double.random(in: 0.75...1.25)))
    }
}

// MARK: - Helpers

/// The command being processed, and the names derived from it once.
final class Target: @unchecked Sendable {
    // @unchecked: `resumed` is written once, during the claim, before any concurrent use.
    let command: ValidatedCommand
    let delivery: CommandDelivery
    let reference: CommandReference
    let workspace: String
    let name: String
    let resourceType: String
    private(set) var resumed = false

    init(command: ValidatedCommand, delivery: CommandDelivery) {
        self.command = command
        self.delivery = delivery
        self.workspace = command.envelope.workspace.rawValue
        self.name = command.envelope.resource.name.rawValue
        self.resourceType = command.envelope.resource.type
        self.reference = CommandReference(
            id: delivery.commandID, sequence: delivery.streamSequence, operation: command.envelope.operation.rawValue, receivedAt: Date()
        )
    }

    func markResumed() { resumed = true }

    var entityKey: String { StateStore.entityKey(workspace: workspace, name: name) }
    var statusKey: String { StateStore.statusKey(workspace: workspace, name: name) }
    var label: String { "\(workspace)/\(name)" }

    /// The status of a resource that has none yet.
    func newStatus() -> StatusRecord {
        StatusRecord(workspace: workspace, name: name, type: resourceType, phase: .pending, at: Date())
    }
}

/// This replica no longer owns the command: another took it over.
struct OwnershipLost: Error, CustomStringConvertible {
    let description: String
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
