import SimulatorKit

// MARK: - Configuration

extension HightouchSimulator {
    /// How a simulator starts. Everything under ``knobs`` can also be changed while it runs.
    public struct Configuration: Sendable {
        /// Interface to listen on (loopback by default).
        public var host: String
        /// Port to listen on; 0 picks a free one (read it from ``HightouchSimulator/start()``).
        public var port: Int
        /// Path prefix of the API, as in `https://api.hightouch.com/api/v1`.
        public var basePath: String
        /// Bearer tokens the API accepts. Change at run time with ``HightouchSimulator/setTokens(_:)``.
        public var tokens: [String]
        /// If set, `/_admin` requires the header `X-Simulator-Admin-Token: <adminToken>`.
        public var adminToken: String?
        /// `workspaceId` of every object.
        public var workspaceID: Int
        /// Sources that exist at start (the seed resource's 23474 by default).
        public var sources: [SeedObject]
        /// Destinations that exist at start (the seed resource's 80565 by default).
        public var destinations: [SeedObject]
        /// The run-time knobs' starting values.
        public var knobs: Knobs
        /// A file that keeps the workspace across a stop and a start: models, syncs, sources and
        /// destinations, runs with their timelines, the id counters, the simulated clock, the trigger
        /// log and the counters (not knobs, tokens or forced outcomes, which come from here and from
        /// admin calls). ``HightouchSimulator/start()`` loads it if it exists, and fails if it cannot be
        /// used; while the simulator runs, a change is written within 200 ms (atomically), and
        /// everything is written when it stops. `nil` (the default) keeps the state in memory only.
        public var stateFile: String?

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            basePath: String = "/api/v1",
            tokens: [String] = ["sim-token"],
            adminToken: String? = nil,
            workspaceID: Int = 1,
            sources: [SeedObject] = SeedObject.defaultSources,
            destinations: [SeedObject] = SeedObject.defaultDestinations,
            knobs: Knobs = Knobs(),
            stateFile: String? = nil
        ) {
            self.host = host
            self.port = port
            self.basePath = basePath
            self.tokens = tokens
            self.adminToken = adminToken
            self.workspaceID = workspaceID
            self.sources = sources
            self.destinations = destinations
            self.knobs = knobs
            self.stateFile = stateFile
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
        /// The status of injected failures (500 by default; 502, 503 and 504 also make sense).
        public var serverErrorStatus: Int
        /// How long a run takes from start to end (querying 20 %, processing 60 %, reporting 20 %).
        public var runDuration: Duration
        /// How long a run triggered on an idle sync stays `queued` before it starts.
        public var queueDelay: Duration
        /// Relative weights of the end status of runs nobody forced (0 weights never happen).
        public var outcomeWeights: [RunOutcome: Double]
        /// The `error` of failed runs.
        public var failureMessage: String
        /// The API rate limit per token; `nil` disables it.
        public var rateLimit: RateLimit?
        /// Seed of every random decision (outcomes, row counts, faults, jitter).
        public var seed: UInt64

        public init(
            latency: Duration = .zero,
            latencyJitter: Duration = .zero,
            serverErrorRate: Double = 0,
            serverErrorStatus: Int = 500,
            runDuration: Duration = .seconds(5),
            queueDelay: Duration = .zero,
            outcomeWeights: [RunOutcome: Double] = [.success: 1],
            failureMessage: String = "Simulated failure: the destination rejected the batch (HTTP 400 from destination)",
            rateLimit: RateLimit? = .documented,
            seed: UInt64 = 1
        ) {
            self.latency = latency
            self.latencyJitter = latencyJitter
            self.serverErrorRate = serverErrorRate
            self.serverErrorStatus = serverErrorStatus
            self.runDuration = runDuration
            self.queueDelay = queueDelay
            self.outcomeWeights = outcomeWeights
            self.failureMessage = failureMessage
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

        /// Hightouch's documented limit: 200 requests per 10 seconds.
        public static let documented = RateLimit(requests: 200, window: .seconds(10))
    }

    // MARK: - RunOutcome

    /// How a run ends.
    public enum RunOutcome: String, Sendable, Hashable, CaseIterable, Codable {
        case success, warning, failed, cancelled, interrupted
    }

    // MARK: - SeedObject

    /// A source or destination that exists when the simulator starts.
    public struct SeedObject: Sendable, Hashable {
        public var id: Int
        public var name: String
        public var slug: String
        public var type: String

        public init(id: Int, name: String, slug: String, type: String) {
            self.id = id
            self.name = name
            self.slug = slug
            self.type = type
        }

        /// The seed resource's source (23474) and a second one.
        public static let defaultSources: [SeedObject] = [
            SeedObject(id: 23474, name: "icebase", slug: "icebase", type: "trino"),
            SeedObject(id: 23475, name: "warehouse", slug: "warehouse", type: "snowflake"),
        ]

        /// The seed resource's destination (80565) and a second one.
        public static let defaultDestinations: [SeedObject] = [
            SeedObject(id: 80565, name: "excel-workbook", slug: "excel-workbook", type: "microsoft_excel"),
            SeedObject(id: 80566, name: "crm", slug: "crm", type: "hubspot"),
        ]
    }
}
