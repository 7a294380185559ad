import Synchronization

/// Wakes every worker waiting for work: each gets its own stream holding at most one ring, so a
/// ring while a worker is busy is seen when it next waits.
final class Doorbell: Sendable {
    private let continuations = Mutex<[AsyncStream<Void>.Continuation]>([])

    func stream() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        continuations.withLock { $0.append(continuation) }
        return stream
    }

    func ring() {
        for continuation in continuations.withLock({ $0 }) { continuation.yield() }
    }

    func close() {
        for continuation in continuations.withLock({ $0 }) { continuation.finish() }
    }
}
