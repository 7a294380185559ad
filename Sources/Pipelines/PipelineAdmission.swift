import Foundation

/// Whether a new run of a pipeline starts, given the runs of it that are active, under its
/// `concurrency` (`limit`, `onOverlap`).
public enum PipelineAdmission: Sendable, Hashable {
    /// Start it now.
    case start
    /// Start it now and cancel (stop) these older runs (`cancel-previous`).
    case startCancelling([String])
    /// Keep it `queued` until a run ends (`queue`).
    case queue
    /// Record it `skipped` (`skip`).
    case skip(String)

    /// `active`: the pipeline's runs that are `running` or `cancelling`, oldest first; `queuedAhead`:
    /// runs still `queued` before this one (a queue is first in, first out).
    public static func decide(_ concurrency: PipelineSpec.Concurrency, active: [PipelineRun], queuedAhead: Int) -> PipelineAdmission {
        let running = active.filter { $0.state == .running || $0.state == .cancelling }
        switch concurrency.onOverlap {
        case .parallel:
            return .start
        case .queue:
            return running.count < concurrency.limit && queuedAhead == 0 ? .start : .queue
        case .skip:
            return running.count < concurrency.limit ? .start : .skip("\(running.count) run(s) already active, the limit is \(concurrency.limit) (onOverlap: skip)")
        case .cancelPrevious:
            // Runs already being cancelled make room once they end; cancel only what is needed
            // beyond them.
            let live = running.filter { $0.state == .running }
            let excess = live.count - (concurrency.limit - 1)
            return excess > 0 ? .startCancelling(live.sorted { $0.createdAt < $1.createdAt }.prefix(excess).map(\.id)) : .start
        }
    }
}
