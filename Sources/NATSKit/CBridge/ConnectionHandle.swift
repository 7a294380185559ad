import CNATS
import Synchronization

/// Owns one cnats connection (`natsConnection *`) and makes every C call on it.
///
/// `@unchecked Sendable`: cnats connections are thread-safe (each call takes the connection's own
/// lock), the pointer never changes, and it is destroyed exactly once, in `deinit`.
final class ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let events: ConnectionEventHub
    private let closeRequested = Mutex(false)
    /// Live pull subscriptions: cnats' drain waits for a synchronous subscription's reader,
    /// which a pull subscription never has, so drain unsubscribes them first.
    private let pullSubscriptions = Mutex<[ObjectIdentifier: WeakPullSubscription]>([:])

    struct WeakPullSubscription {
        weak var handle: PullSubscriptionHandle?
    }

    func register(_ subscription: PullSubscriptionHandle) {
        pullSubscriptions.withLock { $0[ObjectIdentifier(subscription)] = WeakPullSubscription(handle: subscription) }
    }

    func unregister(_ subscription: ObjectIdentifier) {
        pullSubscriptions.withLock { _ = $0.removeValue(forKey: subscription) }
    }

    private init(pointer: OpaquePointer, events: ConnectionEventHub) {
        self.pointer = pointer
        self.events = events
    }

    deinit {
        // Destroy closes the connection first if needed, which joins cnats threads: keep that
        // off whatever thread released the last reference.
        let handle = SendablePointer(pointer: pointer)
        BlockingExecutor.shared.submit { natsConnection_Destroy(handle.pointer) }
    }

    // MARK: - Connect (blocking: run on the executor)

    /// Connects. With `retryOnFailedConnect`, returns a handle that may not be connected yet
    /// (the caller waits for the `connected` event).
    static func connect(_ configuration: NATSConfiguration, events: ConnectionEventHub) throws(NATSError) -> (ConnectionHandle, connected: Bool) {
        let operation = "connect to \(configuration.servers.map(NATSConfiguration.redactingURL).joined(separator: ","))"
        let arena = CStringArena()
        // The hub is retained for cnats' callbacks and released in the closed callback, which
        // cnats calls exactly once, after the last other callback.
        let context = Unmanaged.passRetained(events).toOpaque()
        var options: OpaquePointer? = nil
        do {
            try CError.check(natsOptions_Create(&options), operation + " (natsOptions_Create)")
        } catch {
            Unmanaged<ConnectionEventHub>.fromOpaque(context).release()
            throw error
        }
        guard let options else {
            Unmanaged<ConnectionEventHub>.fromOpaque(context).release()
            throw NATSError(code: .unknown, operation: operation, message: "natsOptions_Create returned nothing")
        }
        defer { natsOptions_Destroy(options) }  // the connection keeps its own copy

        var connection: OpaquePointer? = nil
        let status: natsStatus
        do {
            try apply(configuration, to: options, context: context, arena: arena, operation: operation)
            status = natsConnection_Connect(&connection, options)
        } catch {
            Unmanaged<ConnectionEventHub>.fromOpaque(context).release()
            throw error
        }
        switch status {
        case NATS_OK, NATS_NOT_YET_CONNECTED:
            guard let connection else {
                Unmanaged<ConnectionEventHub>.fromOpaque(context).release()
                throw NATSError(code: .unknown, operation: operation, message: "natsConnection_Connect returned no connection")
            }
            return (ConnectionHandle(pointer: connection, events: events), status == NATS_OK)
        default:
            // cnats released the connection without calling back: the context is ours to free.
            let error = CError.make(status, operation: operation)
            Unmanaged<ConnectionEventHub>.fromOpaque(context).release()
            throw connectError(error, configuration: configuration, operation: operation)
        }
    }

    static func connectError(_ error: NATSError, configuration: NATSConfiguration, operation: String) -> NATSError {
        var message = error.message
        switch error.code {
        case .connectionFailed, .timeout, .io:
            message += "; check that nats-server is running at that address and reachable"
        case .authorization:
            message += "; check the user/password, token, .creds file or nkey"
        case .tls:
            message += "; check the CA, certificate and key files and the server's TLS settings"
        case .protocolError where configuration.tls != nil, .io where configuration.tls != nil:
            // With TLS 1.3 a server that rejects (or misses) the client certificate closes the
            // connection after the handshake: all the client sees is an empty read.
            if configuration.tls?.certificateFile == nil {
                message += "; the server closed the TLS connection: if it requires client certificates, give a certificate and key file"
            } else {
                message += "; the server closed the TLS connection: check that it trusts the CA that signed the client certificate"
            }
        default:
            break
        }
        return NATSError(code: error.code, operation: operation, message: message, status: error.status, jetStreamErrorCode: error.jetStreamErrorCode)
    }

    private static func apply(
        _ configuration: NATSConfiguration,
        to options: OpaquePointer,
        context: UnsafeMutableRawPointer,
        arena: CStringArena,
        operation: String
    ) throws(NATSError) {
        guard !configuration.servers.isEmpty else {
            throw .invalidArgument("no server URL given; set at least one, e.g. nats://127.0.0.1:4222", operation: operation)
        }
        for server in configuration.servers where !server.contains("://") || server.contains(where: { $0.isWhitespace }) {
            throw .invalidArgument("\"\(NATSConfiguration.redactingURL(server))\" is not a server URL; write it as nats://host:port or tls://host:port", operation: operation)
        }
        func set(_ status: natsStatus, _ what: String) throws(NATSError) {
            try CError.check(status, operation + " (" + what + ")")
        }
        try set(natsOptions_SetServers(options, arena.stringArray(configuration.servers), Int32(configuration.servers.count)), "servers")
        if let name = configuration.name { try set(natsOptions_SetName(options, name), "name") }
        try set(natsOptions_SetNoRandomize(options, configuration.noRandomize), "noRandomize")
        try set(natsOptions_SetTimeout(options, configuration.connectTimeout.wholeMilliseconds), "connect timeout")
        try set(natsOptions_SetPingInterval(options, configuration.pingInterval.wholeMilliseconds), "ping interval")
        try set(natsOptions_SetMaxPingsOut(options, Int32(configuration.maxPingsOut)), "max pings out")
        try set(natsOptions_SetSendAsap(options, configuration.sendAsap), "send asap")
        if let deadline = configuration.writeDeadline {
            try set(natsOptions_SetWriteDeadline(options, deadline.wholeMilliseconds), "write deadline")
        }

        let reconnect = configuration.reconnect
        try set(natsOptions_SetAllowReconnect(options, reconnect.allowed), "allow reconnect")
        try set(natsOptions_SetMaxReconnect(options, Int32(reconnect.maxAttempts ?? -1)), "max reconnect")
        try set(natsOptions_SetReconnectWait(options, reconnect.wait.wholeMilliseconds), "reconnect wait")
        try set(natsOptions_SetReconnectJitter(options, reconnect.jitter.wholeMilliseconds, reconnect.jitterTLS.wholeMilliseconds), "reconnect jitter")
        try set(natsOptions_SetReconnectBufSize(options, Int32(clamping: reconnect.bufferSize)), "reconnect buffer")

        switch configuration.authentication {
        case .none:
            break
        case .userPassword(let user, let password):
            try set(natsOptions_SetUserInfo(options, user, password), "user and password")
        case .token(let token):
            try set(natsOptions_SetToken(options, token), "token")
        case .credentialsFile(let path):
            try set(natsOptions_SetUserCredentialsFromFiles(options, path, nil), "credentials file \(path)")
        case .nkey(let publicKey, let seedFile):
            try set(natsOptions_SetNKeyFromSeed(options, publicKey, seedFile), "nkey seed file \(seedFile)")
        }

        if let tls = configuration.tls {
            try set(natsOptions_SetSecure(options, true), "TLS")
            if let caFile = tls.caFile {
                try set(natsOptions_LoadCATrustedCertificates(options, caFile), "TLS CA file \(caFile)")
            }
            if tls.certificateFile != nil || tls.keyFile != nil {
                guard let certificate = tls.certificateFile, let key = tls.keyFile else {
                    throw .invalidArgument("a TLS client certificate needs both the certificate file and the key file", operation: operation)
                }
                try set(natsOptions_LoadCertificatesChain(options, certificate, key), "TLS certificate \(certificate) and key")
            }
            if let hostname = tls.expectedHostname {
                try set(natsOptions_SetExpectedHostname(options, hostname), "TLS expected hostname")
            }
            if tls.skipServerVerification {
                try set(natsOptions_SkipServerVerification(options, true), "TLS skip verification")
            }
        }

        try set(natsOptions_SetRetryOnFailedConnect(options, configuration.retryOnFailedConnect, onConnected, context), "retry on failed connect")
        try set(natsOptions_SetDisconnectedCB(options, onDisconnected, context), "disconnected callback")
        try set(natsOptions_SetReconnectedCB(options, onReconnected, context), "reconnected callback")
        try set(natsOptions_SetClosedCB(options, onClosed, context), "closed callback")
        try set(natsOptions_SetLameDuckModeCB(options, onLameDuck, context), "lame duck callback")
        try set(natsOptions_SetErrorHandler(options, onAsyncError, context), "error handler")
    }

    // MARK: - Calls that do not wait for the server (safe on any thread)

    /// Publishes. cnats appends the message to the connection's write buffer (or, with
    /// `sendAsap`, hands it to the socket) and returns without waiting for the server.
    func publish(subject: String, reply: String?, headers: NATSHeaders, payload: [UInt8]) throws(NATSError) {
        let operation = "publish to \(subject)"
        if headers.isEmpty {
            let status = payload.withUnsafeBytes { bytes in
                if let reply {
                    natsConnection_PublishRequest(pointer, subject, reply, bytes.baseAddress, Int32(bytes.count))
                } else {
                    natsConnection_Publish(pointer, subject, bytes.baseAddress, Int32(bytes.count))
                }
            }
            try CError.check(status, operation)
        } else {
            try CMessage.withMessage(subject: subject, reply: reply, headers: headers, payload: payload, operation: operation) { message throws(NATSError) in
                try CError.check(natsConnection_PublishMsg(pointer, message), operation)
            }
        }
    }

    var isConnected: Bool { natsConnection_Status(pointer) == NATS_CONN_STATUS_CONNECTED }
    var isClosed: Bool { natsConnection_IsClosed(pointer) }

    var connectedURL: String? {
        var buffer = [CChar](repeating: 0, count: 512)
        guard natsConnection_GetConnectedUrl(pointer, &buffer, buffer.count) == NATS_OK else { return nil }
        let url = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return url.isEmpty ? nil : url
    }

    var maxPayload: Int { Int(natsConnection_GetMaxPayload(pointer)) }

    /// The connection's last error (cnats keeps it per connection), classified; nil if none.
    /// Used while a retried first connect is pending: an authorization or TLS refusal will not
    /// heal by waiting, and is a better answer than "no server answered".
    var lastConnectError: NATSError? {
        var text: UnsafePointer<CChar>? = nil
        let status = natsConnection_GetLastError(pointer, &text)
        guard status != NATS_OK else { return nil }
        let message = text.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? String(cString: natsStatus_GetText(status))
        let code: NATSError.Code
        switch status {
        case NATS_CONNECTION_AUTH_FAILED: code = .authorization
        case NATS_NOT_PERMITTED: code = .permissionDenied
        case NATS_SSL_ERROR, NATS_SECURE_CONNECTION_WANTED, NATS_SECURE_CONNECTION_REQUIRED: code = .tls
        default: code = message.contains("Authorization Violation") ? .authorization : .connectionFailed
        }
        return NATSError(code: code, operation: "connect", message: message, status: CError.name(of: status))
    }

    // MARK: - Calls that wait for the server (run on the executor)

    func flush(timeout: Duration) throws(NATSError) {
        try CError.check(natsConnection_FlushTimeout(pointer, timeout.wholeMilliseconds), "flush")
    }

    /// Starts draining: subscriptions stop receiving, pending messages are processed, pending
    /// publishes are flushed, then the connection closes (the closed event follows).
    func startDrain(timeout: Duration) throws(NATSError) {
        closeRequested.withLock { $0 = true }
        let pulls = pullSubscriptions.withLock { Array($0.values).compactMap(\.handle) }
        for pull in pulls { pull.unsubscribe() }
        try CError.check(natsConnection_DrainTimeout(pointer, timeout.wholeMilliseconds), "drain")
    }

    /// Closes; idempotent. Joins cnats threads, so it runs on the executor.
    func close() {
        closeRequested.withLock { $0 = true }
        natsConnection_Close(pointer)
    }

    var wasCloseRequested: Bool { closeRequested.withLock { $0 } }
}

// MARK: - cnats callbacks (on cnats' async-callback thread)

private func hub(_ closure: UnsafeMutableRawPointer?) -> ConnectionEventHub? {
    closure.map { Unmanaged<ConnectionEventHub>.fromOpaque($0).takeUnretainedValue() }
}

private func onConnected(_ connection: OpaquePointer?, _ closure: UnsafeMutableRawPointer?) {
    hub(closure)?.emit(.connected)
}

private func onDisconnected(_ connection: OpaquePointer?, _ closure: UnsafeMutableRawPointer?) {
    hub(closure)?.emit(.disconnected)
}

private func onReconnected(_ connection: OpaquePointer?, _ closure: UnsafeMutableRawPointer?) {
    var url: String? = nil
    if let connection {
        var buffer = [CChar](repeating: 0, count: 512)
        if natsConnection_GetConnectedUrl(connection, &buffer, buffer.count) == NATS_OK {
            url = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
    hub(closure)?.emit(.reconnected(server: url))
}

private func onLameDuck(_ connection: OpaquePointer?, _ closure: UnsafeMutableRawPointer?) {
    hub(closure)?.emit(.lameDuckMode)
}

private func onClosed(_ connection: OpaquePointer?, _ closure: UnsafeMutableRawPointer?) {
    guard let closure else { return }
    let unmanaged = Unmanaged<ConnectionEventHub>.fromOpaque(closure)
    unmanaged.takeUnretainedValue().emit(.closed)
    // The last callback cnats makes for this connection: balance passRetained in connect.
    unmanaged.release()
}

private func onAsyncError(_ connection: OpaquePointer?, _ subscription: OpaquePointer?, _ status: natsStatus, _ closure: UnsafeMutableRawPointer?) {
    var text = String(cString: natsStatus_GetText(status))
    if let connection {
        var lastError: UnsafePointer<CChar>? = nil
        _ = natsConnection_GetLastError(connection, &lastError)
        if let lastError, lastError.pointee != 0 { text = String(cString: lastError) }
    }
    var subject = ""
    if let subscription, let name = natsSubscription_GetSubject(subscription) {
        subject = " on " + String(cString: name)
    }
    let error = NATSError(
        code: status == NATS_SLOW_CONSUMER ? .slowConsumer : (status == NATS_NOT_PERMITTED ? .permissionDenied : .unknown),
        operation: "asynchronous error\(subject)",
        message: text,
        status: CError.name(of: status)
    )
    hub(closure)?.emit(.error(error))
}
