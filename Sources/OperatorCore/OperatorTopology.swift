import NATSKit

/// The streams, consumers and buckets the operator provisions at start-up. With the default
/// configuration this is exactly the repository's `streams/` (a test holds them equal); names,
/// storage (MESSAGE_DURABILITY), replicas and the ack wait follow the configuration.
public enum OperatorTopology {
    public static func make(_ configuration: OperatorConfiguration) -> JetStreamTopology {
        let storage: StreamConfiguration.Storage = configuration.messageDurability ? .file : .memory
        let replicas = configuration.jetStreamReplicas
        let ackWait = configuration.ackWait
        let commands = StreamConfiguration(
            name: configuration.streamName,
            description: "Commands for Hightouch pipeline resources (apply, delete, run). Work queue: a command is removed when a worker acknowledges it.",
            subjects: [configuration.commandSubject],
            retention: .workqueue,
            storage: storage,
            replicas: replicas,
            duplicateWindow: .seconds(120)
        )
        let commandConsumer = ConsumerConfiguration(
            durableName: configuration.consumerName,
            description: "Shared by every operator replica: JetStream spreads commands among them and redelivers what a dead replica held.",
            ackPolicy: .explicit,
            ackWait: ackWait,
            maxDeliver: 100,
            backoff: [ackWait, ackWait * 2, ackWait * 4],
            filterSubject: configuration.commandSubject,
            maxWaiting: 512,
            maxAckPending: 1000
        )
        let deadLetters = StreamConfiguration(
            name: configuration.deadLetterStream,
            description: "Commands the operator refused or gave up on, each with the reason. Kept 14 days for inspection and replay.",
            subjects: [configuration.deadLetterSubject],
            retention: .limits,
            maxMessages: 1_000_000,
            maxBytes: 1 << 30,
            maxAge: .seconds(14 * 24 * 3600),
            storage: storage,
            replicas: replicas,
            duplicateWindow: .seconds(120)
        )
        let followUps = StreamConfiguration(
            name: configuration.followUpStream,
            description: "One message per running vendor run: whichever replica fetches it looks at the run, then naks it for the reconcile interval until the run ends.",
            subjects: [configuration.followUpSubject],
            retention: .workqueue,
            storage: storage,
            replicas: replicas,
            duplicateWindow: .seconds(120)
        )
        let followers = ConsumerConfiguration(
            durableName: configuration.followUpConsumer,
            description: "Shared by every operator replica; a follow-up held by a dead replica is redelivered after the ack wait.",
            ackPolicy: .explicit,
            ackWait: ackWait,
            maxDeliver: -1,
            filterSubject: configuration.followUpSubject,
            maxWaiting: 512,
            maxAckPending: 20_000
        )
        let state = KeyValueConfiguration(
            bucket: configuration.stateBucket,
            description: "Desired state (entities) and observed state (status, runs) of Hightouch resources. Written with compare-and-set.",
            history: 3,
            maxValueSize: 1 << 20,
            storage: storage,
            replicas: replicas
        )
        let election = KeyValueConfiguration(
            bucket: configuration.electionBucket,
            description: "Leader election of operator replicas: one key per election group, renewed by the leader before it expires.",
            history: 1,
            ttl: electionTTL,
            maxValueSize: 4096,
            storage: storage,
            replicas: replicas
        )
        return JetStreamTopology(
            streams: [commands, deadLetters, followUps],
            consumers: [
                .init(stream: commands.name, configuration: commandConsumer),
                .init(stream: followUps.name, configuration: followers),
            ],
            buckets: [state, election]
        )
    }

    /// A leader that dies is replaced within two of these.
    public static let electionTTL: Duration = .seconds(6)
}
