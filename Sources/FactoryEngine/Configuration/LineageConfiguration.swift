import FactoryModel
import Foundation
import Lineage
import NATSKit

/// Where and how a replica emits OpenLineage events (docs/lineage.md), from its `LINEAGE_…`
/// variables. Every replica of a deployment must agree on the stream and subject.
public struct LineageConfiguration: Sendable, CustomStringConvertible {
    /// LINEAGE_ENABLED (default true): emit events for every run.
    public var enabled = true
    /// LINEAGE_SUBJECT: where events are published.
    public var subject = "factory.lineage"
    /// LINEAGE_STREAM: the stream that keeps them (limits retention).
    public var stream = "factory-lineage"
    /// LINEAGE_MAX_AGE: how long events are kept.
    public var maxAge: Duration = .seconds(7 * 24 * 3600)
    /// LINEAGE_MAX_BYTES: the most the stream keeps (oldest events go first).
    public var maxBytes: Int = 1 << 30
    /// LINEAGE_DUPLICATE_WINDOW: a second publish of one event (same identity) within it is
    /// dropped. Generous: it covers a replica that dies after a publish and before marking it,
    /// and an outbox a replica of the previous release dropped.
    public var duplicateWindow: Duration = .seconds(3600)
    /// LINEAGE_MAX_EVENT_BYTES: the stream's message limit; a larger event is trimmed to fit.
    public var maxEventBytes = 256 * 1024
    /// LINEAGE_PUBLISH_TIMEOUT: the longest a command or a look waits for one publish.
    public var publishTimeout: Duration = .seconds(2)
    /// LINEAGE_PRODUCER: the events' producer URI (default: this project at its version).
    public var producer = LineageProducer.factoryOperator
    /// LINEAGE_HTTP_URL: forward every event to this OpenLineage HTTP endpoint (Marquez:
    /// `http://marquez:5000/api/v1/lineage`); unset: no forwarding.
    public var httpURL: URL?
    /// LINEAGE_HTTP_TOKEN: sent as `Authorization: Bearer …` (a secret: never logged or shown).
    public var httpToken: String?
    /// LINEAGE_HTTP_TIMEOUT: the longest one POST may take.
    public var httpTimeout: Duration = .seconds(10)
    /// LINEAGE_HTTP_BACKOFF and LINEAGE_HTTP_MAX_BACKOFF: the wait before an event the endpoint
    /// did not take is posted again, doubling with each delivery up to the maximum.
    public var httpBackoff: Duration = .seconds(1)
    public var httpMaxBackoff: Duration = .seconds(60)
    /// LINEAGE_HTTP_WORKERS: events posted at once by one replica.
    public var httpWorkers = 4
    /// LINEAGE_HTTP_CONSUMER: the forwarders' durable consumer, shared by every replica.
    public var forwarderConsumer = "factory-lineage-forwarder"
    /// LINEAGE_DEADLETTER_SUBJECT: events the endpoint refused for good (a 4xx other than 408
    /// and 429), with the reason, kept in the stream LINEAGE_DEADLETTER_STREAM.
    public var deadLetterSubject = "factory.lineage.deadletter"
    public var deadLetterStream = "factory-lineage-deadletter"

    public init() {}

    /// Reads `environment` over the defaults; throws on the first bad value, naming it.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment: environment)
        enabled = try reader.boolean("LINEAGE_ENABLED", default: enabled)
        subject = reader.string("LINEAGE_SUBJECT", default: subject)
        try OperatorConfiguration.check("LINEAGE_SUBJECT", subject) { try NATSNames.validatePublishSubject($0, operation: "configure") }
        stream = reader.string("LINEAGE_STREAM", default: stream)
        try OperatorConfiguration.check("LINEAGE_STREAM", stream) { try NATSNames.validateStreamName($0, operation: "configure") }
        maxAge = try reader.duration("LINEAGE_MAX_AGE", default: maxAge, minimum: .seconds(1))
        maxBytes = try reader.integer("LINEAGE_MAX_BYTES", default: maxBytes, range: (1 << 20)...Int.max)
        duplicateWindow = try reader.duration("LINEAGE_DUPLICATE_WINDOW", default: duplicateWindow, minimum: .seconds(1))
        if duplicateWindow > maxAge {
            throw ConfigurationError(variable: "LINEAGE_DUPLICATE_WINDOW", value: DurationParser.format(duplicateWindow), expected: "at most LINEAGE_MAX_AGE")
        }
        maxEventBytes = try reader.integer("LINEAGE_MAX_EVENT_BYTES", default: maxEventBytes, range: 4096...(8 << 20))
        publishTimeout = try reader.duration("LINEAGE_PUBLISH_TIMEOUT", default: publishTimeout, minimum: .milliseconds(50))
        if let producer = reader.optionalString("LINEAGE_PRODUCER") {
            guard URL(string: producer)?.scheme != nil else {
                throw ConfigurationError(variable: "LINEAGE_PRODUCER", value: producer, expected: "an absolute URI naming the producer, e.g. https://example.com/factory/v1")
            }
            self.producer = LineageProducer(uri: producer)
        }
        if let url = reader.optionalString("LINEAGE_HTTP_URL") {
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https", parsed.host != nil else {
                throw ConfigurationError(variable: "LINEAGE_HTTP_URL", value: url, expected: "an http(s) URL of an OpenLineage endpoint, e.g. http://marquez:5000/api/v1/lineage")
            }
            httpURL = parsed
        }
        httpToken = reader.optionalString("LINEAGE_HTTP_TOKEN")
        if httpToken != nil, httpURL == nil {
            throw ConfigurationError(variable: "LINEAGE_HTTP_URL", value: nil, expected: "an endpoint URL, because LINEAGE_HTTP_TOKEN is set")
        }
        httpTimeout = try reader.duration("LINEAGE_HTTP_TIMEOUT", default: httpTimeout, minimum: .milliseconds(100))
        httpBackoff = try reader.duration("LINEAGE_HTTP_BACKOFF", default: httpBackoff, minimum: .milliseconds(10))
        httpMaxBackoff = try reader.duration("LINEAGE_HTTP_MAX_BACKOFF", default: httpMaxBackoff, minimum: httpBackoff)
        httpWorkers = try reader.integer("LINEAGE_HTTP_WORKERS", default: httpWorkers, range: 1...64)
        forwarderConsumer = reader.string("LINEAGE_HTTP_CONSUMER", default: forwarderConsumer)
        try OperatorConfiguration.check("LINEAGE_HTTP_CONSUMER", forwarderConsumer) { try NATSNames.validateConsumerName($0, operation: "configure") }
        deadLetterSubject = reader.string("LINEAGE_DEADLETTER_SUBJECT", default: deadLetterSubject)
        try OperatorConfiguration.check("LINEAGE_DEADLETTER_SUBJECT", deadLetterSubject) { try NATSNames.validatePublishSubject($0, operation: "configure") }
        deadLetterStream = reader.string("LINEAGE_DEADLETTER_STREAM", default: deadLetterStream)
        try OperatorConfiguration.check("LINEAGE_DEADLETTER_STREAM", deadLetterStream) { try NATSNames.validateStreamName($0, operation: "configure") }
    }

    /// For the start-up line: no token.
    public var description: String {
        guard enabled else { return "lineage off" }
        var text = "lineage \(subject) in \(stream) (max age \(DurationParser.format(maxAge)), max event \(maxEventBytes) B)"
        if let httpURL {
            // The URL without any user info it may carry.
            var components = URLComponents(url: httpURL, resolvingAgainstBaseURL: false)
            components?.user = nil
            components?.password = nil
            text += ", forwarded to \(components?.string ?? "the endpoint")\(httpToken == nil ? "" : " with a bearer token")"
        }
        return text
    }

    /// The lineage stream, and the forwarder's consumer and dead-letter stream when it forwards.
    public func topology(storage: StreamConfiguration.Storage, replicas: Int, ackWait: Duration) -> JetStreamTopology {
        guard enabled else { return JetStreamTopology() }
        var topology = JetStreamTopology(streams: [
            StreamConfiguration(
                name: stream,
                description: "OpenLineage run events (START, COMPLETE, FAIL, ABORT) of every run, one per transition (Nats-Msg-Id: run id and event type).",
                subjects: [subject],
                retention: .limits,
                maxBytes: Int64(maxBytes),
                maxAge: maxAge,
                // Headroom over the event limit for the message's headers (Nats-Msg-Id).
                maxMessageSize: Int32(clamping: maxEventBytes + 4096),
                storage: storage,
                replicas: replicas,
                duplicateWindow: duplicateWindow
            )
        ])
        if httpURL != nil {
            topology.streams.append(
                StreamConfiguration(
                    name: deadLetterStream,
                    description: "Lineage events the OpenLineage endpoint refused for good, each with the reason. Kept 14 days.",
                    subjects: [deadLetterSubject],
                    retention: .limits,
                    maxBytes: 1 << 30,
                    maxAge: .seconds(14 * 24 * 3600),
                    storage: storage,
                    replicas: replicas,
                    duplicateWindow: .seconds(120)
                ))
            topology.consumers.append(
                .init(
                    stream: stream,
                    configuration: ConsumerConfiguration(
                        durableName: forwarderConsumer,
                        description: "Shared by every replica's lineage forwarder: each event is posted to the OpenLineage endpoint once it is acknowledged.",
                        ackPolicy: .explicit,
                        ackWait: ackWait,
                        maxDeliver: -1,
                        filterSubject: subject,
                        maxWaiting: 512,
                        maxAckPending: 1000
                    )))
        }
        return topology
    }
}
