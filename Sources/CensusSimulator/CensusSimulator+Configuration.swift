import SimulatorKit

// MARK: - Configuration

extension CensusSimulator {
    /// How a simulator starts. Everything under ``knobs`` can also be changed while it runs.
    public struct Configuration: Sendable {
        /// Interface to listen on (loopback by default).
        public var host: String
        /// Port to listen on; 0 picks a free one (read it from ``CensusSimulator/start()``).
        public var port: Int
        /// Path prefix of the API, as in `https://app.getcensus.com/api/v1`.
        public var basePath: String
        /// API tokens accepted, with or without their `secret-token:` prefix (a request must send
        /// the prefix, as Census issues tokens with it). Change at run time with
        /// ``CensusSimulator/setTokens(_:)``.
        public var tokens: [String]
        /// If set, `/_admin` requires the header `X-Simulator-Admin-Token: <adminToken>`.
        public var adminToken: String?
        /// Syncs that exist at start.
        public var syncs: [SeedSync]
        /// Source connections that exist at start.
        public var sources: [SeedConnection]
        /// Destination connections that exist at start.
        public var destinations: [SeedConnection]
        /// Serve HTTPS with this certificate and key (PEM files) instead of HTTP.
        public var tls: TLSFiles?
        /// The run-time knobs' starting values.
        public var knobs: Knobs

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            basePath: String = "/api/v1",
            tokens: [String] = ["secret-token:sim-token"],
            adminToken: String? = nil,
            syncs: [SeedSync] = SeedSync.defaults,
            sources: [SeedConnection] = SeedConnection.defaultSources,
            destinations: [SeedConnection] = SeedConnection.defaultDestinations,
            tls: TLSFiles? = nil,
            knobs: Knobs = Knobs()
        ) {
            self.host = host
            self.port = port
            self.basePath = basePath
            self.tokens = tokens
            self.adminToken = adminToken
            self.syncs = syncs
            self.sources = sources
            self.destinations = destinations
            self.tls = tls
            self.knobs = knobs
        }
    }

    /// A certificate chain and its private key, PEM files.
    public struct TLSFiles: Sendable, Hashable {
        public var certificateFile: String
        public var keyFile: String

        public init(certificateFile: String, keyFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
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
        /// The status of injected failures (500 from the API; 502, 503, 504 from its proxy).
        public var serverErrorStatus: Int
        /// How long a run works, from start to end (a failing run fails at 60 % of it).
        public var runDuration: Duration
        /// How long a run triggered on an idle sync stays `queued` before it starts.
        public var queueDelay: Duration
        /// How long a run triggered while an earlier run of its sync is still going stays
        /// `queued` before it is due (and skipped, if that run still goes): a run just triggered
        /// is never `skipped`.
        public var skipAfter: Duration
        /// Relative weights of how runs nobody forced end (0 weights never happen).
        public var outcomeWeights: [RunOutcome: Double]
        /// `error_message` of failed runs.
        public var failureMessage: String
        /// Shares (0...1) of a completed run's records the destination rejects
        /// (`records_failed`) and Census skips as invalid (`records_invalid`).
        public var failedRecordRate: Double
        public var invalidRecordRate: Double
        /// The API rate limit per token; `nil` (the default: Census documents none) disables it.
        public var rateLimit: RateLimit?
        /// Seed of every random decision (outcomes, record counts, faults, jitter).
        public var seed: UInt64

        public init(
            latency: Duration = .zero,
            latencyJitter: Duration = .zero,
            serverErrorRate: Double = 0,
            serverErrorStatus: Int = 500,
            runDuration: Duration = .seconds(5),
            queueDelay: Duration = .zero,
            skipAfter: Duration = .seconds(1),
            outcomeWeights: [RunOutcome: Double] = [.completed: 1],
            failureMessage: String = "The destination rejected the batch: simulated failure (HTTP 400 from the destination API)",
            failedRecordRate: Double = 0,
            invalidRecordRate: Double = 0,
            rateLimit: RateLimit? = nil,
            seed: UInt64 = 1
        ) {
            self.latency = latency
            self.latencyJitter = latencyJitter
            self.serverErrorRate = serverErrorRate
            self.serverErrorStatus = serverErrorStatus
            self.runDuration = runDuration
            self.queueDelay = queueDelay
            self.skipAfter = skipAfter
            self.outcomeWeights = outcomeWeights
            self.failureMessage = failureMessage
            self.failedRecordRate = failedRecordRate
            self.invalidRecordRate = invalidRecordRate
            self.rateLimit = rateLimit
            self.seed = seed
        }
    }

    // MARK: - RateLimit

    /// At most `requests` admitted requests per token in any `window` (a sliding window).
    public struct RateLimit: Sendable, Hashable {
        public var requests: Int
        public var window: Duration

        public init(requests: Int, window: Duration) {
            self.requests = max(1, requests)
            self.window = window
        }
    }

    // MARK: - RunOutcome

    /// How a run ends: the terminal statuses of the API.
    public enum RunOutcome: String, Sendable, Hashable, CaseIterable, Codable {
        case completed, failed
        /// As if an earlier run of the sync were still working when this one was due.
        case skipped
    }

    // MARK: - Seeds

    /// A sync that exists when the simulator starts.
    public struct SeedSync: Sendable, Hashable {
        public var id: Int
        public var label: String?
        public var sourceID: Int
        public var destinationID: Int
        public var operation: String

        public init(id: Int, label: String? = nil, sourceID: Int = 4, destinationID: Int = 15, operation: String = "upsert") {
            self.id = id
            self.label = label
            self.sourceID = sourceID
            self.destinationID = destinationID
            self.operation = operation
        }

        /// Syncs 61 and 62 (ids from Census's documentation), from source 4 to destination 15.
        public static let defaults: [SeedSync] = [
            SeedSync(id: 61, label: "Users to Braze"),
            SeedSync(id: 62, label: nil, sourceID: 10, destinationID: 12, operation: "mirror"),
        ]
    }

    /// A source or destination connection that exists when the simulator starts.
    public struct SeedConnection: Sendable, Hashable {
        public var id: Int
        public var name: String
        public var type: String

        public init(id: Int, name: String, type: String) {
            self.id = id
            self.name = name
            self.type = type
        }

        public static let defaultSources: [SeedConnection] = [
            SeedConnection(id: 4, name: "Snowflake - analytics", type: "snowflake"),
            SeedConnection(id: 10, name: "BigQuery - Development", type: "big_query"),
        ]

        public static let defaultDestinations: [SeedConnection] = [
            SeedConnection(id: 15, name: "Braze", type: "braze"),
            SeedConnection(id: 12, name: "Google Sheets", type: "google_sheets"),
        ]
    }
}
