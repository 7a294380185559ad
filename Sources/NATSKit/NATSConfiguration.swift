import Foundation

/// How to connect to NATS: servers, identity, credentials, TLS, reconnection and timeouts.
///
/// All defaults suit a long-running worker: reconnect forever with jitter, retry a failed first
/// connect for `initialConnectTimeout` (so a worker may start before its server), and then fail
/// with a clear error rather than hang.
public struct NATSConfiguration: Sendable, CustomStringConvertible {
    /// Server URLs, e.g. `nats://127.0.0.1:4222`, `tls://nats-1:4222`. Tried in random order
    /// unless `noRandomize` is set.
    public var servers: [String]
    /// The client name the server shows in its monitoring (`connz`).
    public var name: String?
    /// Credentials, if the server wants them.
    public var authentication: Authentication
    /// TLS settings; nil for plain TCP (a `tls://` URL still asks for TLS).
    public var tls: TLS?
    /// How long one attempt to reach one server may take.
    public var connectTimeout: Duration
    /// Whether a failed first connect keeps trying in the background (until
    /// `initialConnectTimeout`), rather than failing at once.
    public var retryOnFailedConnect: Bool
    /// The longest `connect` waits for a first connection when `retryOnFailedConnect` is on.
    public var initialConnectTimeout: Duration
    /// Reconnection after a lost connection.
    public var reconnect: Reconnect
    /// How often the client pings the server to detect a dead connection.
    public var pingInterval: Duration
    /// Unanswered pings before the connection counts as stale.
    public var maxPingsOut: Int
    /// Write every message to the socket at once instead of letting cnats' flusher thread batch
    /// them (it waits about 1 ms to gather more). On by default: requests, JetStream publishes,
    /// KV calls and synchronous acks are all request-reply and would otherwise each wait for the
    /// flusher (measured: about 1 ms per call instead of about 0.1 ms). Turn it off only for
    /// connections that publish bulk fire-and-forget traffic.
    public var sendAsap: Bool
    /// The longest a socket write may block before the connection is considered broken.
    public var writeDeadline: Duration?
    /// Keep the order of `servers` instead of shuffling them.
    public var noRandomize: Bool
    /// Messages a core subscription buffers for a slow reader before dropping (as NATS core
    /// does for slow consumers; dropped messages are reported as a `slowConsumer` event).
    public var subscriptionBufferLimit: Int

    public init(
        servers: [String] = ["nats://127.0.0.1:4222"],
        name: String? = nil,
        authentication: Authentication = .none,
        tls: TLS? = nil,
        connectTimeout: Duration = .seconds(2),
        retryOnFailedConnect: Bool = true,
        initialConnectTimeout: Duration = .seconds(10),
        reconnect: Reconnect = Reconnect(),
        pingInterval: Duration = .seconds(20),
        maxPingsOut: Int = 3,
        sendAsap: Bool = true,
        writeDeadline: Duration? = .seconds(10),
        noRandomize: Bool = false,
        subscriptionBufferLimit: Int = 65_536
    ) {
        self.servers = servers
        self.name = name
        self.authentication = authentication
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.retryOnFailedConnect = retryOnFailedConnect
        self.initialConnectTimeout = initialConnectTimeout
        self.reconnect = reconnect
        self.pingInterval = pingInterval
        self.maxPingsOut = maxPingsOut
        self.sendAsap = sendAsap
        self.writeDeadline = writeDeadline
        self.noRandomize = noRandomize
        self.subscriptionBufferLimit = subscriptionBufferLimit
    }

    /// Parses a NATS CLI style server list: comma-separated URLs (`NATS_URL`). A bare
    /// `host:port` gets `nats://` in front.
    public static func servers(fromList list: String) -> [String] {
        list.split(separator: ",")
            .map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
            .map { $0.contains("://") ? $0 : "nats://" + $0 }
    }

    public var description: String {
        var parts = ["servers: \(servers.map(NATSConfiguration.redactingURL))"]
        if let name { parts.append("name: \(name)") }
        parts.append("authentication: \(authentication)")
        if let tls { parts.append("tls: \(tls)") }
        return "NATSConfiguration(" + parts.joined(separator: ", ") + ")"
    }

    /// `nats://user:secret@host` → `nats://user:***@host`, so URLs can be logged.
    public static func redactingURL(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.range(of: "@", range: schemeEnd.upperBound..<url.endIndex) else {
            return url
        }
        let userInfo = url[schemeEnd.upperBound..<at.lowerBound]
        let user = userInfo.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return String(url[..<schemeEnd.upperBound]) + (userInfo.contains(":") ? user + ":***" : "***") + String(url[at.lowerBound...])
    }
}

// MARK: - Authentication

extension NATSConfiguration {
    /// Credentials. Their descriptions never show a password, token or seed.
    public enum Authentication: Sendable, CustomStringConvertible {
        case none
        case userPassword(user: String, password: String)
        case token(String)
        /// A `.creds` file holding a user JWT and nkey seed (NATS decentralised auth).
        case credentialsFile(path: String)
        /// An nkey identity: the public key and a file holding its seed.
        case nkey(publicKey: String, seedFile: String)

        public var description: String {
            switch self {
            case .none: return "none"
            case .userPassword(let user, _): return "user \(user) with password ***"
            case .token: return "token ***"
            case .credentialsFile(let path): return "credentials file \(path)"
            case .nkey(let publicKey, let seedFile): return "nkey \(publicKey) with seed file \(seedFile)"
            }
        }
    }
}

// MARK: - TLS

extension NATSConfiguration {
    /// TLS: a CA to trust the server by, and a client certificate and key if the server asks
    /// for one (mutual TLS).
    public struct TLS: Sendable, CustomStringConvertible {
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        /// The name expected in the server certificate, if not the URL's host.
        public var expectedHostname: String?
        /// Accept any server certificate. Only for tests.
        public var skipServerVerification: Bool

        public init(
            caFile: String? = nil,
            certificateFile: String? = nil,
            keyFile: String? = nil,
            expectedHostname: String? = nil,
            skipServerVerification: Bool = false
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.expectedHostname = expectedHostname
            self.skipServerVerification = skipServerVerification
        }

        public var description: String {
            var parts: [String] = []
            if let caFile { parts.append("ca: \(caFile)") }
            if let certificateFile { parts.append("cert: \(certificateFile)") }
            if keyFile != nil { parts.append("key: (file)") }
            if let expectedHostname { parts.append("hostname: \(expectedHostname)") }
            if skipServerVerification { parts.append("server verification skipped") }
            return "TLS(" + parts.joined(separator: ", ") + ")"
        }
    }
}

// MARK: - Reconnect

extension NATSConfiguration {
    /// Reconnection after a lost connection. The defaults reconnect forever.
    public struct Reconnect: Sendable {
        public var allowed: Bool
        /// nil: forever.
        public var maxAttempts: Int?
        public var wait: Duration
        public var jitter: Duration
        public var jitterTLS: Duration
        /// Bytes published while disconnected that are kept and sent on reconnect.
        public var bufferSize: Int

        public init(
            allowed: Bool = true,
            maxAttempts: Int? = nil,
            wait: Duration = .milliseconds(500),
            jitter: Duration = .milliseconds(250),
            jitterTLS: Duration = .seconds(1),
            bufferSize: Int = 8 * 1024 * 1024
        ) {
            self.allowed = allowed
            self.maxAttempts = maxAttempts
            self.wait = wait
            self.jitter = jitter
            self.jitterTLS = jitterTLS
            self.bufferSize = bufferSize
        }
    }
}

// MARK: - Helpers

extension Duration {
    /// Whole milliseconds, rounded up so that a tiny positive duration never becomes "no wait".
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let millis = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        let remainder = attoseconds % 1_000_000_000_000_000
        return millis + (remainder > 0 ? 1 : 0)
    }

    /// Whole nanoseconds (saturating).
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return product + attoseconds / 1_000_000_000
    }

    /// A duration from a count of nanoseconds, as JetStream's APIs express them.
    static func fromNanoseconds(_ value: Int64) -> Duration {
        .seconds(value / 1_000_000_000) + .nanoseconds(value % 1_000_000_000)
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
