import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage
import Logging
import NATSKit

/// Follows vendor runs to their end: for each follow-up message, one look at the run through the
/// resource type's driver, recorded on the resource's status; then acknowledge if the run ended,
/// or nak with a delay so that some replica looks again within the reconcile interval.
public struct RunFollower: Sendable {
    let store: StateStore
    let driver: AnyResourceDriver
    let reconcileInterval: Duration
    let logger: Logger
    /// Publishes each run's lineage events after the look that records a transition (nil: no
    /// lineage).
    let lineage: LineageEmitter?

    /// Deliveries of the follow-up of an ended run whose lineage events cannot be published
    /// before it is acknowledged anyway (the run's outbox keeps them for any later look).
    static let lineageRetries = 30

    public init(store: StateStore, driver: AnyResourceDriver, reconcileInterval: Duration, logger: Logger, lineage: LineageEmitter? = nil) {
        self.store = store
        self.driver = driver
        self.reconcileInterval = reconcileInterval
        self.logger = logger
        self.lineage = lineage
    }

    /// Publishes the run's recorded-but-unmarked lineage events; true when none is left.
    @discardableResult
    private func flushLineage(_ followUp: FollowUp, run: RunRecord, objects: JSONValue?) async -> Bool {
        guard let lineage else { return true }
        let store = self.store
        let entityKey = StateStore.entityKey(workspace: followUp.workspace, name: followUp.name)
        return await lineage.flush(workspace: followUp.workspace, name: followUp.name, run: run, objects: objects) {
            try? await store.read(EntityRecord.self, key: entityKey)?.document.spec
        }
    }

    /// An ended run's follow-up: acknowledged once its lineage events are out, else looked at
    /// again later (a bounded number of times).
    private func endedDisposition(published: Bool, deliveryCount: Int, label: String) -> CommandDisposition {
        if published { return .ack }
        if deliveryCount < Self.lineageRetries { return .nak(delay: reconcileInterval) }
        logger.error("Gave up publishing a run's lineage events; they stay in its outbox", metadata: [LoggingKeys.resource: "\(label)"])
        return .ack
    }

    public func handle(_ message: JetStreamMessage) async -> CommandDisposition {
        await handle(payload: message.payload, deliveryCount: message.metadata?.deliveryCount ?? 1, publishedAt: message.metadata?.timestamp)
    }

    /// One follow-up delivery (the message's payload, its delivery count and when it was
    /// published).
    public func handle(payload: [UInt8], deliveryCount: Int, publishedAt: Date?) async -> CommandDisposition {
        // Names that break the name rule can never be read (nor be a resource's): drop them
        // instead of failing on the KV key forever.
        guard let followUp = FollowUp(decoding: payload),
            (try? WorkspaceName(followUp.workspace)) != nil, (try? ResourceName(followUp.name)) != nil
        else {
            logger.error("Dropped an unreadable follow-up", metadata: ["payload": "\(String(decoding: payload.prefix(200), as: UTF8.self))"])
            return .term
        }
        // A prompt (a vendor's webhook) is one look now; the run's own follow-up goes on.
        if followUp.promptID != nil {
            _ = await look(followUp, deliveryCount: 1)
            return .ack
        }
        // A run triggered moments ago is still queued: spend no vendor call (nor rate limit) on
        // it, and look first one reconcile interval after the trigger.
        if deliveryCount == 1, let publishedAt {
            let age = Date().timeIntervalSince(publishedAt)
            if age >= 0, age < reconcileInterval.seconds {
                return .nak(delay: .milliseconds(Int((reconcileInterval.seconds - age) * 1000)))
            }
        }
        return await look(followUp, deliveryCount: deliveryCount)
    }

    /// One look at the run `followUp` names, recorded; how to dispose of the follow-up.
    private func look(_ followUp: FollowUp, deliveryCount: Int) async -> CommandDisposition {
        let started = ContinuousClock.now
        let label = "\(followUp.workspace)/\(followUp.name)"
        let key = StateStore.statusKey(workspace: followUp.workspace, name: followUp.name)
        let entityKey = StateStore.entityKey(workspace: followUp.workspace, name: followUp.name)
        do {
            // A deleted or unknown resource is not followed any more.
            guard let status = try await store.read(StatusRecord.self, key: key)?.document, status.phase != .deleted else {
                return .ack
            }
            // A command records its run on the status before it publishes the follow-up, so a
            // run the status does not know is not this resource's (or no longer matters).
            guard let recorded = followUp.run(in: status) else {
                logger.warning("Dropped a follow-up of a run the resource does not know", metadata: [LoggingKeys.run: "\(followUp.runKey ?? followUp.vendorRunID ?? "?")", LoggingKeys.resource: "\(label)"])
                return .ack
            }
            if recorded.isFinished {
                // Its end was recorded; its lineage may not have gone out (a crash, a failed publish).
                let published = await flushLineage(followUp, run: recorded, objects: status.objects)
                return endedDisposition(published: published, deliveryCount: deliveryCount, label: label)
            }
            guard let objects = status.objects else {
                logger.warning("Dropped a follow-up of a resource with nothing at the vendor", metadata: [LoggingKeys.resource: "\(label)"])
                return .ack
            }
            let store = self.store
            let spec: AnyResourceDriver.SpecSource = { () async throws(VendorFailure) -> JSONValue in
                do {
                    return try await store.read(EntityRecord.self, key: entityKey)?.document.spec ?? .null
                } catch {
                    throw VendorFailure(kind: .transient, reason: "stateUnavailable", message: "reading \(entityKey): \(error)")
                }
            }
            // A run the vendor no longer knows (its object deleted out of band) has ended as far as
            // anyone can tell: recorded failed, so RUNTIME does not stay in progress for good.
            var observation = try await driver.observe(recorded, objects: objects, spec: spec)
                ?? RunObservation(
                    phase: .failed, vendorStatus: "unknown", vendorRunID: recorded.vendorRunID, finishedAt: Date(),
                    error: "\(driver.descriptor.displayName) no longer knows run \(recorded.displayID) (deleted at the vendor?); it is no longer followed"
                )
            if observation.vendorStatus == "unknown", observation.phase == .failed {
                logger.warning("The vendor no longer knows a followed run", metadata: [LoggingKeys.run: "\(recorded.displayID)", LoggingKeys.resource: "\(label)"])
            }
            if !observation.phase.isFinished, let deadline = recorded.deadline, Date() >= deadline {
                observation = await timedOut(recorded, observation, objects: objects, spec: spec, label: label)
            }
            let runKey = recorded.key
            let now = Date()
            let written = try await store.modify(StatusRecord.self, key: key) { current in
                guard var status = current, status.phase != .deleted, var run = status.run(key: runKey) else { return nil }
                run.apply(observation, at: now)
                status.record(run)
                status.updatedAt = now
                return status
            }
            let recordedNow = written?.document.run(key: runKey)
            let finished = recordedNow?.isFinished ?? observation.phase.isFinished
            var published = true
            if let recordedNow { published = await flushLineage(followUp, run: recordedNow, objects: objects) }
            if finished {
                OperatorMetrics.runFinished(status: observation.phase.rawValue)
                logger.info(
                    "Run finished",
                    metadata: [LoggingKeys.run: "\(observation.vendorRunID ?? recorded.displayID)", LoggingKeys.resource: "\(label)", "run.status": "\(observation.vendorStatus)", "run.phase": "\(observation.phase.rawValue)"]
                )
                return endedDisposition(published: published, deliveryCount: deliveryCount, label: label)
            }
            return .nak(delay: nextLook(after: started))
        } catch let failure as VendorFailure where failure.kind == .rejected || failure.kind == .unsupported || failure.kind == .gone {
            // The run cannot be followed at all (its object is gone at the vendor, its reference
            // unreadable): looking again cannot help. Recorded failed with the reason, so RUNTIME
            // does not stay in progress for good.
            logger.error("Cannot follow a run", metadata: [LoggingKeys.resource: "\(label)", "error": "\(failure)"])
            let runKey = followUp.runKey
            let vendorRunID = followUp.vendorRunID
            let written = try? await store.modify(StatusRecord.self, key: key) { current in
                guard var status = current, status.phase != .deleted else { return nil }
                guard var run = runKey.flatMap({ status.run(key: $0) })
                    ?? [status.currentRun, status.lastRun].compactMap({ $0 }).first(where: { $0.vendorRunID != nil && $0.vendorRunID == vendorRunID }),
                    !run.isFinished
                else { return nil }
                run.apply(RunObservation(phase: .failed, vendorStatus: "unknown", finishedAt: Date(), error: "cannot follow the run: \(failure.message)"), at: Date())
                status.record(run)
                status.updatedAt = Date()
                return status
            }
            if let written, let run = written.document.run(key: runKey ?? "") ?? written.document.lastRun, run.isFinished {
                await flushLineage(followUp, run: run, objects: written.document.objects)
            }
            return .ack
        } catch {
            logger.warning("Could not look at a run; looking again later", metadata: [LoggingKeys.resource: "\(label)", "error": "\(error)"])
            return .nak(delay: nextLook(after: started))
        }
    }

    /// A run past its deadline: cancelled where the vendor can, recorded `timed_out` either way
    /// (still going at a vendor that cannot cancel: detached, no longer followed).
    private func timedOut(
        _ run: RunRecord, _ observation: RunObservation, objects: JSONValue, spec: AnyResourceDriver.SpecSource, label: String
    ) async -> RunObservation {
        var ended = observation
        ended.phase = .timedOut
        ended.finishedAt = Date()
        let limit = run.deadline.map { Self.describe($0.timeIntervalSince(run.recordedAt)) } ?? "its timeout"
        if driver.canCancel {
            do {
                try await driver.cancel(run, objects: objects, spec: spec)
                ended.error = "timed out after \(limit); cancelled at the vendor"
            } catch {
                ended.error = "timed out after \(limit); cancelling it at the vendor failed (\(error)), so it may still run there, no longer followed"
            }
        } else {
            ended.error = "timed out after \(limit); \(driver.descriptor.displayName) cannot cancel it, so it may still run there, no longer followed"
        }
        logger.warning("Run timed out", metadata: [LoggingKeys.run: "\(run.displayID)", LoggingKeys.resource: "\(label)", "detail": "\(ended.error ?? "")"])
        return ended
    }

    private static func describe(_ seconds: TimeInterval) -> String {
        DurationParser.format(.milliseconds(Int64((seconds * 1000).rounded())))
    }

    /// The next look is due one reconcile interval after this one started.
    private func nextLook(after started: ContinuousClock.Instant) -> Duration {
        let spent = ContinuousClock.now - started
        return max(.milliseconds(50), reconcileInterval - spent)
    }
}
