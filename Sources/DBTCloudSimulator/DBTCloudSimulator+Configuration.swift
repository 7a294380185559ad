import SimulatorKit

// MARK: - Configuration

extension DBTCloudSimulator {
    /// How a simulator starts. Everything under ``knobs`` can also be changed while it runs.
    public struct Configuration: Sendable {
        /// Interface to listen on (loopback by default).
        public var host: String
        /// Port to listen on; 0 picks a free one (read it from ``DBTCloudSimulator/start()``).
        public var port: Int
        /// The one account the tokens are scoped to; another account in a path is a 403.
        public var accountID: Int
        /// API tokens accepted as `Authorization: Token <t>` or `Bearer <t>`.
        public var tokens: [String]
        /// If set, `/_admin` requires the header `X-Simulator-Admin-Token: <adminToken>`.
        public var adminToken: String?
        /// The jobs that exist (the operator does not create jobs; it runs them).
        public var jobs: [Job]
        /// Serve HTTPS with this certificate and key instead of HTTP.
        public var tls: TLSFiles?
        /// The base of runs' `href` (the UI's address); `nil`: the simulator's own URL.
        public var accessURL: String?
        /// The run-time knobs' starting values.
        public var knobs: Knobs
        /// Where to send `job.run.completed` webhooks when a run ends (signed with the secret in
        /// `Authorization`, as dbt Cloud signs them); nil: none.
        public var webhook: SimWebhookSender.Target?

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            accountID: Int = 1,
            tokens: [String] = ["sim-token"],
            adminToken: String? = nil,
            jobs: [Job] = Job.defaultJobs,
            tls: TLSFiles? = nil,
            accessURL: String? = nil,
            knobs: Knobs = Knobs(),
            webhook: SimWebhookSender.Target? = nil
        ) {
            self.host = host
            self.port = port
            self.accountID = accountID
            self.tokens = tokens
            self.adminToken = adminToken
            self.jobs = jobs
            self.tls = tls
            self.accessURL = accessURL
            self.knobs = knobs
            self.webhook = webhook
        }
    }

    /// PEM files of the server's certificate chain and private key.
    public struct TLSFiles: Sendable, Hashable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    // MARK: - Job

    /// A job that exists in the simulated account, with its project and environment.
    public struct Job: Sendable, Hashable {
        public var id: Int
        public var name: String
        public var projectID: Int
        public var projectName: String
        public var environmentID: Int
        public var environmentName: String
        /// The dbt commands a run executes, each starting with `dbt `.
        public var executeSteps: [String]
        /// 2: deleted (readable, but runs are refused).
        public var state: Int

        public init(
            id: Int, name: String, projectID: Int = 70_001, projectName: String = "Analytics", environmentID: Int = 80_001,
            environmentName: String = "Production", executeSteps: [String] = ["dbt seed", "dbt run", "dbt test"], state: Int = 1
        ) {
            self.id = id
            self.name = name
            self.projectID = projectID
            self.projectName = projectName
            self.environmentID = environmentID
            self.environmentName = environmentName
            self.executeSteps = executeSteps
            self.state = state
        }

        /// Job 43167 `Daily run` (seed, run, test) and job 43168 `Hourly build` (build).
        public static let defaultJobs: [Job] = [
            Job(id: 43_167, name: "Daily run"),
            Job(id: 43_168, name: "Hourly build", executeSteps: ["dbt build"]),
        ]
    }

    // MARK: - Knobs

    /// Behaviour that tests and benchmarks turn while the simulator runs.
    public struct Knobs: Sendable, Hashable {
        /// Added to every API answer.
        public var latency: Duration
        /// Share (0...1) of API requests answered with ``serverErrorStatus`` instead of being served.
        public var serverErrorRate: Double
        /// The status of injected failures (500 by default; 502, 503 and 504 also make sense).
        public var serverErrorStatus: Int
        /// How long a run takes on an idle job: queued 10 %, starting 10 %, running 80 % (the
        /// steps share it equally).
        public var runDuration: Duration
        /// Extra time a run stays queued before it starts.
        public var queueDelay: Duration
        /// Relative weights of the end of runs nobody forced (0 weights never happen).
        public var outcomeWeights: [RunOutcome: Double]
        /// The `status_message` of runs ending in error.
        public var failureMessage: String
        /// The API rate limit per account; `nil` disables it.
        public var rateLimit: RateLimit?
        /// Seed of every random decision (outcomes, failing steps, faults).
        public var seed: UInt64

        public init(
            latency: Duration = .zero,
            serverErrorRate: Double = 0,
            serverErrorStatus: Int = 500,
            runDuration: Duration = .seconds(5),
            queueDelay: Duration = .zero,
            outcomeWeights: [RunOutcome: Double] = [.success: 1],
            failureMessage: String = "Database Error in model orders (models/orders.sql): relation \"raw.orders\" does not exist",
            rateLimit: RateLimit? = .documented,
            seed: UInt64 = 1
        ) {
            self.latency = latency
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

    /// At most `requests` admitted requests per account in any `window` (a sliding window).
    public struct RateLimit: Sendable, Hashable {
        public var requests: Int
        public var window: Duration

        public init(requests: Int, window: Duration) {
            self.requests = max(1, requests)
            self.window = window
        }

        /// dbt Cloud's documented limit of the Administrative API: 5,000 requests per minute.
        public static let documented = RateLimit(requests: 5_000, window: .seconds(60))
    }

    // MARK: - RunOutcome

    /// How a run ends: status 10, 20 or 30.
    public enum RunOutcome: String, Sendable, Hashable, CaseIterable, Codable {
        case success, error, cancelled

        var status: Int {
            switch self {
            case .success: 10
            case .error: 20
            case .cancelled: 30
            }
        }
    }
}
