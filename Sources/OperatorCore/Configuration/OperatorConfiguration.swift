import Foundation
import Logging
import NATSKit

/// Everything the operator reads from its environment, with the seed manifest's defaults.
///
/// `init(environment:)` reads the variables of the seed operator manifest (DESIGN.md's table),
/// the NATS connection variables in the NATS CLI's style (`NATS_URL`, `NATS_USER`,
/// `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_CREDS`, `NATS_CA`, `NATS_CERT`, `NATS_KEY`), and a few of
/// the operator's own (`OPERATOR_…`), and refuses a bad value with one line naming the variable.
public struct OperatorConfiguration: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }

    /// The vendor endpoint and credential. The secret never appears in a description.
    public struct Hightouch: Sendable, CustomStringConvertible {
        public var serviceURL: String
        public var basePath: String
        public var secret: String?

        public var description: String {
            "Hightouch(url: \(serviceURL), basePath: \(basePath), secret: \(secret == nil ? "none" : "***"))"
        }
    }

    // MARK: - The seed manifest's variables

    /// LOG_LEVEL: trace, debug, info, notice, warning (warn), error, critical.
    public var logLevel: Logger.Level = .info
    /// METRIC_PORT: Prometheus /metrics, /healthz and /readyz.
    public var metricPort = 30001
    /// ELECTION_CLUSTER_NAME: the leader-election group (a KV key).
    public var electionClusterName = "hightouch-operators"
    /// ELECTION_CLUSTER_SIZE: replicas expected; readiness reports below it.
    public var electionClusterSize = 1
    /// OPERATOR_MAX_WORKERS: commands processed at once by this replica.
    public var maxWorkers = 1
    /// OPERATOR_RECONCILE_WORKERS_INTERVAL: longest gap between two looks at a running vendor run.
    public var reconcileInterval: Duration = .seconds(10)
    /// OPERATOR_MAINTENANCE_INTERVAL: the leader's purge cadence.
    public var maintenanceInterval: Duration = .seconds(60)
    /// OPERATOR_PURGE_STATE_STORE_BEFORE: finished work older than this is purged.
    public var purgeStateStoreBefore: Duration = .seconds(300)
    /// OPERATOR_STATE_STORE_TYPE: only `jetstream_kv`.
    public var stateStoreType = "jetstream_kv"
    /// MESSAGE_DURABILITY: file storage and synchronous acks (true), or memory storage (false).
    public var messageDurability = true
    /// ENTITY_OF_INTEREST_MESSAGE_QUEUE: the durable consumer every replica shares.
    public var consumerName = "hightouch-entities-12121"
    /// ENTITY_OF_INTEREST_MESSAGE_STREAM: the command stream.
    public var streamName = "dataos-hightouch-entities"
    /// ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT.
    public var commandSubject = "hightouch.pipeline.run"
    /// ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT.
    public var querySubject = "hightouch.pipeline.run.query"
    /// ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT: answers to queries without an inbox.
    public var queryReplySubject = "dataos.operator.hightouch.reply"
    /// HIGHTOUCH_SERVICE_URL, HIGHTOUCH_SERVICE_BASE_PATH, HIGHTOUCH_SERVICE_SECRET.
    public var hightouch = Hightouch(serviceURL: "https://api.hightouch.com", basePath: "/api/v1", secret: nil)

    // MARK: - NATS connection (NATS CLI style)

    public var nats = NATSConfiguration(servers: ["nats://127.0.0.1:4222"], name: "hightouch-operator")

    // MARK: - The operator's own (all optional)

    /// LOG_FORMAT: text or json (JSON lines).
    public var logFormat: LogFormat = .text
    /// OPERATOR_INSTANCE_ID: this replica's name in ownership records and logs.
    public var instanceID: String = OperatorConfiguration.defaultInstanceID()
    /// OPERATOR_STATE_BUCKET: the KV bucket of entities, status and command records.
    public var stateBucket = "hightouch-operator-state"
    /// OPERATOR_ELECTION_BUCKET: the TTL bucket of leader election.
    public var electionBucket = "hightouch-operator-election"
    /// OPERATOR_DEADLETTER_SUBJECT: where refused commands are recorded with their reason.
    public var deadLetterSubject = "hightouch.pipeline.run.deadletter"
    /// OPERATOR_DEADLETTER_STREAM: the stream that keeps them.
    public var deadLetterStream = "dataos-hightouch-deadletter"
    /// OPERATOR_FOLLOWUP_SUBJECT / OPERATOR_FOLLOWUP_STREAM / OPERATOR_FOLLOWUP_QUEUE: the
    /// messages that make some replica look at a running vendor run again.
    public var followUpSubject = "hightouch.pipeline.run.followup"
    public var followUpStream = "dataos-hightouch-followups"
    public var followUpConsumer = "hightouch-followers"
    /// OPERATOR_ACK_WAIT: how long a replica may hold a command without saying it is still
    /// working before JetStream gives it to another replica.
    public var ackWait: Duration = .seconds(30)
    /// OPERATOR_MAX_COMMAND_BYTES: larger commands are refused (and dead-lettered).
    public var maxCommandBytes = 1 << 20
    /// OPERATOR_MAX_ATTEMPTS: deliveries of one command before the operator gives up on it.
    public var maxAttempts = 50
    /// NATS_JETSTREAM_REPLICAS: replicas of the streams and buckets it provisions (3 in a cluster).
    public var jetStreamReplicas = 1
    /// HIGHTOUCH_RATE_LIMIT / HIGHTOUCH_RATE_LIMIT_WINDOW: this replica's client-side budget.
    /// Hightouch allows 200 requests per 10 s per API key, and every replica uses the same key,
    /// so by default each replica takes an equal share: 200 / ELECTION_CLUSTER_SIZE.
    public var hightouchRateLimit = 200
    public var hightouchRateLimitWindow: Duration = .seconds(10)

    public init() {}

    /// Reads `environment` over the defaults. Throws on the first bad value, naming it.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment: environment)
        logLevel = try Self.parseLogLevel(reader)
        metricPort = try reader.integer("METRIC_PORT", default: metricPort, range: 1...65535)
        electionClusterName = reader.string("ELECTION_CLUSTER_NAME", default: electionClusterName)
        try Self.check("ELECTION_CLUSTER_NAME", electionClusterName) { try NATSNames.validateKey($0, operation: "configure") }
        electionClusterSize = try reader.integer("ELECTION_CLUSTER_SIZE", default: electionClusterSize, range: 1...1000)
        maxWorkers = try reader.integer("OPERATOR_MAX_WORKERS", default: maxWorkers, range: 1...10_000)
        reconcileInterval = try reader.duration("OPERATOR_RECONCILE_WORKERS_INTERVAL", default: reconcileInterval, minimum: .milliseconds(100))
        maintenanceInterval = try reader.duration("OPERATOR_MAINTENANCE_INTERVAL", default: maintenanceInterval, minimum: .milliseconds(100))
        purgeStateStoreBefore = try reader.duration("OPERATOR_PURGE_STATE_STORE_BEFORE", default: purgeStateStoreBefore, minimum: .seconds(1))
        stateStoreType = try reader.choice("OPERATOR_STATE_STORE_TYPE", default: stateStoreType, allowed: ["jetstream_kv"])
        messageDurability = try reader.boolean("MESSAGE_DURABILITY", default: messageDurability)
        consumerName = reader.string("ENTITY_OF_INTEREST_MESSAGE_QUEUE", default: consumerName)
        try Self.check("ENTITY_OF_INTEREST_MESSAGE_QUEUE", consumerName) { try NATSNames.validateConsumerName($0, operation: "configure") }
        streamName = reader.string("ENTITY_OF_INTEREST_MESSAGE_STREAM", default: streamName)
        try Self.check("ENTITY_OF_INTEREST_MESSAGE_STREAM", streamName) { try NATSNames.validateStreamName($0, operation: "configure") }
        commandSubject = reader.string("ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT", default: commandSubject)
        try Self.check("ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT", commandSubject) { try NATSNames.validatePublishSubject($0, operation: "configure") }
        querySubject = reader.string("ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT", default: querySubject)
        try Self.check("ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT", querySubject) { try NATSNames.validatePublishSubject($0, operation: "configure") }
        queryReplySubject = reader.string("ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT", default: queryReplySubject)
        try Self.check("ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT", queryReplySubject) { try NATSNames.validatePublishSubject($0, operation: "configure") }

        let serviceURL = reader.string("HIGHTOUCH_SERVICE_URL", default: hightouch.serviceURL)
        guard let url = URL(string: serviceURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(variable: "HIGHTOUCH_SERVICE_URL", value: serviceURL, expected: "an http:// or https:// URL such as https://api.hightouch.com")
        }
        let basePath = reader.string("HIGHTOUCH_SERVICE_BASE_PATH", default: hightouch.basePath)
        guard basePath.hasPrefix("/"), !basePath.contains(" ") else {
            throw ConfigurationError(variable: "HIGHTOUCH_SERVICE_BASE_PATH", value: basePath, expected: "a path starting with /, such as /api/v1")
        }
        hightouch = Hightouch(serviceURL: serviceURL, basePath: basePath, secret: reader.optionalString("HIGHTOUCH_SERVICE_SECRET"))

        nats = try Self.parseNATS(reader, defaults: nats)

        if let format = reader.optionalString("LOG_FORMAT") {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else {
                throw ConfigurationError(variable: "LOG_FORMAT", value: format, expected: "text or json")
            }
            logFormat = parsed
        }
        instanceID = reader.string("OPERATOR_INSTANCE_ID", default: instanceID)
        try Self.check("OPERATOR_INSTANCE_ID", instanceID) { try NATSNames.validateKey($0, operation: "configure") }
        stateBucket = reader.string("OPERATOR_STATE_BUCKET", default: stateBucket)
        try Self.check("OPERATOR_STATE_BUCKET", stateBucket) { try NATSNames.validateBucketName($0, operation: "configure") }
        electionBucket = reader.string("OPERATOR_ELECTION_BUCKET", default: electionBucket)
        try Self.check("OPERATOR_ELECTION_BUCKET", electionBucket) { try NATSNames.validateBucketName($0, operation: "configure") }
        // Derived subjects follow a changed command subject unless set explicitly.
        deadLetterSubject = reader.string("OPERATOR_DEADLETTER_SUBJECT", default: commandSubject + ".deadletter")
        try Self.check("OPERATOR_DEADLETTER_SUBJECT", deadLetterSubject) { try NATSNames.validatePublishSubject($0, operation: "configure") }
        deadLetterStream = reader.string("OPERATOR_DEADLETTER_STREAM", default: deadLetterStream)
        try Self.check("OPERATOR_DEADLETTER_STREAM", deadLetterStream) { try NATSNames.validateStreamName($0, operation: "configure") }
        followUpSubject = reader.string("OPERATOR_FOLLOWUP_SUBJECT", default: commandSubject + ".followup")
        try Self.check("OPERATOR_FOLLOWUP_SUBJECT", followUpSubject) { try NATSNames.validatePublishSubject($0, operation: "configure") }
        followUpStream = reader.string("OPERATOR_FOLLOWUP_STREAM", default: followUpStream)
        try Self.check("OPERATOR_FOLLOWUP_STREAM", followUpStream) { try NATSNames.validateStreamName($0, operation: "configure") }
        followUpConsumer = reader.string("OPERATOR_FOLLOWUP_QUEUE", default: followUpConsumer)
        try Self.check("OPERATOR_FOLLOWUP_QUEUE", followUpConsumer) { try NATSNames.validateConsumerName($0, operation: "configure") }
        ackWait = try reader.duration("OPERATOR_ACK_WAIT", default: ackWait, minimum: .seconds(1))
        maxCommandBytes = try reader.integer("OPERATOR_MAX_COMMAND_BYTES", default: maxCommandBytes, range: 1024...(64 << 20))
        maxAttempts = try reader.integer("OPERATOR_MAX_ATTEMPTS", default: maxAttempts, range: 1...10_000)
        jetStreamReplicas = try reader.integer("NATS_JETSTREAM_REPLICAS", default: jetStreamReplicas, range: 1...5)
        hightouchRateLimit = try reader.integer("HIGHTOUCH_RATE_LIMIT", default: max(1, 200 / electionClusterSize), range: 1...1_000_000)
        hightouchRateLimitWindow = try reader.duration("HIGHTOUCH_RATE_LIMIT_WINDOW", default: hightouchRateLimitWindow, minimum: .milliseconds(10))

        let subjects = [commandSubject, querySubject, deadLetterSubject, followUpSubject]
        if Set(subjects).count != subjects.count {
            throw ConfigurationError(
                variable: "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT",
                value: commandSubject,
                expected: "command, query, dead-letter and follow-up subjects that differ from each other"
            )
        }
    }

    // MARK: - Private

    private static func check(_ variable: String, _ value: String, _ validate: (String) throws -> Void) throws(ConfigurationError) {
        do {
            try validate(value)
        } catch let error as NATSError {
            // "invalid key \"x\": a key is …" → the rule after the first colon.
            let rule = error.message.components(separatedBy: ": ").dropFirst().joined(separator: ": ")
            throw ConfigurationError(variable: variable, value: value, expected: rule.isEmpty ? error.message : rule)
        } catch {
            throw ConfigurationError(variable: variable, value: value, expected: "\(error)")
        }
    }

    private static func parseLogLevel(_ reader: EnvironmentReader) throws(ConfigurationError) -> Logger.Level {
        guard let text = reader.optionalString("LOG_LEVEL") else { return .info }
        switch text.trimmingCharacters().lowercased() {
        case "trace": return .trace
        case "debug": return .debug
        case "info": return .info
        case "notice": return .notice
        case "warning", "warn": return .warning
        case "error": return .error
        case "critical", "fatal", "panic": return .critical
        default:
            throw ConfigurationError(variable: "LOG_LEVEL", value: text, expected: "one of trace, debug, info, notice, warning, error, critical")
        }
    }

    private static func parseNATS(_ reader: EnvironmentReader, defaults: NATSConfiguration) throws(ConfigurationError) -> NATSConfiguration {
        var nats = defaults
        if let list = reader.optionalString("NATS_URL") {
            let servers = NATSConfiguration.servers(fromList: list)
            guard !servers.isEmpty, servers.allSatisfy({ URL(string: $0)?.host != nil }) else {
                throw ConfigurationError(variable: "NATS_URL", value: list, expected: "comma-separated server URLs such as nats://nats-1:4222,nats://nats-2:4222")
            }
            nats.servers = servers
        }
        let user = reader.optionalString("NATS_USER")
        let password = reader.optionalString("NATS_PASSWORD")
        let token = reader.optionalString("NATS_TOKEN")
        let credentials = reader.optionalString("NATS_CREDS")
        let chosen = [user != nil, token != nil, credentials != nil].filter { $0 }.count
        if chosen > 1 {
            throw ConfigurationError(variable: "NATS_USER", value: nil, expected: "only one of NATS_USER (with NATS_PASSWORD), NATS_TOKEN or NATS_CREDS")
        }
        if let user {
            guard let password else {
                throw ConfigurationError(variable: "NATS_PASSWORD", value: nil, expected: "a password, because NATS_USER is set")
            }
            nats.authentication = .userPassword(user: user, password: password)
        } else if password != nil {
            throw ConfigurationError(variable: "NATS_USER", value: nil, expected: "a user name, because NATS_PASSWORD is set")
        } else if let token {
            nats.authentication = .token(token)
        } else if let credentials {
            guard FileManager.default.isReadableFile(atPath: credentials) else {
                throw ConfigurationError(variable: "NATS_CREDS", value: credentials, expected: "a readable .creds file")
            }
            nats.authentication = .credentialsFile(path: credentials)
        }
        let ca = reader.optionalString("NATS_CA")
        let certificate = reader.optionalString("NATS_CERT")
        let key = reader.optionalString("NATS_KEY")
        for (variable, path) in [("NATS_CA", ca), ("NATS_CERT", certificate), ("NATS_KEY", key)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw ConfigurationError(variable: variable, value: path, expected: "a readable PEM file")
            }
        }
        if (certificate == nil) != (key == nil) {
            throw ConfigurationError(variable: certificate == nil ? "NATS_CERT" : "NATS_KEY", value: nil, expected: "both NATS_CERT and NATS_KEY for a client certificate")
        }
        if ca != nil || certificate != nil || nats.servers.contains(where: { $0.hasPrefix("tls://") }) {
            nats.tls = NATSConfiguration.TLS(caFile: ca, certificateFile: certificate, keyFile: key)
        }
        return nats
    }

    static func defaultInstanceID() -> String {
        let host = ProcessInfo.processInfo.hostName
            .map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }
        return String(host.prefix(40)).lowercased() + "-" + String(ProcessInfo.processInfo.processIdentifier)
    }
}

extension OperatorConfiguration: CustomStringConvertible {
    /// For the start-up log line: every setting, no secret.
    public var description: String {
        [
            "log level \(logLevel) (\(logFormat))",
            "metrics :\(metricPort)",
            "election \(electionClusterName) size \(electionClusterSize)",
            "workers \(maxWorkers)",
            "reconcile \(DurationParser.format(reconcileInterval))",
            "maintenance \(DurationParser.format(maintenanceInterval))",
            "purge before \(DurationParser.format(purgeStateStoreBefore))",
            "store \(stateStoreType) \(stateBucket)",
            "durable \(messageDurability)",
            "stream \(streamName) consumer \(consumerName)",
            "subjects \(commandSubject) / \(querySubject) / \(queryReplySubject)",
            "\(hightouch)",
            "\(nats)",
            "instance \(instanceID)",
        ].joined(separator: ", ")
    }
}
