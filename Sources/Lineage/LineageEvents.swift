import Foundation
import JSONSchema

/// What the engine knows of a run when it builds the run's events: whose run it is and why.
public struct LineageRunContext: Sendable, Hashable {
    public var workspace: String
    public var resource: String
    /// The resource type (`hightouch`).
    public var type: String
    /// The `jobType` facet's integration: the vendor (`HIGHTOUCH`).
    public var integration: String
    /// The `jobType` facet's job type: the type's kind of job (`SYNC`).
    public var jobType: String
    /// The id of the command that caused the run: the run id derives from it.
    public var commandID: String
    /// The run this one is part of (a pipeline run), if any.
    public var parent: LineageParent?
    /// When the run was asked for (the `nominalTime` facet), if known.
    public var nominalStart: Date?

    public init(
        workspace: String, resource: String, type: String, integration: String, jobType: String, commandID: String, parent: LineageParent? = nil,
        nominalStart: Date? = nil
    ) {
        self.workspace = workspace
        self.resource = resource
        self.type = type
        self.integration = integration
        self.jobType = jobType
        self.commandID = commandID
        self.parent = parent
        self.nominalStart = nominalStart
    }

    public var runID: String { LineageRunID.make(commandID: commandID) }
    public var jobNamespace: String { LineageNaming.jobNamespace(workspace: workspace) }
    public var jobName: String { LineageNaming.jobName(type: type, resource: resource) }
}

extension LineageRunEvent {
    /// The event of `eventType` for the run `context` describes. `error` becomes the
    /// `errorMessage` facet (on FAIL and ABORT only); `datasets` nil makes a job-only event.
    public init(
        _ eventType: LineageEventType, context: LineageRunContext, at eventTime: Date, datasets: LineageDatasets?, error: String? = nil,
        producer: LineageProducer = .factoryOperator
    ) {
        var runFacets: [String: LineageFacet] = [:]
        if let parent = context.parent { runFacets[OpenLineage.FacetName.parent] = .parent(parent) }
        if let nominal = context.nominalStart { runFacets[OpenLineage.FacetName.nominalTime] = .nominalTime(start: nominal) }
        if let error, !error.isEmpty, eventType == .fail || eventType == .abort {
            runFacets[OpenLineage.FacetName.errorMessage] = .errorMessage(error, language: context.integration)
        }
        self.init(
            eventType: eventType, eventTime: eventTime, runID: context.runID, runFacets: runFacets, jobNamespace: context.jobNamespace,
            jobName: context.jobName,
            jobFacets: [OpenLineage.FacetName.jobType: .jobType(integration: context.integration, jobType: context.jobType)],
            inputs: datasets?.inputs ?? [], outputs: datasets?.outputs ?? [], producer: producer)
    }
}

/// Fitting an event into the lineage stream's message limit without losing it: what goes first is
/// what is largest and least needed, and what went is said in a `factory_trimmed` run facet.
public enum LineageTrimming {
    /// What can be removed, in order.
    public enum Step: String, Sendable, Hashable, CaseIterable {
        /// Every dataset's `columnLineage` facet (the bulk of a wide sync's event).
        case columnLineage
        /// Every dataset's `schema` facet.
        case schema
        /// Every other dataset facet.
        case datasetFacets
        /// The error message, cut to its first 1,000 characters.
        case errorMessage
        /// The datasets themselves (the job and run remain).
        case datasets
    }

    /// The event as it is if it fits in `maxBytes`, else trimmed step by step until it fits (or
    /// nothing more can go: it is then published as small as it gets, never dropped).
    public static func fit(_ event: LineageRunEvent, maxBytes: Int) -> (event: LineageRunEvent, bytes: [UInt8], removed: [Step]) {
        let original = event.encoded
        guard original.count > maxBytes else { return (event, original, []) }
        var trimmed = event
        var removed: [Step] = []
        var bytes = original
        for step in Step.allCases {
            apply(step, to: &trimmed)
            removed.append(step)
            trimmed.runFacets[OpenLineage.FacetName.trimmed] = marker(removed: removed, originalBytes: original.count, maxBytes: maxBytes)
            bytes = trimmed.encoded
            if bytes.count <= maxBytes { break }
        }
        return (trimmed, bytes, removed)
    }

    /// The marker: a custom run facet (its schema is in docs/lineage.md).
    public static func marker(removed: [Step], originalBytes: Int, maxBytes: Int) -> LineageFacet {
        LineageFacet(
            schemaURL: OpenLineage.FacetSchema.trimmed,
            fields: [
                "removed": .array(removed.map { .string($0.rawValue) }), "originalBytes": .number(JSONNumber(originalBytes)),
                "limitBytes": .number(JSONNumber(maxBytes)),
            ])
    }

    private static func apply(_ step: Step, to event: inout LineageRunEvent) {
        func datasets(_ change: (inout LineageDataset) -> Void) {
            for index in event.inputs.indices { change(&event.inputs[index]) }
            for index in event.outputs.indices { change(&event.outputs[index]) }
        }
        switch step {
        case .columnLineage:
            datasets { $0.facets[OpenLineage.FacetName.columnLineage] = nil }
        case .schema:
            datasets { $0.facets[OpenLineage.FacetName.schema] = nil }
        case .datasetFacets:
            datasets { $0.facets = [:] }
        case .errorMessage:
            if var facet = event.runFacets[OpenLineage.FacetName.errorMessage], let message = facet.fields["message"]?.stringValue, message.count > 1000 {
                facet.fields["message"] = .string(String(message.prefix(1000)) + "…")
                event.runFacets[OpenLineage.FacetName.errorMessage] = facet
            }
        case .datasets:
            event.inputs = []
            event.outputs = []
        }
    }
}
