import Synchronization

/// Something that happened to a connection, as reported by cnats on its callback thread.
public enum NATSConnectionEvent: Sendable, Hashable, CustomStringConvertible {
    /// The first connection was made (after a retried first connect).
    case connected
    /// The connection was lost; the client is trying to reconnect.
    case disconnected
    /// The connection is back (possibly to another server of the cluster).
    case reconnected(server: String?)
    /// The server asked clients to move elsewhere before it shuts down.
    case lameDuckMode
    /// The connection is closed for good.
    case closed
    /// An asynchronous error: a slow consumer, a permission violation, a server error.
    case error(NATSError)

    public var description: String {
        switch self {
        case .connected: return "connected"
        case .disconnected: return "disconnected"
        case .reconnected(let server): return "reconnected to \(server.map(NATSConfiguration.redactingURL) ?? "a server")"
        case .lameDuckMode: return "server entered lame duck mode"
        case .closed: return "closed"
        case .error(let error): return "error: \(error)"
        }
    }
}

/// Fans connection events out to every listener, and remembers the state `connect` and
/// `drain` wait on. cnats calls it from its single async-callback thread.
final class ConnectionEventHub: Sendable {
    private struct State {
        var listeners: [Int: AsyncStream<NATSConnectionEvent>.Continuation] = [:]
        var nextListener = 0
        var isClosed = false
        var hasConnected = false
        var lastError: NATSError?
        /// The latest permission violations the server reported, newest last (a few).
        var permissionViolations: [(at: ContinuousClock.Instant, message: String)] = []
    }

    private let state = Mutex(State())

    /// A new stream of events from now on. Ends when the connection closes.
    func stream() -> AsyncStream<NATSConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: NATSConnectionEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let alreadyClosed = state.withLock { state -> Bool in
            if state.isClosed { return true }
            let id = state.nextListener
            state.nextListener += 1
            state.listeners[id] = continuation
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.listeners.removeValue(forKey: id) }
            }
            return false
        }
        if alreadyClosed {
            continuation.yield(.closed)
            continuation.finish()
        }
        return stream
    }

    func emit(_ event: NATSConnectionEvent) {
        let listeners = state.withLock { state -> [AsyncStream<NATSConnectionEvent>.Continuation] in
            switch event {
            case .connected, .reconnected:
                state.hasConnected = true
            case .closed:
                state.isClosed = true
            case .error(let error):
                state.lastError = error
                if error.code == .permissionDenied {
                    state.permissionViolations.append((ContinuousClock.now, error.message))
                    if state.permissionViolations.count > 16 { state.permissionViolations.removeFirst() }
                }
            default:
                break
            }
            let listeners = Array(state.listeners.values)
            if event == .closed { state.listeners.removeAll() }
            return listeners
        }
        for listener in listeners {
            listener.yield(event)
            if event == .closed { listener.finish() }
        }
    }

    var isClosed: Bool { state.withLock { $0.isClosed } }
    /// The last asynchronous error cnats reported (e.g. an authorization violation while a
    /// first connect was being retried).
    var lastError: NATSError? { state.withLock { $0.lastError } }
    var hasConnected: Bool { state.withLock { $0.hasConnected } }

    /// The newest permission violation reported since `instant` whose text contains `fragment`.
    /// The server answers a request to a subject the user may not publish to with an
    /// asynchronous `Permissions Violation`, and the request itself only times out: this tells
    /// the two apart.
    func permissionViolation(since instant: ContinuousClock.Instant, containing fragment: String) -> String? {
        state.withLock { state in
            state.permissionViolations.last { $0.at >= instant && $0.message.contains(fragment) }?.message
        }
    }

    /// Waits until the connection has connected or closed, or `timeout` passes.
    func waitUntilConnectedOrClosed(timeout: Duration) async {
        await waitFor(timeout: timeout) { $0.hasConnected || $0.isClosed }
    }

    /// Waits until the connection is closed, or `timeout` passes.
    func waitUntilClosed(timeout: Duration) async {
        await waitFor(timeout: timeout) { $0.isClosed }
    }

    /// Polls every few milliseconds: this runs once per connect or drain, so simplicity wins
    /// over a wake-up mechanism.
    private func waitFor(timeout: Duration, _ done: @Sendable (State) -> Bool) async {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !state.withLock({ done($0) }), ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
