import FactoryModel
import Foundation
import Logging
import NATSKit

/// What one operator process reads from its environment, whatever drivers it hosts, with the
/// seed manifest's defaults.
///
/// `init(environment:)` reads the process-wide variables of the seed operator manifest
/// (DESIGN.md's table), the NATS connection variables in the NATS CLI's style (`NATS_URL`,
/// `NATS_USER`, `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_CREDS`, `NATS_CA`, `NATS_CERT`, `NATS_KEY`),
/// and a few of the operator's own (`OPERATOR_…`), and refuses a bad value with one line naming
/// the variable. A deployment's names are ``DeploymentNames``' (read with ``DeploymentNames/read(from:prefix:defaults:)``),
/// a driver's variables its own.
public struct OperatorConfiguration: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }

    /// What differs between the executables: `hightouch-operator` keeps the seed operator's
    /// names, `factory-operator` has its own.
    public struct Defaults: Sendable, Hashable {
        public var electionClusterName: String
        public var electionBucket: String
        public var connectionName: String

        public init(electionClusterName: String, electionBucket: String, connectionName: String) {
            self.electionClusterName = electionClusterName
            self.electionBucket = electionBucket
            self.connectionName = connectionName
        }

        /// `factory-operator`'s.
        public static let factoryOperator = Defaults(
            electionClusterName: "factory-operators", electionBucket: "factory-operator-election", connectionName: "factory-operator"
        )
        /// `hightouch-operator`'s: the seed operator's.
        public static let hightouchOperator = Defaults(
            electionClusterName: "hightouch-operators", electionBucket: "hightouch-operator-election", connectionName: "hightouch-operator"
        )
    }

    // MARK: - The seed manifest's variables

    /// LOG_LEVEL: trace, debug, info, notice, warning (warn), error, critical.
    public var logLevel: Logger.Level = .info
    /// METRIC_PORT: Prometheus /metrics, /healthz and /readyz.
    public var metricPort = 30001
    /// ELECTION_CLUSTER_NAME: the leader-election group (a KV key).
    public var electionClusterName = Defaults.factoryOperator.electionClusterName
    /// ELECTION_CLUSTER_SIZE: replicas expected; readiness reports below it.
    public var electionClusterSize = 1
    /// OPERATOR_MAX_WORKERS: commands processed at once by this replica.
    public var maxWorkers = 1
    /// OPERATOR_RECONCILE_WORKERS_INTERVAL: longest gap between two looks at a running vendor run.
    public var reconcileInterval: Duration = .seconds(10)
    /// OPERATOR_MAINTENANCE_INTERVAL: the leader's purge cadence.
    public var maintenanceInterval: Duration = .seconds(60)
    /// OPERATOR_DRIFT_CHECK_INTERVAL: how often the leader compares every active resource's vendor
    /// objects with its spec and repairs what differs; zero turns it off.
    public var driftCheckInterval: Duration = .seconds(600)
    /// OPERATOR_PURGE_STATE_STORE_BEFORE: finished work older than this is purged.
    public var purgeStateStoreBefore: Duration = .seconds(300)
    /// OPERATOR_STATE_STORE_TYPE: only `jetstream_kv`.
    public var stateStoreType = "jetstream_kv"
    /// MESSAGE_DURABILITY: file storage and synchronous acks (true), or memory storage (false).
    public var messageDurability = true
    // MARK: - NATS connection (NATS CLI style)

    public var nats = NATSConfiguration(servers: ["nats://127.0.0.1:4222"], name: Defaults.factoryOperator.connectionName)

    // MARK: - The operator's own (all optional)

    /// LOG_FORMAT: text or json (JSON lines).
    public var logFormat: LogFormat = .text
    /// OPERATOR_INSTANCE_ID: this replica's name in ownership records and logs.
    public var instanceID: String = OperatorConfiguration.defaultInstanceID()
    /// OPERATOR_ELECTION_BUCKET: the TTL bucket of leader election.
    public var electionBucket = Defaults.factoryOperator.electionBucket
    /// OPERATOR_ACK_WAIT: how long a replica may hold a command without saying it is still
    /// working before JetStream gives it to another replica.
    public var ackWait: Duration = .seconds(30)
    /// OPERATOR_MAX_COMMAND_BYTES: larger commands are refused (and dead-lettered).
    public var maxCommandBytes = 1 << 20
    /// OPERATOR_MAX_ATTEMPTS: deliveries of one command before the operator gives up on it.
    public var maxAttempts = 50
    /// NATS_JETSTREAM_REPLICAS: replicas of the streams and buckets it provisions (3 in a cluster).
    public var jetStreamReplicas = 1
    /// LINEAGE_…: OpenLineage events of every run (docs/lineage.md).
    public var lineage = LineageConfiguration()
    /// OPERATOR_WEBHOOK_PORT: where vendors' completion webhooks are accepted (Fivetran, dbt
    /// Cloud; each needs its secret); nil: no webhook listener, polling alone.
    public var webhookPort: Int?
    public init(defaults: Defaults = .factoryOperator) {
        electionClusterName = defaults.electionClusterName
        electionBucket = defaults.electionBucket
        nats.name = defaults.connectionName
    }

    /// Reads `environment` over the defaults. Throws on the first bad value, naming it.
    public init(environment: [String: String], defaults: Defaults = .factoryOperator) throws(ConfigurationError) {
        self.init(defaults: defaults)
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
        driftCheckInterval = try reader.duration("OPERATOR_DRIFT_CHECK_INTERVAL", default: driftCheckInterval, minimum: .zero)
        if driftCheckInterval > .zero, driftCheckInterval < .milliseconds(100) {
            throw ConfigurationError(variable: "OPERATOR_DRIFT_CHECK_INTERVAL", value: DurationParser.format(driftCheckInterval), expected: "0 (off) or at least 100ms")
        }
        stateStoreType = try reader.choice("OPERATOR_STATE_STORE_TYPE", default: stateStoreType, allowed: ["jetstream_kv"])
        messageDurability = try reader.boolean("MESSAGE_DURABILITY", default: messageDurability)
        nats = try Self.parseNATS(reader, defaults: nats)

        if let format = reader.optionalString("LOG_FORMAT") {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else {
                throw ConfigurationError(variable: "LOG_FORMAT", value: format, expected: "text or json")
            }
            logFormat = parsed
        }
        instanceID = reader.string("OPERATOR_INSTANCE_ID", default: instanceID)
        try Self.check("OPERATOR_INSTANCE_ID", instanceID) { try NATSNames.validateKey($0, operation: "configure") }
        electionBucket = reader.string("OPERATOR_ELECTION_BUCKET", default: electionBucket)
        try Self.check("OPERATOR_ELECTION_BUCKET", electionBucket) { try NATSNames.validateBucketName($0, operation: "configure") }
        ackWait = try reader.duration("OPERATOR_ACK_WAIT", default: ackWait, minimum: .seconds(1))
        maxCommandBytes = try reader.integer("OPERATOR_MAX_COMMAND_BYTES", default: maxCommandBytes, range: 1024...(64 << 20))
        maxAttempts = try reader.integer("OPERATOR_MAX_ATTEMPTS", default: maxAttempts, range: 1...10_000)
        if reader.optionalString("OPERATOR_WEBHOOK_PORT") != nil {
            webhookPort = try reader.integer("OPERATOR_WEBHOOK_PORT", default: 0, range: 1...65535)
        }
        jetStreamReplicas = try reader.integer("NATS_JETSTREAM_REPLICAS", default: jetStreamReplicas, range: 1...5)
        lineage = try LineageConfiguration(environment: environment)
    }

    // MARK: - Private

    static func check(_ variable: String, _ value: String, _ validate: (String) throws -> Void) throws(ConfigurationError) {
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
            "drift check \(driftCheckInterval == .zero ? "off" : DurationParser.format(driftCheckInterval))",
            "store \(stateStoreType)",
            "durable \(messageDurability)",
            "\(nats)",
            "instance \(instanceID)",
            "webhooks \(webhookPort.map { ":\($0)" } ?? "off")",
            "\(lineage)",
        ].joined(separator: ", ")
    }
}
