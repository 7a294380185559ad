import FactoryModel
import Logging
import NATSKit
import ServiceLifecycle

/// Services a driver brings to run beside the engine in every replica that hosts its type (a
/// pipeline's advancer and inputs). The runtime starts them once connected, with what they need
/// of the replica, and runs them in its ordered service group after the followers' gauges and
/// before the run followers and command workers: started before any command of any hosted type
/// is fetched, shut down after the workers stopped.
public struct DriverCompanion: Sendable {
    /// For logs: `pipeline advancer and inputs`.
    public var name: String
    /// Called once per replica, connected; returns the services to run. A failure stops the
    /// replica's start with the error.
    public var start: @Sendable (DriverCompanionContext) async throws -> [any Service]
    /// Whether it keeps documents of its own in the deployment's state bucket beside the
    /// resources' entities and statuses (the pipeline runs): the engine's read model then
    /// follows only those, and is not sent every write of the others.
    public var keepsOwnDocuments: Bool

    public init(name: String, keepsOwnDocuments: Bool = false, start: @escaping @Sendable (DriverCompanionContext) async throws -> [any Service]) {
        self.name = name
        self.keepsOwnDocuments = keepsOwnDocuments
        self.start = start
    }
}

/// What a companion gets of its replica.
public struct DriverCompanionContext: Sendable {
    public let connection: NATSConnection
    public let jetStream: JetStreamContext
    /// The state bucket of the driver's own deployment.
    public let bucket: KeyValueBucket
    /// The names of the driver's own deployment.
    public let names: DeploymentNames
    /// Every hosted deployment's names, by type (the driver's own included).
    public let deployments: [String: DeploymentNames]
    public let election: LeaderElection
    public let configuration: OperatorConfiguration
    public let logger: Logger

    public init(
        connection: NATSConnection, jetStream: JetStreamContext, bucket: KeyValueBucket, names: DeploymentNames, deployments: [String: DeploymentNames],
        election: LeaderElection, configuration: OperatorConfiguration, logger: Logger
    ) {
        self.connection = connection
        self.jetStream = jetStream
        self.bucket = bucket
        self.names = names
        self.deployments = deployments
        self.election = election
        self.configuration = configuration
        self.logger = logger
    }
}
