import FactoryModel
import NATSKit

/// The streams, consumers and buckets the operator provisions at start-up: one set per hosted
/// deployment (a resource type), and the election bucket they share. For `hightouch` with the
/// default configuration this is exactly the repository's `streams/` (a test holds them equal);
/// names, storage (MESSAGE_DURABILITY), replicas and the ack wait follow the configuration.
public enum OperatorTopology {
    /// A leader that dies is replaced within two of these.
    public static let electionTTL: Duration = .seconds(6)

    /// Everything for `deployments` (type names and how people call the vendor), plus election.
    public static func make(_ configuration: OperatorConfiguration, deployments: [(names: DeploymentNames, displayName: String)]) -> JetStreamTopology {
        var topology = JetStreamTopology(streams: [], consumers: [], buckets: [election(configuration)])
        for deployment in deployments {
            let part = self.deployment(deployment.names, displayName: deployment.displayName, configuration)
            topology.streams += part.streams
            topology.consumers += part.consumers
            topology.buckets.insert(contentsOf: part.buckets, at: 0)
        }
        return topology
    }

    /// One deployment's streams, consumers and state bucket.
    public static func deployment(_ names: DeploymentNames, displayName: String, _ configuration: OperatorConfiguration) -> JetStreamTopology {
        let storage: StreamConfiguration.Storage = configuration.messageDurability ? .file : .memory
        let replicas = configuration.jetStreamReplicas
        let ackWait = configuration.ackWait
        let commands = StreamConfiguration(
            name: names.commandStream,
            description: "Commands for \(displayName) pipeline resources (apply, delete, run). Work queue: a command is removed when a worker acknowledges it.",
            subjects: [names.commandSubject],
            retention: .workqueue,
            storage: storage,
            replicas: replicas,
            duplicateWindow: .seconds(120)
        )
        let commandConsumer = ConsumerConfiguration(
            durableName: names.commandConsumer,
            description: "Shared by every operator replica: JetStream spreads commands among them and redelivers what a dead replica held.",
            ackPolicy: .explicit,
            ackWait: ackWait,
            maxDeliver: 100,
            backoff: [ackWait, ackWait * 2, ackWait * 4],
            filterSubject: names.commandSubject,
            maxWaiting: 512,
            maxAckPending: 1000
        )
        let deadLetters = StreamConfiguration(
            name: names.deadLetterStream,
            description: "Commands the operator refused or gave up on, each with the reason. Kept 14 days for inspection and replay.",
            subjects: [names.deadLetterSubject],
            retention: .limits,
            maxMessages: 1_000_000,
            maxBytes: 1 << 30,
            maxAge: .seconds(14 * 24 * 3600),
            storage: storage,
            replicas: replicas,
            duplicateWindow: .seconds(120)
        )
        let followUps = StreamConfiguration(
            name: names.followUpStream,
            description: "One message per running vendor run: whichever replica fetches it looks at the run, then naks it for the reconcile interval until the run ends.",
            subjects: [names.followUpSubject],
            retention: .workqueue,
            storage: storage,
            replicas: replicas,
            duplicateWindow: .seconds(120)
        )
        let followers = ConsumerConfiguration(
            durableName: names.followUpConsumer,
            description: "Shared by every operator replica; a follow-up held by a dead replica is redelivered after the ack wait.",
            ackPolicy: .explicit,
            ackWait: ackWait,
            maxDeliver: -1,
            filterSubject: names.followUpSubject,
            maxWaiting: 512,
            maxAckPending: 20_000
        )
        let state = KeyValueConfiguration(
            bucket: names.stateBucket,
            description: "Desired state (entities) and observed state (status, runs) of \(displayName) resources. Written with compare-and-set.",
            history: 3,
            maxValueSize: 1 << 20,
            storage: storage,
            replicas: replicas
        )
        return JetStreamTopology(
            streams: [commands, deadLetters, followUps],
            consumers: [
                .init(stream: commands.name, configuration: commandConsumer),
                .init(stream: followUps.name, configuration: followers),
            ],
            buckets: [state]
        )
    }

    /// The election bucket every deployment of the process shares.
    public static func election(_ configuration: OperatorConfiguration) -> KeyValueConfiguration {
        KeyValueConfiguration(
            bucket: configuration.electionBucket,
            description: "Leader election of operator replicas: one key per election group, renewed by the leader before it expires.",
            history: 1,
            ttl: electionTTL,
            maxValueSize: 4096,
            storage: configuration.messageDurability ? .file : .memory,
            replicas: configuration.jetStreamReplicas
        )
    }
}
