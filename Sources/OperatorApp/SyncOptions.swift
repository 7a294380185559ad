import ArgumentParser
import Foundation
import FactoryEngine
import FactoryModel

/// The options of `operator sync`, the seed manifest's command line.
public struct SyncOptions: ParsableArguments {
    @Option(name: .customLong("electionStateFile"), help: "Where the replica's election role and term are written on every change.")
    public var electionStateFile: String?

    @Option(help: "An operator manifest: its resource types, spec schemas, NATS subjects and enabled workspaces; its component's environmentVars are defaults under the real environment.")
    public var manifest: String?

    public init() {}
}

/// The environment an operator reads, for `operator sync --help`: the process's variables, then
/// each driver's names and own variables.
public enum OperatorHelp {
    public static func discussion(for program: OperatorProgram) -> String {
        var text = """
            Configuration comes from the environment (all optional unless said; defaults shown):

              LOG_LEVEL=info                       trace, debug, info, notice, warning, error, critical
              LOG_FORMAT=text                      text or json (JSON lines)
              METRIC_PORT=30001                    Prometheus /metrics, /healthz, /readyz
              ELECTION_CLUSTER_NAME=\(program.defaults.electionClusterName)   leader-election group
              ELECTION_CLUSTER_SIZE=1              replicas expected; /readyz fails below it
              OPERATOR_MAX_WORKERS=1               commands processed at once by this replica (per type)
              OPERATOR_RECONCILE_WORKERS_INTERVAL=10s   longest gap between two looks at a running run
              OPERATOR_MAINTENANCE_INTERVAL=1m     the leader's purge cadence
              OPERATOR_PURGE_STATE_STORE_BEFORE=5m finished work older than this is purged
              OPERATOR_DRIFT_CHECK_INTERVAL=10m    the leader's drift check of vendor objects; 0 off
              OPERATOR_STATE_STORE_TYPE=jetstream_kv   the only store; anything else is refused
              MESSAGE_DURABILITY=true              file storage and synchronous acks; false: memory storage

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
              OPERATOR_ELECTION_BUCKET=\(program.defaults.electionBucket)
              OPERATOR_WEBHOOK_PORT                vendors' completion webhooks on POST /webhooks/<vendor>
                                                   (Fivetran, dbt Cloud; each with its *_WEBHOOK_SECRET); unset: off

            OpenLineage events of every run (docs/lineage.md):
              LINEAGE_ENABLED=true                 publish START, COMPLETE, FAIL, ABORT per run
              LINEAGE_SUBJECT=factory.lineage      where; LINEAGE_STREAM=factory-lineage keeps them
              LINEAGE_MAX_AGE=168h, LINEAGE_MAX_BYTES=1073741824, LINEAGE_DUPLICATE_WINDOW=1h
              LINEAGE_MAX_EVENT_BYTES=262144       larger events are trimmed, never dropped
              LINEAGE_PUBLISH_TIMEOUT=2s           a slower publish is left to the next look
              LINEAGE_HTTP_URL, LINEAGE_HTTP_TOKEN forward every event to an OpenLineage endpoint
              LINEAGE_HTTP_TIMEOUT=10s, LINEAGE_HTTP_BACKOFF=1s, LINEAGE_HTTP_MAX_BACKOFF=1m, LINEAGE_HTTP_WORKERS=4


            """
        switch program.hosting {
        case .single(let factory):
            let names = factory.descriptor.names
            text += "The \(factory.descriptor.displayName) deployment's names (see streams/):\n"
            for (variable, value, meaning) in [
                ("ENTITY_OF_INTEREST_MESSAGE_QUEUE", names.commandConsumer, "durable consumer shared by replicas"),
                ("ENTITY_OF_INTEREST_MESSAGE_STREAM", names.commandStream, "command stream"),
                ("ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT", names.commandSubject, "commands"),
                ("ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT", names.querySubject, "status queries"),
                ("ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT", names.queryReplySubject, "answers to queries without an inbox"),
                ("OPERATOR_STATE_BUCKET", names.stateBucket, "entities and statuses"),
                ("OPERATOR_DEADLETTER_SUBJECT", "<command subject>.deadletter", "refused commands"),
                ("OPERATOR_DEADLETTER_STREAM", names.deadLetterStream, "their stream"),
                ("OPERATOR_FOLLOWUP_SUBJECT", "<command subject>.followup", "follow-ups of running runs"),
                ("OPERATOR_FOLLOWUP_STREAM", names.followUpStream, "their stream"),
                ("OPERATOR_FOLLOWUP_QUEUE", names.followUpConsumer, "their consumer"),
            ] {
                text += line("\(variable)=\(value)", meaning)
            }
            text += "\n"
            text += variables(of: factory)
        case .selected(let factories):
            text += "Hosted resource types:\n"
            text += line("OPERATOR_DRIVERS", "comma-separated, from: \(factories.map(\.descriptor.type).joined(separator: ", ")); default: every type whose secret is set")
            text += """

                Each type's deployment is named <type>.pipeline.run, dataos-<type>-entities,
                <type>-entities-12121, <type>-operator-state, …; override one with the seed
                manifest's variable prefixed by the type, such as
                HIGHTOUCH_ENTITY_OF_INTEREST_MESSAGE_STREAM or HIGHTOUCH_OPERATOR_STATE_BUCKET.


                """
            for factory in factories { text += variables(of: factory) }
        }
        text += """
            Durations accept 500ms, 10s, 1m, 2h, 1m30s. A bad value stops start-up with one line
            naming the variable.
            """
        return text
    }

    private static func variables(of factory: DriverFactory) -> String {
        var text = "\(factory.descriptor.displayName) (type \(factory.descriptor.type)):\n"
        for variable in factory.descriptor.variables {
            let required = variable.name == factory.descriptor.secretVariable ? " (required)" : ""
            text += line(variable.name + (variable.defaultValue.map { "=" + $0 } ?? ""), variable.meaning + required)
        }
        return text + "\n"
    }

    /// `  NAME=default   meaning`, the meaning in one column; under the name when it is long.
    private static func line(_ head: String, _ meaning: String) -> String {
        let column = 39
        let start = "  " + head
        if start.count < column - 1 {
            return start.padding(toLength: column, withPad: " ", startingAt: 0) + meaning + "\n"
        }
        return start + "\n" + String(repeating: " ", count: column) + meaning + "\n"
    }
}
