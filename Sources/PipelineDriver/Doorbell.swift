import Synchronization

/// Wakes one idle worker per ring. Each worker has its own stream holding at most one ring;
/// ringing every worker's at each change woke them all for one run to look at (a chain's step
/// rings several times), and all but one found nothing. A worker says it is idle before it
/// waits and looks for work once more after saying so, so a ring while every worker is busy is
/// not lost: the busy ones take the work before they wait. A worker that takes work while more
/// is waiting rings again, so the work spreads over the idle workers.
final class Doorbell: Sendable {
    private struct State {
        var continuations: [AsyncStream<Void>.Continuation] = []
        /// Workers waiting, the most recent last (woken first: its stack is the warmest).
        var idle: [Int] = []
    }

    private let state = Mutex(State())

    /// A new worker's number and the stream it waits on.
    func stream() -> (worker: Int, rings: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let worker = state.withLock { state in
            state.continuations.append(continuation)
            return state.continuations.count - 1
        }
        return (worker, stream)
    }

    /// `worker` is about to wait (it looks for work once more first).
    func idle(_ worker: Int) {
        state.withLock { state in
            if !state.idle.contains(worker) { state.idle.append(worker) }
        }
    }

    /// `worker` found work after saying it was idle.
    func busy(_ worker: Int) {
        state.withLock { $0.idle.removeAll { $0 == worker } }
    }

    /// Wakes the most recently idle worker, if any.
    func ring() {
        let continuation = state.withLock { state -> AsyncStream<Void>.Continuation? in
            guard let worker = state.idle.popLast() else { return nil }
            return state.continuations[worker]
        }
        continuation?.yield()
    }

    func close() {
        for continuation in state.withLock({ $0.continuations }) { continuation.finish() }
    }
}
