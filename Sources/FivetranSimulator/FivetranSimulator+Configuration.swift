import SimulatorKit

// MARK: - Configuration

extension FivetranSimulator {
    /// How a simulator starts. Everything under ``knobs`` can also be changed while it runs.
    public struct Configuration: Sendable {
        /// Interface to listen on (loopback by default).
        public var host: String
        /// Port to listen on; 0 picks a free one (read it from ``FivetranSimulator/start()``).
        public var port: Int
        /// The API key and secret pairs the API accepts (HTTP Basic). Change at run time with
        /// ``FivetranSimulator/setCredentials(_:)``.
        public var credentials: [Credential]
        /// If set, `/_admin` requires the header `X-Simulator-Admin-Token: <adminToken>`.
        public var adminToken: String?
        /// Connectors that exist at start, established: set up, unpaused, a past successful sync.
        public var connectors: [SeedConnector]
        /// PEM files of a certificate chain and its private key: serve HTTPS instead of HTTP.
        public var tls: TLSFiles?
        /// The run-time knobs' starting values.
        public var knobs: Knobs
        /// Where to send `sync_end` webhooks when a sync ends (signed with the secret in
        /// `X-Fivetran-Signature-256`, as Fivetran signs them); nil: none.
        public var webhook: SimWebhookSender.Target?

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            credentials: [Credential] = [.simulator],
            adminToken: String? = nil,
            connectors: [SeedConnector] = [.shrankPaparazzi],
            tls: TLSFiles? = nil,
            knobs: Knobs = Knobs(),
            webhook: SimWebhookSender.Target? = nil
        ) {
            self.host = host
            self.port = port
            self.credentials = credentials
            self.adminToken = adminToken
            self.connectors = connectors
            self.tls = tls
            self.knobs = knobs
            self.webhook = webhook
        }
    }

    // MARK: - Credential

    /// An API key and its secret.
    public struct Credential: Sendable, Hashable, CustomStringConvertible {
        public var apiKey: String
        public var apiSecret: String

        public init(apiKey: String, apiSecret: String) {
            self.apiKey = apiKey
            self.apiSecret = apiSecret
        }

        /// `sim-key` / `sim-secret`.
        public static let simulator = Credential(apiKey: "sim-key", apiSecret: "sim-secret")

        /// Neither the key nor the secret: Fivetran's pair is printed nowhere, the simulator's neither.
        public var description: String { "Credential(key: <redacted>, secret: <redacted>)" }
    }

    // MARK: - TLSFiles

    /// A PEM certificate chain and the PEM private key of its first certificate.
    public struct TLSFiles: Sendable, Hashable {
        public var certificateChainPath: String
        public var privateKeyPath: String

        public init(certificateChainPath: String, privateKeyPath: String) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
        }
    }

    // MARK: - SeedConnector

    /// A connector that exists when the simulator starts.
    public struct SeedConnector: Sendable, Hashable {
        /// Fivetran's id: lowercase letters, digits and underscores (`shrank_paparazzi`).
        public var id: String
        public var groupID: String
        /// The connector type (`postgres`, `google_sheets`, ...).
        public var service: String
        /// The schema in the destination; by default `<service>_<id>`.
        public var schema: String
        public var paused: Bool
        /// `auto` or `manual`.
        public var scheduleType: String
        /// `connected`, `incomplete` or `broken`.
        public var setupState: String

        public init(
            id: String,
            groupID: String = "projected_sickle",
            service: String = "postgres",
            schema: String? = nil,
            paused: Bool = false,
            scheduleType: String = "auto",
            setupState: String = "connected"
        ) {
            self.id = id
            self.groupID = groupID
            self.service = service
            self.schema = schema ?? "\(service)_\(id)"
            self.paused = paused
            self.scheduleType = scheduleType
            self.setupState = setupState
        }

        /// The connector the issue names.
        public static let shrankPaparazzi = SeedConnector(id: "shrank_paparazzi")
    }

    // MARK: - Knobs

    /// Behaviour that tests and benchmarks turn while the simulator runs.
    public struct Knobs: Sendable, Hashable {
        /// Added to every API answer.
        public var latency: Duration
        /// A uniformly random extra of up to this much per answer (seeded).
        public var latencyJitter: Duration
        /// Share (0...1) of API requests answered with ``serverErrorStatus`` instead of being served.
        public var serverErrorRate: Double
        /// The status of injected failures (500 by default; 502, 503 and 504 also make sense).
        public var serverErrorStatus: Int
        /// How long a sync (or re-sync) takes from start to end.
        public var syncDuration: Duration
        /// Relative weights of how syncs nobody forced end (0 weights never happen).
        public var outcomeWeights: [SyncOutcome: Double]
        /// The task message a failed sync leaves on the connector.
        public var failureMessage: String
        /// The API rate limit per API key; `nil` disables it.
        public var rateLimit: RateLimit?
        /// Seed of every random decision (outcomes, faults, jitter).
        public var seed: UInt64

        public init(
            latency: Duration = .zero,
            latencyJitter: Duration = .zero,
            serverErrorRate: Double = 0,
            serverErrorStatus: Int = 500,
            syncDuration: Duration = .seconds(5),
            outcomeWeights: [SyncOutcome: Double] = [.success: 1],
            failureMessage: String = "Simulated failure: the source database refused the connection (FATAL: too many connections)",
            rateLimit: RateLimit? = .documented,
            seed: UInt64 = 1
        ) {
            self.latency = latency
            self.latencyJitter = latencyJitter
            self.serverErrorRate = serverErrorRate
            self.serverErrorStatus = serverErrorStatus
            self.syncDuration = syncDuration
            self.outcomeWeights = outcomeWeights
            self.failureMessage = failureMessage
            self.rateLimit = rateLimit
            self.seed = seed
        }
    }

    // MARK: - RateLimit

    /// At most `requests` admitted requests per API key in any `window` (a sliding window).
    public struct RateLimit: Sendable, Hashable {
        public var requests: Int
        public var window: Duration

        public init(requests: Int, window: Duration) {
            self.requests = max(1, requests)
            self.window = window
        }

        /// Fivetran's documented account limit: 20,000 requests per rolling hour.
        public static let documented = RateLimit(requests: 20_000, window: .seconds(3_600))
    }

    // MARK: - SyncOutcome

    /// How a sync ends: `succeeded_at` or `failed_at` moves to its end.
    public enum SyncOutcome: String, Sendable, Hashable, CaseIterable, Codable {
        case success, failed
    }

    // MARK: - SetupTestStatus

    /// A setup test's status other than `PASSED`, for a test made to fail.
    public enum SetupTestStatus: String, Sendable, Hashable, CaseIterable {
        case failed = "FAILED"
        case warning = "WARNING"
    }
}
