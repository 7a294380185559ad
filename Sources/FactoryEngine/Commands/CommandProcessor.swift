import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage
import Logging
import Synchronization
import VendorHTTP

/// Turns one command delivery into vendor calls and state, exactly once per command whatever
/// crashes, redeliveries and duplicate publishes happen (see docs/state.md for the protocol). One
/// processor serves one resource type, through that type's driver; it knows no vendor.
///
/// 1. Validate; a bad command is dead-lettered, reported on its resource's status, terminated.
/// 2. Claim the resource: a compare-and-set on its entity that records the command as active
///    (``ClaimPolicy`` decides, this type reads and writes). Commands for one resource take effect
///    in stream order: an older one arriving late is superseded, a newer one waits for the active
///    one. The last command's id makes a repeated command (even published again after the
///    duplicate window) a no-op.
/// 3. Work in stages, each recorded on the entity with compare-and-set; a replica that lost the
///    command fails its next write and abandons it without acknowledging.
/// 4. Trigger once: the intent is recorded before the call; a resumed command first looks for a
///    run it may have caused (the driver's resume check).
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
    let driver: AnyResourceDriver
    let validator: CommandValidator
    let deadLetters: any DeadLetterRecorder
    let followUps: any FollowUpPublisher
    let settings: Settings
    let logger: Logger
    /// The command subjects of the other types this process hosts, to say where a command of
    /// another type belongs.
    let otherSubjects: [String: String]
    /// Publishes each run's lineage events after the status write that records the transition
    /// (nil: no lineage).
    let lineage: LineageEmitter?
    /// Commands this replica is handling right now. A second delivery of one of them (a NATS
    /// server that lost its consumer state redelivers a message its holder is still working on)
    /// must not resume it beside the first: both could trigger.
    private let handling = Mutex<Set<String>>([])

    public init(
        store: StateStore, driver: AnyResourceDriver, validator: CommandValidator, deadLetters: any DeadLetterRecorder,
        followUps: any FollowUpPublisher, settings: Settings, logger: Logger, otherSubjects: [String: String] = [:],
        lineage: LineageEmitter? = nil
    ) {
        self.store = store
        self.driver = driver
        var validator = validator
        validator.defaultType = driver.type
        self.validator = validator
        self.deadLetters = deadLetters
        self.followUps = followUps
        self.settings = settings
        self.logger = logger
        self.otherSubjects = otherSubjects
        self.lineage = lineage
    }

    /// The resource type served.
    public var type: String { driver.type }

    /// Never throws and never crashes on input: every path ends in a disposition.
    public func process(_ delivery: CommandDelivery) async -> CommandResult {
        let command: ValidatedCommand
        switch validator.validate(delivery.payload) {
        case .failure(let rejection):
            return await refuse(delivery, reason: rejection.reason.rawValue, message: rejection.description)
        case .success(let validated):
            command = validated
        }
        guard command.resourceType.name == type else {
            let other = command.resourceType.name
            let message = otherSubjects[other].map { "\(other) commands are served on \($0), not here (\(type))" }
                ?? "this deployment serves \(type) resources, not \(other)"
            return await refuse(delivery, reason: "wrongSubject", message: message)
        }
        var prepared: AnyResourceDriver.PreparedSpec?
        if case .apply(let manifest) = command.envelope.payload {
            do throws(VendorFailure) {
                prepared = try driver.prepare(spec: manifest.resource.spec)
            } catch {
                return await refuse(delivery, reason: error.reason, message: "the \(type) driver refuses the spec: \(error.message)")
            }
        }
        let target = Target(command: command, delivery: delivery, type: type)
        target.prepared = prepared
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
        } catch let unreadable as StateDocumentError {
            return await transientFailure(target, reason: unreadable.code, message: unreadable.description)
        } catch {
            return await transientFailure(target, reason: "stateUnavailable", message: "\(error)")
        }
    }

    // MARK: - Execution

    private func execute(_ target: Target) async throws -> CommandResult {
        switch try await claim(target) {
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
            case .cancel:
                return try await cancel(target, entity)
            }
        }
    }

    /// `created`: the claim created the entity. Nothing the status could hold matters then (no
    /// run of this command, vendor objects that an ensure finds anyway), so it is not read: the
    /// status write creates it, or reads and changes the one there is.
    private func apply(_ target: Target, _ claimed: Versioned<EntityRecord>, created: Bool) async throws -> CommandResult {
        var entity = claimed
        // Decoded when the command was validated; the entity holds the same spec.
        let spec = try target.prepared ?? driver.prepare(spec: entity.document.spec)
        var status = created ? nil : try await store.read(StatusRecord.self, key: target.statusKey)
        var objects = entity.document.activeCommand?.objects ?? status?.document.objects
        if !driver.descriptor.runsOnApply {
            return try await applyWithoutRun(target, entity, spec: spec, known: objects, status: status)
        }
        if entity.document.activeCommand?.stage == .received {
            // Repeatable: a resumed command ensures again and finds what it created (the driver
            // takes an object that matches the spec as its own, so a lost create answer is taken
            // silently; one that differs only with `adopt`). Recorded objects that vanished with
            // someone else's under their names are drift, refused as on the drift paths; a new
            // resource's slug collision is not.
            let ensured = try await ensure(
                target, spec: spec, known: objects, context: EnsureContext(adopt: target.command.envelope.adopt), drift: objects != nil
            )
            if !ensured.adopted.isEmpty {
                // Recorded before the trigger, with the objects: a resumed command would find them
                // matching the spec and not know it took them over.
                status = try await recordAdoption(target, ensured)
            }
            let baseline = try await driver.baseline(spec: spec, objects: ensured.objects)
            objects = ensured.objects
            entity = try await advance(target, entity) { active in
                active.stage = .triggering
                active.triggerIntentAt = Date()
                active.objects = ensured.objects
                active.baseline = baseline
            }
        }
        guard let objects else {
            throw StateDocumentError(key: target.entityKey, message: "the command is triggering without vendor objects recorded")
        }
        return try await triggerAndFinish(target, entity, spec: spec, objects: objects, status: status)
    }

    /// An apply of a type whose runs come from `run` commands only (`runsOnApply` false): the
    /// objects ensured (repeatable) and recorded with the generation observed; nothing triggered.
    private func applyWithoutRun(
        _ target: Target, _ entity: Versioned<EntityRecord>, spec: AnyResourceDriver.PreparedSpec, known: JSONValue?, status: Versioned<StatusRecord>?
    ) async throws -> CommandResult {
        let ensured = try await driver.ensure(spec: spec, known: known)
        let generation = entity.document.generation
        try await writeStatus(target, startingWith: status) { status in
            status.objects = ensured
            status.phase = .active
            status.observedGeneration = generation
            status.lastError = nil
            status.deletedAt = nil
        }
        try await release(target, entity)
        return CommandResult(.ack, "applied", "generation \(generation) applied; runs come from run commands")
    }

    private func run(_ target: Target, _ claimed: Versioned<EntityRecord>) async throws -> CommandResult {
        var entity = claimed
        let spec = try driver.prepare(spec: entity.document.spec)
        let status = try await store.read(StatusRecord.self, key: target.statusKey)
        guard let objects = status?.document.objects else {
            throw VendorFailure(kind: .rejected, reason: "notApplied", message: "\(target.label) has nothing at the vendor yet; apply it first")
        }
        if entity.document.activeCommand?.baseline == nil, let baseline = try await driver.baseline(spec: spec, objects: objects) {
            // Nothing can have been triggered before the baseline is recorded: no resume check.
            entity = try await advance(target, entity) { active in
                active.baseline = baseline
                active.triggerIntentAt = Date()
            }
            target.markFresh()
        }
        do {
            return try await triggerAndFinish(target, entity, spec: spec, objects: objects, status: status)
        } catch let failure as VendorFailure where failure.kind == .gone {
            // The recorded objects vanished at the vendor (deleted out of band, or a vendor that
            // forgot them): ensured again from the desired spec, the repair recorded, and the run
            // triggered on them. The failed trigger created no run, so this is still one run.
            // Someone else's object under their names is not taken over: refused, and the
            // resource waits in `error` for `apply --adopt`.
            let repaired = try await ensure(target, spec: spec, known: objects, context: .standard, drift: true).objects
            let commandID = target.reference.id
            let written = try await updateStatus(target) { status in
                status.objects = repaired
                status.lastDrift = DriftRecord(
                    found: failure.message, repair: "ensured the objects again from the desired spec", kind: "onUse", commandID: commandID, at: Date()
                )
            }
            OperatorMetrics.driftRepaired(type: type, kind: "onUse")
            logger.notice("Repaired vanished vendor objects", metadata: [LoggingKeys.resource: "\(target.label)", "found": "\(failure.message)"])
            return try await triggerAndFinish(target, entity, spec: spec, objects: repaired, status: written)
        }
    }

    /// An apply took objects over (`adopt`): the status records them as the resource's, and the
    /// adoption as its `lastDrift` (kind `adopted`), before anything is triggered on them.
    private func recordAdoption(_ target: Target, _ ensured: Ensured<JSONValue>) async throws -> Versioned<StatusRecord> {
        let commandID = target.reference.id
        let found = ensured.adopted.map(\.description).joined(separator: "; ")
        let written = try await updateStatus(target) { status in
            status.objects = ensured.objects
            status.lastDrift = DriftRecord(
                found: found, repair: "taken over and updated to the spec, as the apply asked (adopt)", kind: "adopted", commandID: commandID, at: Date()
            )
        }
        OperatorMetrics.driftRepaired(type: type, kind: "adopted")
        logger.notice("Took over vendor objects that were not this resource's", metadata: [LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(commandID)", "found": "\(found)"])
        return written
    }

    /// The driver's ensure. `drift`: the recorded objects are being ensured again, so a refusal
    /// to take over someone else's object under their names (`foreignObject`) is drift that is
    /// not repaired: counted (`kind: foreign`) and logged. The command then fails with the
    /// refusal, as any `.rejected` one.
    private func ensure(
        _ target: Target, spec: AnyResourceDriver.PreparedSpec, known: JSONValue?, context: EnsureContext, drift: Bool
    ) async throws(VendorFailure) -> Ensured<JSONValue> {
        do throws(VendorFailure) {
            return try await driver.ensure(spec: spec, known: known, context: context)
        } catch {
            if drift, error.isForeignObject {
                OperatorMetrics.driftRepaired(type: type, kind: "foreign")
                logger.warning(
                    "Refused to take over a vendor object that is not this resource's",
                    metadata: [
                        LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(target.reference.id)",
                        "op": "\(target.reference.operation)", "error": "\(error.message)",
                    ]
                )
            }
            throw error
        }
    }

    /// Trigger (once), then record: the status first (objects, the run under this command's key),
    /// the follow-up second, the release of the resource last. A crash anywhere in between resumes
    /// at `triggering`, finds its run (on the status, or at the vendor since the intent), and
    /// repeats only idempotent writes; the follow-up is de-duplicated by run.
    private func triggerAndFinish(
        _ target: Target, _ entity: Versioned<EntityRecord>, spec: AnyResourceDriver.PreparedSpec, objects: JSONValue, status: Versioned<StatusRecord>?
    ) async throws -> CommandResult {
        var entity = entity
        let run = try await triggerOnce(target, &entity, spec: spec, objects: objects, status: status?.document)
        let generation = entity.document.generation
        let written = try await writeStatus(target, startingWith: status) { status in
            status.objects = objects
            status.phase = .active
            status.observedGeneration = generation
            status.lastError = nil
            status.deletedAt = nil
            status.start(run)
        }
        if let recorded = written.run(key: run.key), !Self.same(recorded, vendorRunID: run.vendorRunID, reference: run.reference) {
            // Another holder of this command recorded its own trigger first: it stalled inside
            // its trigger call past the takeover (docs/state.md, "What is not covered"). The
            // status keeps the first; this run is at the vendor but followed by nobody.
            logger.error(
                "Triggered a second run for a command another replica triggered too",
                metadata: [
                    LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(run.key)",
                    "run.recorded": "\(recorded.displayID)", "run.extra": "\(run.displayID)",
                ]
            )
        }
        if let lineage {
            // The run as recorded, with its outbox (a resumed command finds what was published).
            let specJSON = spec.json
            await lineage.flush(workspace: target.workspace, name: target.name, run: written.run(key: run.key) ?? run, objects: objects, spec: { specJSON })
        }
        if run.isFinished {
            OperatorMetrics.runFinished(status: run.phase.rawValue)
        } else {
            try await followUps.publish(FollowUp(workspace: target.workspace, name: target.name, runKey: run.key))
        }
        try await release(target, entity)
        return CommandResult(.ack, "triggered", "run \(run.displayID)")
    }

    private func delete(_ target: Target, _ claimed: Versioned<EntityRecord>) async throws -> CommandResult {
        let status = try await store.read(StatusRecord.self, key: target.statusKey)
        if let objects = status?.document.objects {
            try await driver.retire(objects: objects, spec: claimed.document.spec)
        }
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
        return CommandResult(.ack, "deleted", "vendor objects retired")
    }

    /// Cancels the run in progress (or the run the command names) where the vendor can, in the
    /// command's mode, and records what the vendor then says of it (the follower goes on looking
    /// until it has ended). Nothing in progress, or a vendor that cannot cancel: said on the
    /// status, nothing else changes.
    private func cancel(_ target: Target, _ claimed: Versioned<EntityRecord>) async throws -> CommandResult {
        let options = target.command.envelope.options
        let status = try await store.read(StatusRecord.self, key: target.statusKey)
        let store = self.store
        let entityKey = target.entityKey
        let spec: AnyResourceDriver.SpecSource = { () async throws(VendorFailure) -> JSONValue in
            do {
                return try await store.read(EntityRecord.self, key: entityKey)?.document.spec ?? .null
            } catch {
                throw VendorFailure(kind: .transient, reason: "stateUnavailable", message: "reading \(entityKey): \(error)")
            }
        }
        let run: RunRecord
        let objects: JSONValue
        if let named = options.run {
            // A run named by id: the status's current or last (by key or vendor id), else the
            // driver's (a pipeline keeps every run). Unknown or ended: said, nothing else.
            let recorded = [status?.document.currentRun, status?.document.lastRun].compactMap { $0 }.first { $0.key == named || $0.vendorRunID == named }
            guard let known = status?.document.objects else {
                return try await refuseCancel(target, claimed, reason: "unknownRun", message: "\(target.label) has no run \(named): nothing was ever run")
            }
            var found = recorded
            if found == nil { found = try await driver.run(named: named, workspace: target.workspace, name: target.name, objects: known, spec: spec) }
            guard let found else {
                return try await refuseCancel(target, claimed, reason: "unknownRun", message: "\(target.label) has no run \(named); nothing was cancelled")
            }
            guard !found.isFinished else {
                return try await refuseCancel(
                    target, claimed, reason: "runEnded", message: "run \(found.displayID) of \(target.label) already ended (\(found.vendorStatus)); nothing was cancelled")
            }
            run = found
            objects = known
        } else {
            guard let current = status?.document.currentRun, !current.isFinished, let known = status?.document.objects else {
                try await release(target, claimed)
                return CommandResult(.ack, "nothingToCancel", "\(target.label) has no run in progress")
            }
            run = current
            objects = known
        }
        guard driver.canCancel else {
            let message = "\(driver.descriptor.displayName) runs cannot be cancelled through its API; run \(run.displayID) goes on"
            return try await refuseCancel(target, claimed, reason: "cancelUnsupported", message: message)
        }
        if let ended = try await cancelUnlessEnded(run, objects: objects, spec: spec, mode: options.mode ?? .stop) {
            // The driver saw the run ended before the status did (its follower lags a moment).
            return try await refuseCancel(target, claimed, reason: ended.reason, message: ended.message)
        }
        if let observation = try? await driver.observe(run, objects: objects, spec: spec) {
            let key = run.key
            let now = Date()
            let written = try await store.modify(StatusRecord.self, key: target.statusKey) { current in
                guard var status = current, var recorded = status.run(key: key) else { return nil }
                recorded.apply(observation, at: now)
                status.record(recorded)
                status.updatedAt = now
                return status
            }
            if let lineage, let recorded = written?.document.run(key: key) {
                await lineage.flush(workspace: target.workspace, name: target.name, run: recorded, objects: objects, spec: { try? await spec() })
            }
        }
        try await release(target, claimed)
        return CommandResult(.ack, "cancelled", "run \(run.displayID)")
    }

    /// The driver's cancel; the driver's ``VendorFailure/runEnded(_:)`` refusal returned, not thrown.
    private func cancelUnlessEnded(_ run: RunRecord, objects: JSONValue, spec: @escaping AnyResourceDriver.SpecSource, mode: CancelMode) async throws(VendorFailure) -> VendorFailure? {
        do {
            try await driver.cancel(run, objects: objects, spec: spec, mode: mode)
            return nil
        } catch {
            guard error.reason == VendorFailure.runEndedReason else { throw error }
            return error
        }
    }

    /// A cancel that cannot do anything: why, on the status's `lastError` (its phase unchanged),
    /// and the resource freed.
    private func refuseCancel(_ target: Target, _ claimed: Versioned<EntityRecord>, reason: String, message: String) async throws -> CommandResult {
        _ = try await updateStatus(target) { status in
            status.lastError = ErrorRecord(reason: reason, message: message, commandID: target.reference.id, at: Date())
        }
        try await release(target, claimed)
        return CommandResult(.ack, reason, message)
    }

    /// Triggers a run once per command: a command resumed in the triggering stage first adopts
    /// its run, recorded on the status or found by the driver's resume check (and not already
    /// another command's).
    private func triggerOnce(
        _ target: Target, _ entity: inout Versioned<EntityRecord>, spec: AnyResourceDriver.PreparedSpec, objects: JSONValue, status: StatusRecord?
    ) async throws -> RunRecord {
        let key = target.reference.id
        let active = entity.document.activeCommand
        let intent = active?.triggerIntentAt ?? Date()
        if target.resumed {
            var status = status
            if target.takenOver, settings.takeoverAfter > .zero, entity.document.activeCommand?.stage == .triggering {
                // Taken over from a holder that went silent: it may be alive and stalled inside
                // its trigger call (a request queued behind a rate limit or a starved vendor). A
                // grace period lets such a trigger land, at the vendor for the resume check or
                // on the status, before this replica looks; the fence then confirms the command
                // is still ours. A crashed holder costs this much more recovery time.
                try await Task.sleep(for: min(settings.takeoverAfter, .seconds(5)))
                status = try await store.read(StatusRecord.self, key: target.statusKey)?.document
                entity = try await fence(target, entity)
            }
            // Recorded already (a crash after the status write): that run is ours.
            if let recorded = status?.run(key: key) { return recorded }
            let point = ResumePoint<StoredBaseline>(
                commandID: key, intentAt: intent, since: intent.addingTimeInterval(-settings.clockSkewMargin.seconds),
                baseline: active?.baseline.map(StoredBaseline.init(driverJSON:)), workspace: target.workspace, name: target.name
            )
            let known = [status?.currentRun, status?.lastRun].compactMap { $0 }
            let candidates = try await driver.runs(since: point, spec: spec, objects: objects).filter { found in
                !known.contains { Self.same($0, found) }
            }
            if let adopted = candidates.first {
                logger.notice(
                    "Adopted a run triggered before a crash",
                    metadata: [
                        LoggingKeys.resource: "\(target.label)", LoggingKeys.run: "\(adopted.observation.vendorRunID ?? key)", LoggingKeys.command: "\(key)",
                    ]
                )
                return record(target, adopted, spec: spec, intent: intent)
            }
            logger.info(
                "Resumed a command that has no run yet; triggering",
                metadata: [
                    LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(key)", "takenOver": "\(target.takenOver)",
                    "known": "\(known.map(\.displayID))", "since": "\(point.since)",
                ]
            )
        }
        entity = try await fence(target, entity)
        if target.delivery.deliveryCount > 1 {
            // What to look at first if a redelivered command ever triggers twice.
            logger.info(
                "Triggering a redelivered command",
                metadata: [
                    LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(key)", "deliveries": "\(target.delivery.deliveryCount)",
                    "resumed": "\(target.resumed)", "takenOver": "\(target.takenOver)", "entity.revision": "\(entity.revision)",
                    "stage": "\(entity.document.activeCommand?.stage.rawValue ?? "none")",
                    "status.current": "\(status?.currentRun.map { "\($0.key)=\($0.displayID)" } ?? "none")",
                    "status.last": "\(status?.lastRun.map { "\($0.key)=\($0.displayID)" } ?? "none")",
                ]
            )
        }
        let options = target.command.envelope.options
        let context = TriggerContext(commandID: key, intentAt: intent, event: options.event, input: options.input, workspace: target.workspace, name: target.name)
        let triggered = try await fencedAtSend(target, &entity) { try await self.driver.trigger(spec: spec, objects: objects, context: context) }
        return record(target, triggered, spec: spec, intent: intent)
    }

    /// Runs `trigger` with the fence again right before each request leaves for the vendor
    /// (``VendorSendGuard``, after the request's rate-limit permit): a trigger queued behind a
    /// busy client's rate limit waits up to a whole window (Census: 10 s), longer than the
    /// takeover time, and a replica that took the command over meanwhile would trigger it too.
    /// A lost claim ends the command here (``OwnershipLost``) with nothing sent.
    private func fencedAtSend<Result: Sendable>(
        _ target: Target, _ entity: inout Versioned<EntityRecord>, _ trigger: @Sendable () async throws -> Result
    ) async throws -> Result {
        let fenced = FencedClaim(entity)
        let check: @Sendable () async throws -> Void = { [self] in
            do {
                fenced.renewed(try await fence(target, fenced.claim))
            } catch let error as OwnershipLost {
                fenced.lost(error)
                throw error
            }
        }
        do {
            let result = try await VendorSendGuard.$current.withValue(VendorSendGuard(check)) { try await trigger() }
            entity = fenced.claim
            return result
        } catch {
            entity = fenced.claim
            // The driver may have wrapped the guard's error as a failure of its own.
            if let lost = fenced.lostOwnership { throw lost }
            throw error
        }
    }

    /// The run as the status records it, with the parent its command names; its deadline counts
    /// from the intent.
    private func record(_ target: Target, _ found: AnyResourceDriver.FoundRun, spec: AnyResourceDriver.PreparedSpec, intent: Date) -> RunRecord {
        var run = RunRecord(key: target.reference.id, reference: found.reference, observation: found.observation, at: Date())
        run.parent = target.command.envelope.options.parent
        if let timeout = driver.runTimeout(spec: spec) {
            run.deadline = intent.addingTimeInterval(timeout.seconds)
        }
        return run
    }

    /// Whether a run found at the vendor is one the status records already.
    private static func same(_ recorded: RunRecord, _ found: AnyResourceDriver.FoundRun) -> Bool {
        same(recorded, vendorRunID: found.observation.vendorRunID, reference: found.reference)
    }

    /// Whether `recorded` is the vendor run named by this id (where both have one) or reference.
    private static func same(_ recorded: RunRecord, vendorRunID: String?, reference: JSONValue?) -> Bool {
        if let id = recorded.vendorRunID, let other = vendorRunID { return id == other }
        return recorded.reference == reference
    }

    // MARK: - Claiming

    private enum Claim {
        /// `created`: the entity did not exist before this claim.
        case claimed(Versioned<EntityRecord>, created: Bool)
        case done(outcome: String, detail: String)
        case wait(Duration, String)
        case refuse(reason: String, message: String)
    }

    /// The compare-and-set loop around ``ClaimPolicy``.
    private func claim(_ target: Target) async throws -> Claim {
        let key = target.entityKey
        var request = target.claimRequest(instanceID: settings.instanceID, takeoverAfter: settings.takeoverAfter)
        request.everyRunCommandRuns = driver.descriptor.everyRunCommandRuns
        for _ in 0..<20 {
            let current = try await store.read(EntityRecord.self, key: key)
            let now = Date()
            var decision = ClaimPolicy.decide(request, entity: current?.document, status: nil, statusRead: false, now: now)
            if case .needsStatus = decision {
                let status = try await store.read(StatusRecord.self, key: target.statusKey)?.document
                decision = ClaimPolicy.decide(request, entity: current?.document, status: status, statusRead: true, now: now)
            }
            switch decision {
            case .done(let outcome, let detail):
                return .done(outcome: outcome, detail: detail)
            case .wait(let delay, let detail):
                return .wait(delay, detail)
            case .refuse(let reason, let message):
                return .refuse(reason: reason, message: message)
            case .needsStatus:
                return .wait(.seconds(1), "the claim of \(target.label) could not be decided; trying again")
            case .write(let entity, let resumed, let replacing):
                if let replacing {
                    logger.warning("Replacing an orphaned command", metadata: [LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(replacing)"])
                }
                let revision: UInt64?
                if let current {
                    revision = try await store.update(entity, key: key, revision: current.revision)
                } else {
                    revision = try await store.create(entity, key: key)
                }
                guard let revision else { continue }
                if !resumed, target.delivery.deliveryCount > 1 {
                    // Rare (a command redelivered before any replica claimed it), and what to
                    // look at first if a command ever takes effect twice.
                    logger.info(
                        "Claimed a redelivered command that no replica held",
                        metadata: [
                            LoggingKeys.resource: "\(target.label)", LoggingKeys.command: "\(target.reference.id)",
                            LoggingKeys.sequence: "\(target.reference.sequence)", "deliveries": "\(target.delivery.deliveryCount)",
                            "entity.revision": "\(current.map { String($0.revision) } ?? "none")",
                            "entity.active": "\(current?.document.activeCommand.map { "\($0.command.id)@\($0.command.sequence)" } ?? "none")",
                            "entity.last": "\(current?.document.lastCommand.map { "\($0.id)@\($0.sequence)" } ?? "none")",
                        ]
                    )
                }
                if resumed {
                    let holder = current?.document.activeCommand?.owner
                    target.markResumed(takenOver: holder != nil && holder != settings.instanceID)
                }
                return .claimed(Versioned(document: entity, revision: revision), created: current == nil)
            }
        }
        return .wait(.seconds(1), "\(key) changes too often; trying again")
    }

    // MARK: - Stage bookkeeping

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

    /// Right before a trigger: if this replica last wrote its claim more than half the takeover
    /// time ago (it stalled: a slow status read, a resume check at the vendor, CPU starvation),
    /// another replica may have taken the command over and be triggering it; the claim is written
    /// again by compare-and-set, and a lost one abandons the command before the vendor is called.
    /// A claim written moments ago costs nothing. What is left is a stall inside the trigger call
    /// itself (docs/state.md, "What is not covered").
    private func fence(_ target: Target, _ entity: Versioned<EntityRecord>) async throws -> Versioned<EntityRecord> {
        guard let heartbeat = entity.document.activeCommand?.heartbeatAt, Date().timeIntervalSince(heartbeat) > settings.takeoverAfter.seconds / 2 else {
            return entity
        }
        return try await advance(target, entity) { _ in }
    }

    /// Ends the command: the resource is free, and the command is remembered as its last.
    private func release(_ target: Target, _ entity: Versioned<EntityRecord>) async throws {
        var next = entity.document
        guard next.activeCommand?.command.id == target.reference.id else {
            throw OwnershipLost(description: "\(target.label): the command is no longer active")
        }
        next.activeCommand = nil
        // An older run that took effect after a newer command (a driver whose every run command
        // runs) leaves the newer one as the last: commands before it stay superseded. A cancel is
        // not remembered at all: it takes no part in stream order (ClaimPolicy).
        let newerIsLast = next.lastCommand.map { $0.sequence > target.reference.sequence } ?? false
        if !target.reference.isCancel, !newerIsLast { next.lastCommand = target.reference }
        next.updatedAt = Date()
        guard try await store.update(next, key: target.entityKey, revision: entity.revision) != nil else {
            throw OwnershipLost(description: "\(target.label): another replica took the command over")
        }
    }

    /// Writes the status with compare-and-set from the version read earlier; on a lost race
    /// (a follower recorded a look meanwhile) reads again and reapplies `change`.
    @discardableResult
    private func writeStatus(_ target: Target, startingWith read: Versioned<StatusRecord>?, _ change: @escaping (inout StatusRecord) -> Void) async throws -> StatusRecord {
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
            return try await updateStatus(target, change).document
        }
        return status
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
        } catch {
            // Nothing may be lost: if the refusal cannot be recorded, try again later.
            logger.warning("Could not record a refused command; will retry", metadata: ["error": "\(error)", LoggingKeys.sequence: "\(delivery.streamSequence)"])
            return CommandResult(.nak(delay: backoff(delivery.deliveryCount)), "retrying", "recording the refusal failed: \(error)")
        }
        if let workspace, let name {
            let key = StateStore.statusKey(workspace: workspace, name: name)
            let type = self.type
            do {
                try await store.modify(StatusRecord.self, key: key) { current in
                    var status = current ?? StatusRecord(workspace: workspace, name: name, type: type, phase: .error, at: Date())
                    status.lastError = ErrorRecord(reason: reason, message: message, commandID: delivery.commandID, at: Date())
                    if status.phase != .deleted { status.phase = .error }
                    status.updatedAt = Date()
                    return status
                }
            } catch let unreadable as StateDocumentError {
                // A status this build cannot read is left alone; the dead letter says why.
                logger.warning("Could not report a refused command on its status", metadata: ["error": "\(unreadable)"])
            } catch {
                logger.warning("Could not record a refused command; will retry", metadata: ["error": "\(error)", LoggingKeys.sequence: "\(delivery.streamSequence)"])
                return CommandResult(.nak(delay: backoff(delivery.deliveryCount)), "retrying", "recording the refusal failed: \(error)")
            }
        }
        return CommandResult(.term, "refused", "\(reason): \(message)")
    }

    private func vendorFailed(_ target: Target, _ failure: VendorFailure) async -> CommandResult {
        switch failure.kind {
        case .rejected, .unsupported, .gone:
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
            if status.knows(run: id) { return nil }
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
            do {
                _ = try await updateStatus(target) { status in
                    status.phase = .error
                    status.lastError = ErrorRecord(reason: reason, message: message, commandID: target.reference.id, at: Date())
                }
                if let entity = try await store.read(EntityRecord.self, key: target.entityKey), entity.document.activeCommand?.command.id == target.reference.id {
                    try await release(target, entity)
                }
            } catch let unreadable as StateDocumentError {
                // A document this build cannot read is left alone; the dead letter says why.
                logger.warning("Could not record a failed command on its resource", metadata: ["error": "\(unreadable)", LoggingKeys.command: "\(target.reference.id)"])
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

/// The claim as the fence at send time last wrote it, and whether it was lost.
private final class FencedClaim: Sendable {
    private struct State {
        var claim: Versioned<EntityRecord>
        var lost: OwnershipLost?
    }
    private let state: Mutex<State>

    init(_ claim: Versioned<EntityRecord>) { state = Mutex(State(claim: claim)) }

    var claim: Versioned<EntityRecord> { state.withLock { $0.claim } }
    var lostOwnership: OwnershipLost? { state.withLock { $0.lost } }
    func renewed(_ claim: Versioned<EntityRecord>) { state.withLock { $0.claim = claim } }
    func lost(_ error: OwnershipLost) { state.withLock { $0.lost = error } }
}

/// The command being processed, and the names derived from it once.
final class Target: @unchecked Sendable {
    // @unchecked: `resumed` and `prepared` are written by the one task handling the command,
    // during validation, the claim and the baseline step, before any concurrent use.
    let command: ValidatedCommand
    let delivery: CommandDelivery
    let reference: CommandReference
    let workspace: String
    let name: String
    let resourceType: String
    private(set) var resumed = false
    /// Resumed from another replica's hold (a takeover), not this replica's own earlier attempt.
    private(set) var takenOver = false
    /// An apply's spec, decoded by the driver when the command was validated.
    var prepared: AnyResourceDriver.PreparedSpec?

    init(command: ValidatedCommand, delivery: CommandDelivery, type: String) {
        self.command = command
        self.delivery = delivery
        self.workspace = command.envelope.workspace.rawValue
        self.name = command.envelope.resource.name.rawValue
        self.resourceType = type
        self.reference = CommandReference(
            id: delivery.commandID, sequence: delivery.streamSequence, operation: command.envelope.operation.rawValue, receivedAt: Date()
        )
    }

    func markResumed(takenOver: Bool) {
        resumed = true
        self.takenOver = takenOver
    }
    /// Nothing of this command can be at the vendor yet (its baseline was only just recorded).
    func markFresh() { resumed = false }

    var entityKey: String { StateStore.entityKey(workspace: workspace, name: name) }
    var statusKey: String { StateStore.statusKey(workspace: workspace, name: name) }
    var label: String { "\(workspace)/\(name)" }

    /// The status of a resource that has none yet.
    func newStatus() -> StatusRecord {
        StatusRecord(workspace: workspace, name: name, type: resourceType, phase: .pending, at: Date())
    }

    func claimRequest(instanceID: String, takeoverAfter: Duration) -> ClaimRequest {
        let operation: ClaimRequest.Operation
        switch command.envelope.payload {
        case .apply(let manifest):
            operation = .apply(
                manifest: manifest.jsonValue,
                specDigest: SHA256.hexDigest(manifest.resource.spec.serializedBytes(sortedKeys: true)),
                owner: manifest.meta.additionalFields["owner"]?.stringValue
            )
        case .run:
            operation = .run
        case .delete:
            operation = .delete
        case .cancel:
            operation = .cancel
        }
        return ClaimRequest(
            reference: reference, workspace: workspace, name: name, type: resourceType, operation: operation,
            instanceID: instanceID, takeoverAfter: takeoverAfter
        )
    }
}

/// This replica no longer owns the command: another took it over.
struct OwnershipLost: Error, CustomStringConvertible {
    let description: String
}
