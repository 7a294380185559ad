import ArgumentParser
import FactoryModel
import Foundation
import Logging
import Metrics
import OperatorCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `hightouch-operator operator sync`: runs one replica until SIGTERM or SIGINT.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Consume pipeline commands, drive Hightouch, answer status queries, until SIGTERM or SIGINT.",
        discussion: """
            Configuration comes from the environment (all optional; defaults shown):

              LOG_LEVEL=info                       trace, debug, info, notice, warning, error, critical
              LOG_FORMAT=text                      text or json (JSON lines)
              METRIC_PORT=30001                    Prometheus /metrics, /healthz, /readyz
              ELECTION_CLUSTER_NAME=hightouch-operators   leader-election group
              ELECTION_CLUSTER_SIZE=1              replicas expected; /readyz fails below it
              OPERATOR_MAX_WORKERS=1               commands processed at once by this replica
              OPERATOR_RECONCILE_WORKERS_INTERVAL=10s   longest gap between two looks at a running run
              OPERATOR_MAINTENANCE_INTERVAL=1m     the leader's purge cadence
              OPERATOR_PURGE_STATE_STORE_BEFORE=5m finished work older than this is purged
              OPERATOR_STATE_STORE_TYPE=jetstream_kv   the only store; anything else is refused
              MESSAGE_DURABILITY=true              file storage and synchronous acks; false: memory storage
              ENTITY_OF_INTEREST_MESSAGE_QUEUE=hightouch-entities-12121      durable consumer shared by replicas
              ENTITY_OF_INTEREST_MESSAGE_STREAM=dataos-hightouch-entities    command stream
              ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT=hightouch.pipeline.run
              ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT=hightouch.pipeline.run.query
              ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT=dataos.operator.hightouch.reply
              HIGHTOUCH_SERVICE_URL=https://api.hightouch.com
              HIGHTOUCH_SERVICE_BASE_PATH=/api/v1
              HIGHTOUCH_SERVICE_SECRET             the workspace API key (required; never logged)

            NATS connection, as the NATS CLI reads it:
              NATS_URL=nats://127.0.0.1:4222       comma-separated server list
              NATS_USER / NATS_PASSWORD, NATS_TOKEN or NATS_CREDS (.creds file)
              NATS_CA, NATS_CERT, NATS_KEY          TLS: CA, client certificate and key (PEM)
              NATS_JETSTREAM_REPLICAS=1            replicas of provisioned streams and buckets

            The operator's own (optional):
              OPERATOR_INSTANCE_ID                 this replica's name (default: host-pid)
              OPERATOR_ACK_WAIT=30s                held commands go to another replica after this
              OPERATOR_MAX_ATTEMPTS=50             deliveries before giving up on a failing command
              OPERATOR_MAX_COMMAND_BYTES=1048576   larger commands are refused
              OPERATOR_STATE_BUCKET, OPERATOR_ELECTION_BUCKET, OPERATOR_DEADLETTER_SUBJECT,
              OPERATOR_DEADLETTER_STREAM, OPERATOR_FOLLOWUP_SUBJECT, OPERATOR_FOLLOWUP_STREAM,
              OPERATOR_FOLLOWUP_QUEUE              names (see streams/)
              HIGHTOUCH_RATE_LIMIT, HIGHTOUCH_RATE_LIMIT_WINDOW=10s   this replica's vendor budget
                                                   (default 200 / ELECTION_CLUSTER_SIZE: the key's limit, shared)

            Durations accept 500ms, 10s, 1m, 2h, 1m30s. A bad value stops start-up with one line
            naming the variable.
            """
    )

    @Option(name: .customLong("electionStateFile"), help: "Where the replica's election role and term are written on every change.")
    var electionStateFile: String?

    @Option(help: "An operator manifest: its resource types, spec schemas, NATS subjects and enabled workspaces; its component's environmentVars are defaults under the real environment.")
    var manifest: String?

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        var registry = ResourceTypeRegistry.seedDefault
        if let manifest {
            do {
                let loaded = try OperatorManifest.load(fromFile: manifest)
                registry = ResourceTypeRegistry(operatorManifest: loaded)
                environment = Self.defaults(from: loaded).merging(environment) { _, real in real }
            } catch {
                fail("--manifest \(manifest): \(error)", exitCode: 2)
            }
        }
        let configuration: OperatorConfiguration
        do {
            configuration = try OperatorConfiguration(environment: environment)
        } catch {
            fail("\(error)", exitCode: 2)
        }

        let level = configuration.logLevel
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                return JSONLogHandler(label: label, level: level)
            case .text:
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let logger = Logger(label: "hightouch-operator")

        let runtime: OperatorRuntime
        do {
            runtime = try await OperatorRuntime.start(configuration: configuration, registry: registry, electionStateFile: electionStateFile, logger: logger)
        } catch let error as ConfigurationError {
            fail("\(error)", exitCode: 2)
        } catch {
            fail("cannot start: \(error)", exitCode: 1)
        }
        let metrics = MetricsServer.make(port: configuration.metricPort, registry: prometheus, runtime: runtime, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: runtime, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: metrics),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// The manifest's worker component's environment, plus its resource type's NATS subjects.
    static func defaults(from manifest: OperatorManifest) -> [String: String] {
        var defaults: [String: String] = [:]
        if let natsAPI = manifest.operator.resources.first?.natsAPI {
            defaults["ENTITY_OF_INTEREST_MESSAGE_STREAM"] = natsAPI.command.stream
            defaults["ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT"] = natsAPI.command.subject
            defaults["ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT"] = natsAPI.query.subject
            defaults["ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT"] = natsAPI.query.replySubject
        }
        let component = manifest.operator.components.first { $0.type == "worker" } ?? manifest.operator.components.first
        for (name, value) in component?.environmentVars ?? [:] {
            defaults[name] = value
        }
        return defaults
    }
}

/// Prints one line to standard error and exits.
func fail(_ message: String, exitCode: Int32) -> Never {
    FileHandle.standardError.write(Data("hightouch-operator: \(message)\n".utf8))
    exit(exitCode)
}
