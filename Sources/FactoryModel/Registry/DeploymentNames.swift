/// The NATS names of one resource type's deployment: its command stream and the consumer every
/// replica shares, its subjects, its dead letters and follow-ups, and its state bucket. As in
/// DataOS, each resource type can run as its own operator deployment, scaled on its own.
///
/// ``standard(type:)`` derives them from the type name; for `hightouch` they are exactly the
/// seed operator's (`hightouch.pipeline.run`, `dataos-hightouch-entities`,
/// `hightouch-entities-12121`, …), so `hightouch-operator` stays a drop-in.
public struct DeploymentNames: Sendable, Hashable {
    /// The resource type served.
    public var type: String
    public var commandStream: String
    /// The durable consumer every replica shares.
    public var commandConsumer: String
    public var commandSubject: String
    public var querySubject: String
    /// Where answers to queries without a reply inbox go.
    public var queryReplySubject: String
    /// The queue group of the replicas answering queries.
    public var queryQueueGroup: String
    public var deadLetterSubject: String
    public var deadLetterStream: String
    public var followUpSubject: String
    public var followUpStream: String
    public var followUpConsumer: String
    /// The KV bucket of the type's entities and statuses.
    public var stateBucket: String

    public init(
        type: String, commandStream: String, commandConsumer: String, commandSubject: String, querySubject: String, queryReplySubject: String,
        queryQueueGroup: String, deadLetterSubject: String, deadLetterStream: String, followUpSubject: String, followUpStream: String,
        followUpConsumer: String, stateBucket: String
    ) {
        self.type = type
        self.commandStream = commandStream
        self.commandConsumer = commandConsumer
        self.commandSubject = commandSubject
        self.querySubject = querySubject
        self.queryReplySubject = queryReplySubject
        self.queryQueueGroup = queryQueueGroup
        self.deadLetterSubject = deadLetterSubject
        self.deadLetterStream = deadLetterStream
        self.followUpSubject = followUpSubject
        self.followUpStream = followUpStream
        self.followUpConsumer = followUpConsumer
        self.stateBucket = stateBucket
    }

    /// The names of a type's deployment by the DataOS convention: `<type>.pipeline.run` (and
    /// `.query`, `.deadletter`, `.followup`), `dataos-<type>-entities`, `<type>-entities-12121`,
    /// `dataos.operator.<type>.reply`, `<type>-operator-state`.
    public static func standard(type: String) -> DeploymentNames {
        let command = "\(type).pipeline.run"
        return DeploymentNames(
            type: type,
            commandStream: "dataos-\(type)-entities",
            commandConsumer: "\(type)-entities-12121",
            commandSubject: command,
            querySubject: command + ".query",
            queryReplySubject: "dataos.operator.\(type).reply",
            queryQueueGroup: "\(type)-operator-status",
            deadLetterSubject: command + ".deadletter",
            deadLetterStream: "dataos-\(type)-deadletter",
            followUpSubject: command + ".followup",
            followUpStream: "dataos-\(type)-followups",
            followUpConsumer: "\(type)-followers",
            stateBucket: "\(type)-operator-state"
        )
    }

    /// The command and query subjects, as an operator manifest's `natsApi` declares them.
    public var natsAPI: NATSAPIConfig {
        NATSAPIConfig(
            command: .init(stream: commandStream, subject: commandSubject),
            query: .init(subject: querySubject, replySubject: queryReplySubject)
        )
    }
}
