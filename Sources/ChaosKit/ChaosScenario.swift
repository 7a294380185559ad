import Foundation
import HightouchSimulator

/// One chaos run: how many applies, of which resource types, how many replicas, and which faults
/// hit them.
///
/// Every variant kills a random operator replica with SIGKILL every few seconds and restarts it;
/// `nats` and `vendorFaults` add faults on top. The Hightouch variants run `hightouch-operator`
/// replicas (the seed's drop-in); `mixed` runs `factory-operator` replicas hosting every type.
public struct ChaosScenario: Sendable {
    /// Which operator executable the replicas are.
    public enum Executable: String, Sendable {
        /// `hightouch-operator`: Hightouch only, on the seed operator's names.
        case hightouchOperator = "hightouch-operator"
        /// `factory-operator` hosting `types` (OPERATOR_DRIVERS).
        case factoryOperator = "factory-operator"
    }

    /// What happens to NATS during the run.
    public enum NATSFault: String, Sendable, CaseIterable {
        /// One nats-server, left alone.
        case none
        /// One nats-server, killed with SIGKILL mid-run and restarted on the same port and store.
        case restart
        /// A 3-node JetStream cluster (R3 streams and buckets); one node is killed with SIGKILL
        /// mid-run and restarted later.
        case cluster
    }

    /// A deliberate fault in the run itself, to show that the checker catches it.
    public enum Sabotage: String, Sendable, CaseIterable {
        case none
        /// A second run is started on three resources' targets behind the operator's back, through
        /// the vendor's public API (a double trigger): Hightouch syncs, or in a scenario hosting dbt
        /// Cloud, dbt Cloud jobs (``ChaosScenario/sabotageType``).
        case extraTrigger = "extra-trigger"
        /// A resource's status is removed from KV after the run (a lost command's trace).
        case dropStatus = "drop-status"
    }

    public var name: String
    /// Distinct resources applied, one apply command each, spread over `types` in turn.
    public var applies: Int
    /// Resource types of the applies (each resource its own target at its vendor).
    public var types: [String] = ["hightouch"]
    /// The replicas' executable; `factoryOperator` for anything but Hightouch alone.
    public var executable: Executable = .hightouchOperator
    /// Every n-th resource of each type has its run forced to fail at its vendor (nil or 0: none;
    /// 10 in `mixed`; the Hightouch simulator's outcome weights decide as well). The checker
    /// expects those failed.
    public var forcedFailureEvery: Int?
    /// Per type, this many applies whose spec lacks its required field, published among the
    /// others: each must be refused and dead-lettered once, with nothing sent to the vendor
    /// (nil: none; 2 in `mixed`).
    public var refusalsPerType: Int?
    /// The type whose vendor `extraTrigger` runs behind the operator's back (nil: dbt Cloud when
    /// the scenario hosts it, else the first type).
    public var sabotageType: String?
    /// Tasks per pipeline (uniform in the range): set, the run is the `pipelines` variant, whose
    /// `applies` are pipelines, each applied and run once (``PipelineChaosRunner``).
    public var pipelineTasks: ClosedRange<Int>?
    /// Operator replica processes.
    public var replicas: Int
    /// OPERATOR_MAX_WORKERS of each replica.
    public var workersPerReplica: Int
    /// Kill a random replica (SIGKILL) and restart it, again and again until the work is done.
    public var replicaKills: Bool
    /// Seconds between two kills (uniformly random in this range).
    public var killInterval: ClosedRange<Double>
    /// Seconds a killed replica stays down before it is restarted.
    public var restartDelay: ClosedRange<Double>
    /// At most this many replica kills (nil: no limit).
    public var maxKills: Int?
    /// Freeze the victim (SIGSTOP, then SIGCONT after `freezeFor` seconds) instead of killing
    /// it: the one case docs/state.md says is not covered (a replica frozen for longer than half
    /// the ack wait in the middle of a trigger).
    public var freezeReplicas: Bool = false
    public var freezeFor: ClosedRange<Double> = 2.5...5
    public var nats: NATSFault
    /// The NATS fault strikes once this share of the applies has been published.
    public var natsFaultAt: Double
    /// How long the killed nats-server (or cluster node) stays down.
    public var natsDowntime: Duration
    /// 30 % 5xx throughout, plus 429 storms, latency spikes, a revoked token and vendor objects
    /// deleted behind the operator's back (where the operator owns them), in turn.
    public var vendorFaults: Bool
    /// Simulated run length.
    public var runDuration: Duration
    /// Run outcome weights of the Hightouch simulator (the checker expects whatever it decided).
    /// The other vendors' runs succeed, but for the forced failures.
    public var outcomes: [HightouchSimulator.RunOutcome: Double]
    /// OPERATOR_ACK_WAIT of the replicas.
    public var ackWait: Duration
    /// Applies published per second.
    public var publishRate: Double
    /// Faults (kills, NATS and vendor faults) go on until the work is done or, at the latest,
    /// this long after the work began (and every apply is published); then everything heals.
    public var faultWindow: Duration
    /// How long the work may take after the faults end before the run counts as stuck.
    public var settleTimeout: Duration
    /// Seed of every random choice of the driver (kill times, victims) and of the simulator.
    public var seed: UInt64
    public var sabotage: Sabotage
    /// The `hightouch-operator` executable.
    public var operatorBinary: String
    /// The `factory-operator` executable (variants hosting several types).
    public var factoryOperatorBinary: String = ChaosScenario.defaultOperatorBinary(named: "factory-operator")
    /// The nats-server executable (nil: NATSTestKit's lookup).
    public var natsServerBinary: String?
    /// Where logs and state files go (a fresh directory under it per run).
    public var workRoot: String
    /// Keep the run directory (logs) even when the run passes.
    public var keepLogs: Bool
    /// Print progress lines.
    public var verbose: Bool

    public init(
        name: String = "replica-kills",
        applies: Int = 1_000,
        replicas: Int = 3,
        workersPerReplica: Int = 4,
        replicaKills: Bool = true,
        killInterval: ClosedRange<Double> = 1.5...4,
        restartDelay: ClosedRange<Double> = 0.2...1.5,
        maxKills: Int? = nil,
        nats: NATSFault = .none,
        natsFaultAt: Double = 0.4,
        natsDowntime: Duration = .seconds(3),
        vendorFaults: Bool = false,
        runDuration: Duration = .milliseconds(1500),
        outcomes: [HightouchSimulator.RunOutcome: Double] = [.success: 8, .warning: 1, .failed: 1],
        ackWait: Duration = .seconds(2),
        publishRate: Double = 50,
        faultWindow: Duration = .seconds(120),
        settleTimeout: Duration = .seconds(300),
        seed: UInt64 = 2026,
        sabotage: Sabotage = .none,
        operatorBinary: String,
        natsServerBinary: String? = nil,
        workRoot: String = FileManager.default.temporaryDirectory.path,
        keepLogs: Bool = false,
        verbose: Bool = true
    ) {
        self.name = name
        self.applies = applies
        self.replicas = replicas
        self.workersPerReplica = workersPerReplica
        self.replicaKills = replicaKills
        self.killInterval = killInterval
        self.restartDelay = restartDelay
        self.maxKills = maxKills
        self.nats = nats
        self.natsFaultAt = natsFaultAt
        self.natsDowntime = natsDowntime
        self.vendorFaults = vendorFaults
        self.runDuration = runDuration
        self.outcomes = outcomes
        self.ackWait = ackWait
        self.publishRate = publishRate
        self.faultWindow = faultWindow
        self.settleTimeout = settleTimeout
        self.seed = seed
        self.sabotage = sabotage
        self.operatorBinary = operatorBinary
        self.natsServerBinary = natsServerBinary
        self.workRoot = workRoot
        self.keepLogs = keepLogs
        self.verbose = verbose
    }

    /// The variants of issue 8, and `mixed` (issues 14, 19), by name (what `factory-chaos` runs by
    /// default).
    public static let variantNames = ["replica-kills", "nats-restart", "nats-cluster", "vendor-faults", "mixed", "pipelines"]
    /// Variants run only when named: the known limit of the protocol; the mixed run with vendor
    /// faults at every vendor.
    public static let extraVariantNames = ["replica-freeze", "mixed-vendor-faults"]
    /// Every resource type `factory-operator` hosts, in OPERATOR_DRIVERS order.
    public static let allTypes = ["hightouch", "http", "fivetran", "dbtcloud", "census"]

    /// The executable the replicas run.
    public var replicaBinary: String { executable == .factoryOperator ? factoryOperatorBinary : operatorBinary }

    /// The type `extraTrigger` sabotages.
    public var sabotagedType: String { sabotageType ?? (types.contains("dbtcloud") ? "dbtcloud" : types.first ?? "hightouch") }

    /// This scenario hosting every type in `factory-operator` replicas, applies spread over them,
    /// every tenth resource of each type forced to fail at its vendor.
    public func mixed() -> ChaosScenario {
        var scenario = self
        scenario.types = Self.allTypes
        scenario.executable = .factoryOperator
        scenario.forcedFailureEvery = scenario.forcedFailureEvery ?? 10
        scenario.refusalsPerType = scenario.refusalsPerType ?? 2
        return scenario
    }

    /// This scenario as the `pipelines` variant (issue 15): `factory-operator` replicas hosting
    /// dbt Cloud, Census, HTTP tasks, Fivetran and `pipeline`; `applies` pipelines of
    /// `pipelineTasks` (5–20) tasks each; every third pipeline with one task forced to fail.
    public func pipelines() -> ChaosScenario {
        var scenario = self
        scenario.types = PipelineChaosRunner.types
        scenario.executable = .factoryOperator
        scenario.pipelineTasks = scenario.pipelineTasks ?? 5...20
        scenario.forcedFailureEvery = scenario.forcedFailureEvery ?? 3
        scenario.refusalsPerType = nil
        return scenario
    }

    /// A named variant with this scenario's other settings.
    public func variant(_ name: String) -> ChaosScenario? {
        var scenario = self
        scenario.name = name
        switch name {
        case "replica-kills": break
        case "nats-restart": scenario.nats = .restart
        case "nats-cluster": scenario.nats = .cluster
        case "vendor-faults": scenario.vendorFaults = true
        case "replica-freeze":
            scenario.freezeReplicas = true
        case "mixed":
            scenario = scenario.mixed()
            scenario.nats = .restart
        case "pipelines":
            scenario = scenario.pipelines()
        case "mixed-vendor-faults":
            scenario = scenario.mixed()
            scenario.vendorFaults = true
        default: return nil
        }
        return scenario
    }

    /// The hightouch-operator binary next to the running executable, or under `.build` of the
    /// package root (debug first), or `$OPERATOR_BINARY`.
    public static func defaultOperatorBinary(packageRoot: String? = nil) -> String {
        defaultOperatorBinary(named: "hightouch-operator", packageRoot: packageRoot)
    }

    /// The executable `name` (`hightouch-operator`, `factory-operator`) named by
    /// `$OPERATOR_BINARY` or `$FACTORY_OPERATOR_BINARY` respectively, else next to the running
    /// executable, else under `.build` of the package root (debug first).
    public static func defaultOperatorBinary(named name: String, packageRoot: String? = nil) -> String {
        let fileManager = FileManager.default
        let variable = name == "hightouch-operator" ? "OPERATOR_BINARY" : "FACTORY_OPERATOR_BINARY"
        if let explicit = ProcessInfo.processInfo.environment[variable], !explicit.isEmpty { return explicit }
        let beside = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent().appendingPathComponent(name).path
        if fileManager.isExecutableFile(atPath: beside) { return beside }
        let root = packageRoot ?? fileManager.currentDirectoryPath
        for configuration in ["debug", "release"] {
            let candidate = root + "/.build/\(configuration)/\(name)"
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return root + "/.build/debug/\(name)"
    }
}
