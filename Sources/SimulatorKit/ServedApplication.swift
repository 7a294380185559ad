import Hummingbird
import Synchronization

/// A Hummingbird application served in the background until stopped: ``start(_:)`` returns the
/// port it bound (ask for port 0 to get a free one), ``stop()`` cancels it and waits until the port
/// is closed. What simulators, the fault proxy and test targets share.
public final class ServedApplication: Sendable {
    private struct State {
        var port: Int?
        var task: Task<Void, Never>?
    }

    public enum Failure: Error, CustomStringConvertible {
        case alreadyRunning
        case stoppedBeforeListening

        public var description: String {
            switch self {
            case .alreadyRunning: "the server is already running; stop it first"
            case .stoppedBeforeListening: "the server stopped before it listened on its port"
            }
        }
    }

    private let state = Mutex(State())

    public init() {}

    /// Builds the application with `make` (given the callback its `onServerRunning` must call with
    /// the bound port) and serves it; returns once it listens.
    public func start<App: ApplicationProtocol>(
        _ make: @escaping @Sendable (_ onListening: @escaping @Sendable (Int) async -> Void) throws -> App
    ) async throws -> Int {
        let (results, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let task = Task {
            do {
                let app = try make { port in
                    self.state.withLock { $0.port = port }
                    continuation.yield(.success(port))
                }
                try await app.runService()
                continuation.yield(.failure(Failure.stoppedBeforeListening))
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        let alreadyRunning = state.withLock { state in
            guard state.task == nil else { return true }
            state.task = task
            return false
        }
        if alreadyRunning {
            task.cancel()
            throw Failure.alreadyRunning
        }
        for await result in results {
            do {
                return try result.get()
            } catch {
                state.withLock { $0.task = nil }
                throw error
            }
        }
        throw Failure.stoppedBeforeListening
    }

    /// Stops the application and waits until it has closed its port.
    public func stop() async {
        let task = state.withLock { state in
            defer {
                state.task = nil
                state.port = nil
            }
            return state.task
        }
        task?.cancel()
        await task?.value
    }

    /// The bound port while running.
    public var port: Int? { state.withLock { $0.port } }
}
