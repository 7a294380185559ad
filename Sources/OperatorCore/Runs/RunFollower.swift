import FactoryModel
import Foundation
import Logging
import NATSKit

/// Follows vendor runs to their end: for each follow-up message, one look at the run, recorded on
/// the resource's status; then acknowledge if the run ended, or nak with a delay so that some
/// replica looks again within the reconcile interval.
public struct RunFollower: Sendable {
    let store: StateStore
    let vendor: any PipelineVendor
    let reconcileInterval: Duration
    let logger: Logger

    public init(store: StateStore, vendor: any PipelineVendor, reconcileInterval: Duration, logger: Logger) {
        self.store = store
        self.vendor = vendor
        self.reconcileInterval = reconcileInterval
        self.logger = logger
    }

    public func handle(_ message: JetStreamMessage) async -> CommandDisposition {
        // Names that break the name rule can never be read (nor be a resource's): drop them
        // instead of failing on the KV key forever.
        guard let followUp = try? JSONDecoder().decode(FollowUp.self, from: Data(message.payload)),
            (try? WorkspaceName(followUp.workspace)) != nil, (try? ResourceName(followUp.name)) != nil
        else {
            logger.error("Dropped an unreadable follow-up", metadata: ["payload": "\(message.string.prefix(200))"])
            return .term
        }
        // A run triggered moments ago is still queued: spend no vendor call (nor rate limit) on
        // it, and look first one reconcile interval after the trigger.
        if let metadata = message.metadata, metadata.deliveryCount == 1 {
            let age = Date().timeIntervalSince(metadata.timestamp)
            if age >= 0, age < reconcileInterval.seconds {
                return .nak(delay: .milliseconds(Int((reconcileInterval.seconds - age) * 1000)))
            }
        }
        let started = ContinuousClock.now
        let key = StateStore.statusKey(workspace: followUp.workspace, name: followUp.name)
        do {
            // A deleted or unknown resource is not followed any more.
            guard let status = try await store.read(StatusRecord.self, key: key)?.document, status.phase != .deleted else {
                return .ack
            }
            // A command records its run on the status before it publishes the follow-up, so a
            // run the status does not know is not this resource's (or no longer matters).
            guard status.knows(run: followUp.runID) else {
                logger.warning("Dropped a follow-up of a run the resource does not know", metadata: [LoggingKeys.run: "\(followUp.runID)", LoggingKeys.resource: "\(followUp.workspace)/\(followUp.name)"])
                return .ack
            }
            guard var run = try await vendor.run(syncID: followUp.syncID, runID: followUp.runID) else {
                logger.warning("The vendor no longer knows a followed run", metadata: [LoggingKeys.run: "\(followUp.runID)", LoggingKeys.resource: "\(followUp.workspace)/\(followUp.name)"])
                return .ack
            }
            run.commandID = followUp.commandID
            let observed = run
            try await store.modify(StatusRecord.self, key: key) { current in
                guard var status = current, status.phase != .deleted, status.knows(run: observed.id) else { return nil }
                status.record(observed)
                status.updatedAt = Date()
                return status
            }
            if run.isFinished {
                OperatorMetrics.runFinished(status: run.status)
                logger.info(
                    "Run finished",
                    metadata: [LoggingKeys.run: "\(run.id)", LoggingKeys.resource: "\(followUp.workspace)/\(followUp.name)", "run.status": "\(run.status)"]
                )
                return .ack
            }
            return .nak(delay: nextLook(after: started))
        } catch {
            logger.warning("Could not look at a run; looking again later", metadata: [LoggingKeys.run: "\(followUp.runID)", "error": "\(error)"])
            return .nak(delay: nextLook(after: started))
        }
    }

    /// The next look is due one reconcile interval after this one started.
    private func nextLook(after started: ContinuousClock.Instant) -> Duration {
        let spent = ContinuousClock.now - started
        return max(.milliseconds(50), reconcileInterval - spent)
    }
}
