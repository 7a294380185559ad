import FactoryState
import Foundation
import JSONSchema

/// A run's transition, as OpenLineage names it.
public enum LineageEventType: String, Sendable, Hashable, CaseIterable, Comparable {
    case start = "START"
    case running = "RUNNING"
    case complete = "COMPLETE"
    case abort = "ABORT"
    case fail = "FAIL"
    case other = "OTHER"

    /// START before anything else; the end events after it.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.order < rhs.order }

    private var order: Int {
        switch self {
        case .start: return 0
        case .running: return 1
        case .complete, .abort, .fail: return 2
        case .other: return 3
        }
    }
}

/// One facet: its `_schemaURL` and its own fields. `_producer` is added when the event is
/// encoded, from the event's producer.
public struct LineageFacet: Sendable, Hashable {
    public var schemaURL: String
    public var fields: JSONObject

    public init(schemaURL: String, fields: JSONObject) {
        self.schemaURL = schemaURL
        self.fields = fields
    }

    func json(producer: LineageProducer) -> JSONValue {
        var object = JSONObject()
        object["_producer"] = .string(producer.uri)
        object["_schemaURL"] = .string(schemaURL)
        for member in fields { object[member.key] = member.value }
        return .object(object)
    }
}

/// A dataset a run read or wrote: a namespace and name per the OpenLineage naming conventions,
/// and its facets (`schema`, `columnLineage`, `dataSource`).
public struct LineageDataset: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var facets: [String: LineageFacet]

    public init(namespace: String, name: String, facets: [String: LineageFacet] = [:]) {
        self.namespace = namespace
        self.name = name
        self.facets = facets
    }

    func json(producer: LineageProducer) -> JSONValue {
        var object = JSONObject()
        object["namespace"] = .string(namespace)
        object["name"] = .string(name)
        if !facets.isEmpty { object["facets"] = LineageRunEvent.facetsJSON(facets, producer: producer) }
        return .object(object)
    }
}

/// What a driver says a run reads and writes; nil from a driver means "job only".
public struct LineageDatasets: Sendable, Hashable {
    public var inputs: [LineageDataset]
    public var outputs: [LineageDataset]
    /// What the driver could not read (a mapping of an unknown shape), for the log: lineage is
    /// given without what could not be read, never refused.
    public var warnings: [String]

    public init(inputs: [LineageDataset] = [], outputs: [LineageDataset] = [], warnings: [String] = []) {
        self.inputs = inputs
        self.outputs = outputs
        self.warnings = warnings
    }
}

/// An OpenLineage 2-0-2 `RunEvent`.
public struct LineageRunEvent: Sendable, Hashable {
    public var eventType: LineageEventType
    public var eventTime: Date
    public var runID: String
    public var runFacets: [String: LineageFacet]
    public var jobNamespace: String
    public var jobName: String
    public var jobFacets: [String: LineageFacet]
    public var inputs: [LineageDataset]
    public var outputs: [LineageDataset]
    public var producer: LineageProducer

    public init(
        eventType: LineageEventType, eventTime: Date, runID: String, runFacets: [String: LineageFacet] = [:], jobNamespace: String, jobName: String,
        jobFacets: [String: LineageFacet] = [:], inputs: [LineageDataset] = [], outputs: [LineageDataset] = [], producer: LineageProducer = .factoryOperator
    ) {
        self.eventType = eventType
        self.eventTime = eventTime
        self.runID = runID
        self.runFacets = runFacets
        self.jobNamespace = jobNamespace
        self.jobName = jobName
        self.jobFacets = jobFacets
        self.inputs = inputs
        self.outputs = outputs
        self.producer = producer
    }

    /// The event's identity: its run and its transition. One event per transition, so this is
    /// the `Nats-Msg-Id` that lets JetStream drop a second publish of it.
    public var identity: String { Self.identity(runID: runID, eventType: eventType) }

    public static func identity(runID: String, eventType: LineageEventType) -> String {
        "openlineage-\(runID)-\(eventType.rawValue)"
    }

    // MARK: - JSON

    public var json: JSONValue {
        var object = JSONObject()
        object["eventType"] = .string(eventType.rawValue)
        object["eventTime"] = .string(Self.timestamp(eventTime))
        var run = JSONObject()
        run["runId"] = .string(runID)
        if !runFacets.isEmpty { run["facets"] = Self.facetsJSON(runFacets, producer: producer) }
        object["run"] = .object(run)
        var job = JSONObject()
        job["namespace"] = .string(jobNamespace)
        job["name"] = .string(jobName)
        if !jobFacets.isEmpty { job["facets"] = Self.facetsJSON(jobFacets, producer: producer) }
        object["job"] = .object(job)
        object["inputs"] = .array(inputs.map { $0.json(producer: producer) })
        object["outputs"] = .array(outputs.map { $0.json(producer: producer) })
        object["producer"] = .string(producer.uri)
        object["schemaURL"] = .string(OpenLineage.runEventSchemaURL)
        return .object(object)
    }

    /// The event as published: JSON, facets in name order.
    public var encoded: [UInt8] { json.serializedBytes() }

    static func facetsJSON(_ facets: [String: LineageFacet], producer: LineageProducer) -> JSONValue {
        var object = JSONObject()
        for name in facets.keys.sorted() {
            if let facet = facets[name] { object[name] = facet.json(producer: producer) }
        }
        return .object(object)
    }

    /// RFC 3339 in UTC with milliseconds, as OpenLineage's clients write it.
    public static func timestamp(_ date: Date) -> String {
        Timestamp.format(date)
    }
}
