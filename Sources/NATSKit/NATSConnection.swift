import Logging

/// A connection to a NATS server or cluster.
///
/// Calls that wait for the server (`request`, `flush`, `drain`, `close`, and everything in
/// JetStream and KV) run on NATSKit's blocking executor, never on the cooperative pool.
/// `publish` does not wait for the server and may be called from anywhere.
///
/// Close or drain a connection when done. A connection that is simply released is closed and
/// freed in the background.
public final class NATSConnection: Sendable {
    let handle: ConnectionHandle
    /// Answers to this connection's requests (and JetStream publishes, KV calls, sync acks).
    let responses: ResponseMux
    public let configuration: NATSConfiguration
    let logger: Logger

    private init(handle: ConnectionHandle, configuration: NATSConfiguration, logger: Logger) {
        self.handle = handle
        self.responses = ResponseMux(connection: handle)
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        // The mux's subscription holds the C connection; releasing it lets the connection go.
        responses.close()
    }

    /// Connects. With `retryOnFailedConnect` (the default), keeps trying for
    /// `initialConnectTimeout` and then fails; without it, fails as soon as no server answers
    /// within `connectTimeout`. Never hangs.
    public static func connect(
        _ configuration: NATSConfiguration,
        logger: Logger = Logger(label: "NATSKit", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws(NATSError) -> NATSConnection {
        var logger = logger
        logger[metadataKey: NATSLoggingKeys.servers] = "\(configuration.servers.map(NATSConfiguration.redactingURL))"
        let events = ConnectionEventHub()
        let (handle, connected) = try await BlockingExecutor.shared.runThrowing {
            () throws(NATSError) -> (ConnectionHandle, Bool) in
            let (handle, connected) = try ConnectionHandle.connect(configuration, events: events)
            return (handle, connected)
        }
        let connection = NATSConnection(handle: handle, configuration: configuration, logger: logger)
        if !connected {
            logger.debug("NATS server not reachable yet; retrying")
            let operation = "connect to \(configuration.servers.map(NATSConfiguration.redactingURL).joined(separator: ","))"
            let deadline = ContinuousClock.now.advanced(by: configuration.initialConnectTimeout)
            var refusal: NATSError?
            while !events.hasConnected, !events.isClosed, ContinuousClock.now < deadline, !Task.isCancelled {
                // A refusal (credentials, TLS) will not heal by waiting: say so at once.
                if let error = handle.lastConnectError, [.authorization, .permissionDenied, .tls].contains(error.code) {
                    refusal = error
                    break
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
            guard events.hasConnected else {
                let closedByLibrary = events.isClosed
                let last = refusal ?? events.lastError ?? handle.lastConnectError
                await connection.close()
                if let last, last.status != "NATS_NO_SERVER" {
                    var code = last.code
                    if last.message.contains("Authorization Violation") || last.message.contains("Authentication") { code = .authorization }
                    throw ConnectionHandle.connectError(
                        NATSError(code: code, operation: operation, message: last.message, status: last.status),
                        configuration: configuration, operation: operation
                    )
                }
                if closedByLibrary {
                    // cnats gave up without saying why (it does so for some refusals): one plain,
                    // non-retried attempt gets the server's own words.
                    var diagnostic = configuration
                    diagnostic.retryOnFailedConnect = false
                    diagnostic.reconnect.allowed = false
                    let probe = ConnectionEventHub()
                    let plain = diagnostic
                    do throws(NATSError) {
                        let (handle, _) = try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> (ConnectionHandle, Bool) in
                            try ConnectionHandle.connect(plain, events: probe)
                        }
                        _ = try? await BlockingExecutor.shared.runThrowing { () throws(NATSError) in handle.close() }
                    } catch {
                        throw error
                    }
                    throw NATSError(
                        code: .connectionFailed,
                        operation: operation,
                        message: "the server closed the connection during the first connect; check the credentials (user/password, token, .creds file, nkey) and TLS settings"
                    )
                }
                throw NATSError(
                    code: .connectionFailed,
                    operation: operation,
                    message: "no server answered within \(configuration.initialConnectTimeout); check that nats-server is running at that address and reachable"
                )
            }
        }
        // The response inbox, once the connection is up (see ResponseMux.start).
        do {
            try connection.responses.start()
        } catch {
            await connection.close()
            throw error
        }
        logger.debug("Connected to NATS", metadata: [NATSLoggingKeys.server: "\(handle.connectedURL.map(NATSConfiguration.redactingURL) ?? "?")"])
        return connection
    }

    // MARK: - State

    /// Connection events (disconnected, reconnected, closed, asynchronous errors) from now on.
    /// Each call returns a new, independent stream; it ends when the connection closes.
    public func events() -> AsyncStream<NATSConnectionEvent> {
        handle.events.stream()
    }

    public var isConnected: Bool { handle.isConnected }
    public var isClosed: Bool { handle.isClosed }
    /// The URL of the server currently connected to.
    public var connectedServer: String? { handle.connectedURL.map(NATSConfiguration.redactingURL) }
    /// The largest payload the server accepts.
    public var maxPayload: Int { handle.maxPayload }

    // MARK: - Core NATS

    /// Publishes a message. Returns once cnats has buffered it; `flush` waits for the server.
    public func publish(
        _ payload: [UInt8],
        to subject: String,
        headers: NATSHeaders = NATSHeaders(),
        reply: String? = nil
    ) throws(NATSError) {
        let operation = "publish to \(subject)"
        try NATSNames.validatePublishSubject(subject, operation: operation)
        if let reply { try NATSNames.validatePublishSubject(reply, operation: operation) }
        try checkOpen(operation)
        try handle.publish(subject: subject, reply: reply, headers: headers, payload: payload)
    }

    /// Answers a request: publishes `payload` to the request's reply subject.
    public func respond(to request: NATSMessage, with payload: [UInt8], headers: NATSHeaders = NATSHeaders()) throws(NATSError) {
        guard let reply = request.reply else {
            throw .invalidArgument("the message on \(request.subject) has no reply subject to answer on", operation: "respond")
        }
        try publish(payload, to: reply, headers: headers)
    }

    /// Sends a request and waits for the first answer, at most `timeout`.
    /// Throws `noResponders` at once when nobody listens on `subject`.
    public func request(
        _ payload: [UInt8],
        to subject: String,
        headers: NATSHeaders = NATSHeaders(),
        timeout: Duration = .seconds(2)
    ) async throws(NATSError) -> NATSMessage {
        let operation = "request on \(subject)"
        try NATSNames.validatePublishSubject(subject, operation: operation)
        try checkOpen(operation)
        return try await responses.request(subject: subject, headers: headers, payload: payload, timeout: timeout, operation: operation)
    }

    /// Subscribes to `subject` (wildcards allowed), optionally in a queue group so that each
    /// message goes to one member. The subscription is registered with the server when this
    /// returns (it flushes).
    public func subscribe(to subject: String, queue: String? = nil) async throws(NATSError) -> NATSSubscription {
        let operation = "subscribe to \(subject)"
        try NATSNames.validateSubscribeSubject(subject, operation: operation)
        if let queue { try NATSNames.validateQueueGroup(queue, operation: operation) }
        try checkOpen(operation)
        let (stream, continuation) = AsyncStream.makeStream(
            of: NATSMessage.self,
            bufferingPolicy: .bufferingOldest(max(1, configuration.subscriptionBufferLimit))
        )
        let context = SubscriptionContext(continuation: continuation, events: handle.events, subject: subject)
        let subscription = try SubscriptionHandle.subscribe(connection: handle, subject: subject, queue: queue, context: context)
        try await flush()
        return NATSSubscription(handle: subscription, stream: stream)
    }

    /// Waits until the server has processed everything sent so far.
    public func flush(timeout: Duration = .seconds(5)) async throws(NATSError) {
        try checkOpen("flush")
        let handle = self.handle
        try await BlockingExecutor.shared.runThrowing { () throws(NATSError) in
            try handle.flush(timeout: timeout)
        }
    }

    // MARK: - Shutdown

    /// Drains: subscriptions stop taking messages and deliver what they hold, pending publishes
    /// are flushed, then the connection closes. Returns when closed or after `timeout`.
    public func drain(timeout: Duration = .seconds(10)) async throws(NATSError) {
        guard !handle.events.isClosed, !handle.isClosed else {
            throw .closed(operation: "drain")
        }
        let handle = self.handle
        try await BlockingExecutor.shared.runThrowing { () throws(NATSError) in
            try handle.startDrain(timeout: timeout)
        }
        await handle.events.waitUntilClosed(timeout: timeout + .seconds(1))
        if !handle.isClosed {
            await close()
        }
    }

    /// Closes the connection. Safe to call more than once.
    public func close() async {
        responses.close()
        let handle = self.handle
        _ = try? await BlockingExecutor.shared.runThrowing { () throws(NATSError) in
            handle.close()
        }
    }

    func checkOpen(_ operation: String) throws(NATSError) {
        if handle.wasCloseRequested || handle.isClosed {
            throw .closed(operation: operation)
        }
    }
}

/// Log metadata keys used by NATSKit.
public enum NATSLoggingKeys {
    public static let servers = "nats.servers"
    public static let server = "nats.server"
    public static let subject = "nats.subject"
    public static let stream = "nats.stream"
    public static let consumer = "nats.consumer"
    public static let bucket = "nats.kv.bucket"
    public static let key = "nats.kv.key"
}
