import Foundation
import Synchronization

/// A watch that hands every event to a handler on a thread of its own, for
/// consumers that keep a live copy of a bucket (a read model) and must not depend on Swift's
/// cooperative pool keeping up. The handler must be quick; it runs in order, one event at a time.
public final class KeyValueWatchLoop: Sendable {
    private let handle: KeyValueWatcherHandle
    private let stopped = Atomic<Bool>(false)

    init(handle: KeyValueWatcherHandle) {
        self.handle = handle
    }

    /// Ends the watch; the handler is called no more after the current event.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        handle.stop()
    }

    public var isStopped: Bool { stopped.load(ordering: .relaxed) }

    func start(_ handler: @escaping @Sendable (Result<KeyValueWatchEvent, NATSError>) -> Void) {
        let handle = self.handle
        // Its own thread, not one of the shared blocking pool's: the loop lives as long as the
        // watch, and a pool thread held forever is one fewer for every other call.
        let thread = Thread { [self] in
            defer { KeyValueWatcherHandle.releaseThreadMemory() }
            while !self.isStopped {
                do throws(NATSError) {
                    switch try handle.next(timeout: .seconds(1)) {
                    case .entry(let entry): handler(.success(.entry(entry)))
                    case .initialValuesDone: handler(.success(.initialValuesDone))
                    case .timedOut: continue
                    case .stopped: return
                    }
                } catch {
                    if !self.isStopped { handler(.failure(error)) }
                    return
                }
            }
        }
        thread.name = "natskit-kv-watch"
        thread.start()
    }
}

extension KeyValueBucket {
    /// Watches keys matching `pattern`, calling `handler` for every event on a dedicated thread
    /// (see `KeyValueWatchLoop`); a failure ends the watch and is the handler's last call.
    public func watch(
        _ pattern: String = ">",
        options: KeyValueWatchOptions = KeyValueWatchOptions(),
        handler: @escaping @Sendable (Result<KeyValueWatchEvent, NATSError>) -> Void
    ) async throws(NATSError) -> KeyValueWatchLoop {
        try NATSNames.validateKey(pattern, wildcards: true, operation: "watch \(name)")
        let store = handle
        let watcher = try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> KeyValueWatcherHandle in
            try KeyValueWatcherHandle.watch(store: store, pattern: pattern, options: options)
        }
        let loop = KeyValueWatchLoop(handle: watcher)
        loop.start(handler)
        return loop
    }
}
