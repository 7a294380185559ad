import Foundation
import HightouchSimulator

/// One chaos run: how many applies, how many replicas, and which faults hit them.
///
/// Every variant kills a random operator replica with SIGKILL every few seconds and restarts it;
/// `nats` and `vendorFaults` add faults on top.
public struct ChaosScenario: Sendable {
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
        /// A second run is triggered on some syncs behind the operator's back (a double trigger).
        case extraTrigger = "extra-trigger"
        /// A resource's status is removed from KV after the run (a lost command's trace).
        case dropStatus = "drop-status"
    }

    public var name: String
    /// Distinct resources applied, one apply command each.
    public var applies: Int
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
    /// 30 % 5xx throughout, plus 429 storms, latency spikes and a revoked token, in turn.
    public var vendorFaults: Bool
    /// Simulated run length.
    public var runDuration: Duration
    /// Run outcome weights of the simulator (the checker expects whatever it decided).
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

    /// The variants of issue 8, by name (what `factory-chaos` runs by default).
    public static let variantNames = ["replica-kills", "nats-restart", "nats-cluster", "vendor-faults"]
    /// Variants run only when named: the known limit of the protocol.
    public static let extraVariantNames = ["replica-freeze"]

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
        default: return nil
        }
        return scenario
    }

    /// The hightouch-operator binary next to the running executable, or under `.build` of the
    /// package root (debug first), or `$OPERATOR_BINARY`.
    public static func defaultOperatorBinary(packageRoot: String? = nil) -> String {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["OPERATOR_BINARY"], !explicit.isEmpty { return explicit }
        let beside = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent().appendingPathComponent("hightouch-operator").path
        if fileManager.isExecutableFile(atPath: beside) { return beside }
        let root = packageRoot ?? fileManager.currentDirectoryPath
        for configuration in ["debug", "release"] {
            let candidate = root + "/.build/\(configuration)/hightouch-operator"
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return root + "/.build/debug/hightouch-operator"
    }
}
