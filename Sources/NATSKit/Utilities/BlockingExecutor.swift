import NIOPosix

/// Runs the cnats calls that wait for the network (requests, JetStream and KV calls, fetch,
/// watch, flush, drain, close) on a dedicated pool of long-lived threads, so that no blocking C
/// call ever runs on Swift's cooperative thread pool.
///
/// Long-lived threads matter for cnats: its last-error state is thread-local, and per-thread
/// memory only needs `nats_ReleaseThreadMemory` when a thread exits, which these never do.
/// The pool is shared by every connection in the process; its size (default 32) can be set with
/// the `NATSKIT_BLOCKING_THREADS` environment variable. Every call that runs here has a finite
/// timeout, so a thread is never held forever.
final class BlockingExecutor: Sendable {
    static let shared: BlockingExecutor = {
        let requested = ProcessEnvironment.integer("NATSKIT_BLOCKING_THREADS") ?? 32
        return BlockingExecutor(numberOfThreads: max(2, min(requested, 1024)))
    }()

    private let pool: NIOThreadPool

    init(numberOfThreads: Int) {
        pool = NIOThreadPool(numberOfThreads: numberOfThreads)
        pool.start()
    }

    /// Runs `body` on a pool thread and returns its result. The body must do all its C work,
    /// including reading cnats' thread-local error, before it returns.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// Like `run`, for bodies that throw `NATSError`: errors keep their type.
    func runThrowing<T: Sendable>(_ body: @escaping @Sendable () throws(NATSError) -> T) async throws(NATSError) -> T {
        let result: Result<T, NATSError>
        do {
            result = try await pool.runIfActive { Result { () throws(NATSError) -> T in try body() } }
        } catch {
            throw NATSError(
                code: .illegalState,
                operation: "run a NATS call",
                message: "NATSKit's blocking executor is not running (\(error))"
            )
        }
        return try result.get()
    }

    /// Runs `body` on a pool thread without waiting for it; used from `deinit` to free C handles
    /// whose destruction may join cnats threads.
    func submit(_ body: @escaping @Sendable () -> Void) {
        pool.submit { _ in body() }
    }
}
