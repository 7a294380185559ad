import FactoryModel
import Foundation
import HightouchDriver
import Logging
import NATSKit
@testable import FactoryEngine
import FactoryState
@testable import OperatorApp
import Testing

/// Everything `hightouch-operator` reads: the process's settings, its deployment's names and the
/// Hightouch driver's variables.
struct HightouchOperatorSettings {
    var configuration: OperatorConfiguration
    var names: DeploymentNames
    var hightouch: HightouchDriver.Configuration

    init(environment: [String: String]) throws(ConfigurationError) {
        configuration = try OperatorConfiguration(environment: environment, defaults: .hightouchOperator)
        names = try DeploymentNames.read(from: environment, defaults: HightouchDriver.descriptor.names)
        hightouch = try HightouchDriver.Configuration(environment: environment)
    }
}

@Suite("Configuration from the environment")
struct ConfigurationTests {
    @Test("defaults are the seed manifest's")
    func defaults() throws {
        let settings = try HightouchOperatorSettings(environment: [:])
        let configuration = settings.configuration
        #expect(configuration.logLevel == .info)
        #expect(configuration.metricPort == 30001)
        #expect(configuration.electionClusterName == "hightouch-operators")
        #expect(configuration.electionClusterSize == 1)
        #expect(configuration.maxWorkers == 1)
        #expect(configuration.reconcileInterval == .seconds(10))
        #expect(configuration.maintenanceInterval == .seconds(60))
        #expect(configuration.purgeStateStoreBefore == .seconds(300))
        #expect(configuration.stateStoreType == "jetstream_kv")
        #expect(configuration.messageDurability)
        #expect(configuration.electionBucket == "hightouch-operator-election")
        #expect(settings.names.commandConsumer == "hightouch-entities-12121")
        #expect(settings.names.commandStream == "dataos-hightouch-entities")
        #expect(settings.names.commandSubject == "hightouch.pipeline.run")
        #expect(settings.names.querySubject == "hightouch.pipeline.run.query")
        #expect(settings.names.queryReplySubject == "dataos.operator.hightouch.reply")
        #expect(settings.names.queryQueueGroup == "hightouch-operator-status")
        #expect(settings.names.stateBucket == "hightouch-operator-state")
        #expect(settings.names.deadLetterStream == "dataos-hightouch-deadletter")
        #expect(settings.names.followUpStream == "dataos-hightouch-followups")
        #expect(settings.names.followUpConsumer == "hightouch-followers")
        #expect(settings.hightouch.serviceURL == "https://api.hightouch.com")
        #expect(settings.hightouch.basePath == "/api/v1")
        #expect(settings.hightouch.secret == nil)
        #expect(configuration.nats.servers == ["nats://127.0.0.1:4222"])
        #expect(settings.hightouch.rateLimit == 200)
    }

    @Test("the seed manifest's environment parses, every value taken")
    func seedEnvironment() throws {
        let environment = [
            "LOG_LEVEL": "debug", "METRIC_PORT": "30002", "ELECTION_CLUSTER_NAME": "group-a", "ELECTION_CLUSTER_SIZE": "3",
            "OPERATOR_MAX_WORKERS": "8", "OPERATOR_RECONCILE_WORKERS_INTERVAL": "1m30s", "OPERATOR_MAINTENANCE_INTERVAL": "2h",
            "OPERATOR_PURGE_STATE_STORE_BEFORE": "30s", "OPERATOR_STATE_STORE_TYPE": "jetstream_kv", "MESSAGE_DURABILITY": "false",
            "ENTITY_OF_INTEREST_MESSAGE_QUEUE": "q", "ENTITY_OF_INTEREST_MESSAGE_STREAM": "s",
            "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT": "a.run", "ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT": "a.query",
            "ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT": "a.reply", "HIGHTOUCH_SERVICE_URL": "http://sim:8080",
            "HIGHTOUCH_SERVICE_BASE_PATH": "/v2", "HIGHTOUCH_SERVICE_SECRET": "k", "NATS_URL": "nats-1:4222, nats://nats-2:4222",
            "NATS_USER": "u", "NATS_PASSWORD": "p", "LOG_FORMAT": "json",
        ]
        let settings = try HightouchOperatorSettings(environment: environment)
        let configuration = settings.configuration
        #expect(configuration.logLevel == .debug)
        #expect(configuration.metricPort == 30002)
        #expect(configuration.electionClusterSize == 3)
        #expect(configuration.maxWorkers == 8)
        #expect(configuration.reconcileInterval == .seconds(90))
        #expect(configuration.maintenanceInterval == .seconds(7200))
        #expect(configuration.purgeStateStoreBefore == .seconds(30))
        #expect(configuration.messageDurability == false)
        #expect(settings.names.commandConsumer == "q")
        #expect(settings.names.commandStream == "s")
        #expect(settings.names.deadLetterSubject == "a.run.deadletter")
        #expect(settings.names.followUpSubject == "a.run.followup")
        #expect(settings.hightouch.serviceURL == "http://sim:8080")
        #expect(settings.hightouch.basePath == "/v2")
        #expect(configuration.nats.servers == ["nats://nats-1:4222", "nats://nats-2:4222"])
        #expect(configuration.logFormat == .json)
        #expect(settings.hightouch.rateLimit == 66, "the key's 200 per 10 s shared by three replicas")
        #expect(!settings.hightouch.description.contains("\"k\"") && settings.hightouch.description.contains("secret: ***"))
        #expect(!configuration.description.contains("password: p"))
    }

    @Test("a bad value stops start-up with one line naming the variable and what is accepted", arguments: [
        ("LOG_LEVEL", "loud", "trace, debug, info"),
        ("METRIC_PORT", "0", "1 to 65535"),
        ("METRIC_PORT", "http", "whole number"),
        ("ELECTION_CLUSTER_SIZE", "-1", "whole number"),
        ("OPERATOR_MAX_WORKERS", "many", "whole number"),
        ("OPERATOR_RECONCILE_WORKERS_INTERVAL", "ten", "500ms, 10s"),
        ("OPERATOR_RECONCILE_WORKERS_INTERVAL", "10", "500ms, 10s"),
        ("OPERATOR_MAINTENANCE_INTERVAL", "1d", "duration"),
        ("OPERATOR_PURGE_STATE_STORE_BEFORE", "10ms", "at least 1s"),
        ("OPERATOR_STATE_STORE_TYPE", "redis", "jetstream_kv"),
        ("MESSAGE_DURABILITY", "sometimes", "true or false"),
        ("ENTITY_OF_INTEREST_MESSAGE_QUEUE", "has.dot", "consumer name"),
        ("ENTITY_OF_INTEREST_MESSAGE_STREAM", "has space", "stream name"),
        ("ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT", "a..b", "subject"),
        ("ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT", "a.*", "wildcards"),
        ("ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT", "a b", "subject"),
        ("HIGHTOUCH_SERVICE_URL", "api.hightouch.com", "http:// or https://"),
        ("HIGHTOUCH_SERVICE_BASE_PATH", "api/v1", "starting with /"),
        ("ELECTION_CLUSTER_NAME", "bad key!", "key"),
        ("NATS_URL", "nats://", "server URLs"),
        ("NATS_CREDS", "/nonexistent.creds", "readable .creds"),
        ("NATS_CA", "/nonexistent.pem", "readable PEM"),
        ("LOG_FORMAT", "xml", "text or json"),
    ])
    func badValues(variable: String, value: String, expected: String) {
        do {
            _ = try HightouchOperatorSettings(environment: [variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.variable == variable)
            let line = error.description
            #expect(!line.contains("\n"), "one line")
            #expect(line.hasPrefix(variable), "\(line)")
            #expect(line.contains(expected), "\(line)")
        }
    }

    @Test("combinations are checked: user without password, two kinds of credentials, certificate without key, colliding subjects")
    func combinations() {
        let cases: [([String: String], String)] = [
            (["NATS_USER": "u"], "NATS_PASSWORD"),
            (["NATS_PASSWORD": "p"], "NATS_USER"),
            (["NATS_USER": "u", "NATS_PASSWORD": "p", "NATS_TOKEN": "t"], "NATS_USER"),
            (["NATS_CERT": "/etc/hostname"], "NATS_KEY"),
            (["ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT": "hightouch.pipeline.run"], "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT"),
        ]
        for (environment, variable) in cases {
            do {
                _ = try HightouchOperatorSettings(environment: environment)
                Issue.record("\(environment) was accepted")
            } catch {
                #expect(error.variable == variable, "\(environment): \(error)")
            }
        }
    }

    @Test("durations: Go syntax both ways")
    func durations() {
        #expect(DurationParser.parse("500ms") == .milliseconds(500))
        #expect(DurationParser.parse("1.5h") == .seconds(5400))
        #expect(DurationParser.parse("1m30s") == .seconds(90))
        #expect(DurationParser.parse("250us") == .microseconds(250))
        #expect(DurationParser.parse("0") == .zero)
        for bad in ["", "10", "s", "1x", "-1s", "1m-1s", "ms"] { #expect(DurationParser.parse(bad) == nil, "\(bad)") }
        #expect(DurationParser.format(.seconds(90)) == "1m30s")
        #expect(DurationParser.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationParser.format(.seconds(7200)) == "2h")
    }

    @Test("factory-operator hosts the types in OPERATOR_DRIVERS, else every type whose secret is set, each on its own prefixed names")
    func driverSelection() throws {
        let program = FactoryOperatorProgram.program
        let bySecret = try program.select(environment: ["HIGHTOUCH_SERVICE_SECRET": "k"])
        #expect(bySecret.map(\.factory.descriptor.type) == ["hightouch"])
        #expect(bySecret.first?.names == DeploymentNames.standard(type: "hightouch"))
        let listed = try program.select(environment: ["OPERATOR_DRIVERS": "hightouch", "HIGHTOUCH_ENTITY_OF_INTEREST_MESSAGE_STREAM": "other-stream"])
        #expect(listed.first?.names.commandStream == "other-stream")
        #expect(listed.first?.names.commandSubject == "hightouch.pipeline.run")
        for (environment, expected) in [
            ([String: String](), "OPERATOR_DRIVERS"),
            (["OPERATOR_DRIVERS": "hightouch,census"], "OPERATOR_DRIVERS"),
            (["OPERATOR_DRIVERS": "hightouch", "HIGHTOUCH_OPERATOR_STATE_BUCKET": "bad bucket"], "HIGHTOUCH_OPERATOR_STATE_BUCKET"),
        ] {
            do {
                _ = try program.select(environment: environment)
                Issue.record("\(environment) was accepted")
            } catch {
                #expect(error.variable == expected, "\(environment): \(error)")
                #expect(!error.description.contains("\n"))
            }
        }
        // The seed manifest's variables, unprefixed, are hightouch-operator's.
        let single = try HightouchOperatorProgram.program.select(environment: ["ENTITY_OF_INTEREST_MESSAGE_STREAM": "s"])
        #expect(single.first?.names.commandStream == "s")
    }
}

/// The two programs as their mains define them.
enum FactoryOperatorProgram {
    static let program = OperatorProgram(name: "factory-operator", defaults: .factoryOperator, hosting: .selected([HightouchDriver.factory]))
}

enum HightouchOperatorProgram {
    static let program = OperatorProgram(name: "hightouch-operator", defaults: .hightouchOperator, hosting: .single(HightouchDriver.factory))
}
