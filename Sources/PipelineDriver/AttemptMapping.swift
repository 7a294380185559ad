import FactoryState
import Pipelines

/// What a task resource's documents say about one attempt, whose command id is the key the
/// engine records its run under:
///
/// - the status's current run has the attempt's key: its vendor run exists (started);
/// - the status's last run has it: the attempt ended, its outcome by the run's phase
///   (`succeeded`, `warning`, `failed`, `cancelled`, `timed_out`);
/// - the status's `lastError` names the attempt's command while the entity does not hold it
///   (the command was refused, or failed for good without a run): `api_error`, with the reason.
///   A command still held (active on the entity) is being retried by the engine, and so is one
///   whose error says "retrying": neither is an outcome yet.
///
/// Anything else says nothing about the attempt (nil).
public enum AttemptMapping {
    public static func observation(commandID: String, entity: EntityRecord?, status: StatusRecord?) -> AttemptObservation? {
        guard let status else { return nil }
        if let run = status.run(key: commandID) {
            guard run.isFinished else { return AttemptObservation(started: true, vendorRunID: run.vendorRunID) }
            let outcome: Attempt.Outcome
            switch run.phase {
            case .succeeded: outcome = .succeeded
            case .warning: outcome = .warning
            case .cancelled: outcome = .cancelled
            case .timedOut: outcome = .timedOut
            case .failed, .queued, .running: outcome = .failed
            }
            return AttemptObservation(started: true, vendorRunID: run.vendorRunID, outcome: outcome, error: outcome == .succeeded ? nil : run.error ?? "the \(status.type) run ended \(run.phase.rawValue)")
        }
        if let error = status.lastError, error.commandID == commandID, entity?.activeCommand?.command.id != commandID, !error.message.hasSuffix("retrying)") {
            return AttemptObservation(started: false, outcome: .apiError, error: "\(error.reason): \(error.message)")
        }
        return nil
    }
}
