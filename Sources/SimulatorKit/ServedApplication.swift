import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A Hummingbird application served until stopped, in a `ServiceGroup` of its own: ``run(handlingShutdownSignals:logger:onListening:_:)``
/// serves in the foreground, ``start(running:)`` in the background and returns the port it bound
/// (ask for port 0 to get a free one), ``stop()`` ends it and waits until the port is closed.
/// What simulators, the fault proxy and test targets share.
public final class ServedApplication: Sendable {
    private struct State {
        var port: Int?
        /// The background task of ``start(running:)``.
        var task: Task<Void, Never>?
        /// The group serving while running: ``stop()`` shuts it down.
        var group: ServiceGroup?
        /// Inside ``run(handlingShutdownSignals:logger:onListening:_:)``: a second run is refused.
        var serving = false
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
    private let gracefulShutdownTimeout: Duration?
    private let alreadyRunning: any Error
    private let stoppedBeforeListening: any Error

    /// - Parameters:
    ///   - gracefulShutdownTimeout: with a value, ``stop()`` stops accepting, lets the connections
    ///     it has accepted finish and closes them once idle, and cancels what is left after this
    ///     long. Cancelling the serving task instead traps in NIO ("Deinited NIOAsyncWriter
    ///     without calling finish()") when a connection accepted at that moment was never handed
    ///     to the server, e.g. a client retrying a refused TLS handshake (apple/swift-nio#3481):
    ///     simulators give one. `nil`: ``stop()`` cancels at once, so a request a test left hanging
    ///     does not hold its teardown (the fault proxy, test targets).
    ///   - alreadyRunning: thrown by a second run or start while one serves.
    ///   - stoppedBeforeListening: thrown by a start whose server ended before it listened.
    public init(
        gracefulShutdownTimeout: Duration? = nil,
        alreadyRunning: any Error = Failure.alreadyRunning,
        stoppedBeforeListening: any Error = Failure.stoppedBeforeListening
    ) {
        self.gracefulShutdownTimeout = gracefulShutdownTimeout
        self.alreadyRunning = alreadyRunning
        self.stoppedBeforeListening = stoppedBeforeListening
    }

    /// Serves the application `make` builds (given the callback its `onServerRunning` must call
    /// with the bound port) until ``stop()``, the task's cancellation or, with
    /// `handlingShutdownSignals`, SIGINT or SIGTERM.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// - Throws: the `alreadyRunning` error while another run serves, or what `make` or the
    ///   server throws.
    public func run<App: ApplicationProtocol>(
        handlingShutdownSignals: Bool = false,
        logger: Logger = Logger(label: "simulator-kit", factory: { _ in SwiftLogNoOpLogHandler() }),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        _ make: (_ onListening: @escaping @Sendable (Int) async -> Void) async throws -> App
    ) async throws {
        let alreadyServing = self.state.withLock { state in
            defer { state.serving = true }
            return state.serving
        }
        if alreadyServing { throw self.alreadyRunning }
        defer {
            self.state.withLock { state in
                state.serving = false
                state.port = nil
                state.group = nil
            }
        }
        let app = try await make { [weak self] port in
            self?.state.withLock { $0.port = port }
            await onListening(port)
        }
        var configuration = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: handlingShutdownSignals ? [.sigterm, .sigint] : [], logger: logger
        )
        if let timeout = self.gracefulShutdownTimeout { configuration.maximumGracefulShutdownDuration = timeout }
        let group = ServiceGroup(configuration: configuration)
        self.state.withLock { $0.group = group }
        try await group.run()
    }

    /// Runs `run` (which serves, calling its `onListening` with the bound port) in the background;
    /// returns the port once it listens.
    ///
    /// - Throws: the `alreadyRunning` error if started twice, the `stoppedBeforeListening` error
    ///   if `run` ended before it listened, or what `run` threw.
    @discardableResult
    public func start(
        running run: @escaping @Sendable (_ onListening: @escaping @Sendable (Int) async -> Void) async throws -> Void
    ) async throws -> Int {
        let (results, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let stoppedBeforeListening = self.stoppedBeforeListening
        let task = Task {
            do {
                try await run { port in continuation.yield(.success(port)) }
                continuation.yield(.failure(stoppedBeforeListening))
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        let alreadyRunning = self.state.withLock { state in
            guard state.task == nil else { return true }
            state.task = task
            return false
        }
        if alreadyRunning {
            task.cancel()
            throw self.alreadyRunning
        }
        for await result in results {
            do {
                return try result.get()
            } catch {
                self.state.withLock { $0.task = nil }
                throw error
            }
        }
        throw stoppedBeforeListening
    }

    /// Builds the application with `make` (given the callback its `onServerRunning` must call with
    /// the bound port) and serves it in the background, handling SIGINT and SIGTERM as
    /// `runService()` does; returns once it listens.
    public func start<App: ApplicationProtocol>(
        _ make: @escaping @Sendable (_ onListening: @escaping @Sendable (Int) async -> Void) throws -> App
    ) async throws -> Int {
        try await self.start(running: { onListening in
            try await self.run(handlingShutdownSignals: true, onListening: onListening, make)
        })
    }

    /// Stops the application (gracefully if so configured) and waits until it has closed its port.
    public func stop() async {
        let (task, group) = self.state.withLock { state in
            defer { state.task = nil }
            return (state.task, state.group)
        }
        if let group, self.gracefulShutdownTimeout != nil {
            await group.triggerGracefulShutdown()
        } else {
            task?.cancel()
        }
        await task?.value
    }

    /// The bound port while running.
    public var port: Int? { self.state.withLock { $0.port } }
}

// MARK: - Simulators

extension ServedApplication {
    /// Serves `router` on `host`:`port` over `server` (HTTP/1.1 by default, or
    /// ``httpsServer(certificateChain:privateKey:)``) until stopped; see
    /// ``run(handlingShutdownSignals:logger:onListening:_:)``.
    ///
    /// - Parameter prepare: runs once this run is admitted (no other run serves), before the
    ///   server binds: a simulator loads what it keeps there, and a refused second run loads
    ///   nothing over the state the first one serves.
    public func run(
        router: Router<BasicRequestContext>,
        host: String,
        port: Int,
        server: HTTPServerBuilder = .http1(),
        handlingShutdownSignals: Bool,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void,
        prepare: () async throws -> Void = {}
    ) async throws {
        try await self.run(handlingShutdownSignals: handlingShutdownSignals, logger: logger, onListening: onListening) { onListening in
            try await prepare()
            return Application(
                router: router,
                server: server,
                configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
                onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                logger: logger
            )
        }
    }

    /// Why a simulator cannot serve HTTPS: the certificate chain or the key cannot be used.
    public struct TLSFailure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong, naming the file (`cannot read the private key /x/key.pem as PEM: ...`).
        public var problem: String

        public var description: String { self.problem }
    }

    /// HTTP/1.1 over TLS with the certificate chain and private key of two PEM files.
    ///
    /// - Throws: ``TLSFailure`` naming the file that cannot be read or holds no certificate.
    public static func httpsServer(certificateChain: String, privateKey: String) throws(TLSFailure) -> HTTPServerBuilder {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChain)
        } catch {
            throw TLSFailure(problem: "cannot read the certificate chain \(certificateChain) as PEM: \(error)")
        }
        guard !chain.isEmpty else { throw TLSFailure(problem: "\(certificateChain) holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw TLSFailure(problem: "cannot read the private key \(privateKey) as PEM: \(error)")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            return try .tls(.http1(), tlsConfiguration: configuration)
        } catch {
            throw TLSFailure(problem: "certificate \(certificateChain) and key \(privateKey) do not make a TLS configuration: \(error)")
        }
    }
}
