import FactoryModel
import FactoryState
import Foundation
import JSONSchema

/// The standard facets this project writes, built from plain values.
extension LineageFacet {
    /// `jobType`: every run here is a BATCH job of an integration (the vendor), of the type's
    /// kind of job (`SYNC`, `JOB`, `TASK`).
    public static func jobType(integration: String, jobType: String, processingType: String = "BATCH") -> LineageFacet {
        LineageFacet(
            schemaURL: OpenLineage.FacetSchema.jobType,
            fields: ["processingType": .string(processingType), "integration": .string(integration), "jobType": .string(jobType)])
    }

    /// `errorMessage`: why a run failed. The facet requires the observed system's programming
    /// language; a vendor's is unknown, so it names the integration instead (docs/lineage.md).
    public static func errorMessage(_ message: String, language: String) -> LineageFacet {
        LineageFacet(schemaURL: OpenLineage.FacetSchema.errorMessage, fields: ["message": .string(message), "programmingLanguage": .string(language)])
    }

    /// `nominalTime`: when the run was asked for.
    public static func nominalTime(start: Date, end: Date? = nil) -> LineageFacet {
        var fields: JSONObject = ["nominalStartTime": .string(LineageRunEvent.timestamp(start))]
        if let end { fields["nominalEndTime"] = .string(LineageRunEvent.timestamp(end)) }
        return LineageFacet(schemaURL: OpenLineage.FacetSchema.nominalTime, fields: fields)
    }

    /// `parent`: the run (and job) this run is part of, e.g. a pipeline run for one of its tasks.
    public static func parent(_ parent: LineageParent) -> LineageFacet {
        var fields: JSONObject = [
            "run": ["runId": .string(parent.runID)],
            "job": ["namespace": .string(parent.jobNamespace), "name": .string(parent.jobName)],
        ]
        if let root = parent.root {
            fields["root"] = [
                "run": ["runId": .string(root.runID)],
                "job": ["namespace": .string(root.jobNamespace), "name": .string(root.jobName)],
            ]
        }
        return LineageFacet(schemaURL: OpenLineage.FacetSchema.parent, fields: fields)
    }

    /// `schema`: a dataset's fields, by name (types where known).
    public static func schema(_ fields: [(name: String, type: String?)]) -> LineageFacet {
        let values: [JSONValue] = fields.map { field in
            var object: JSONObject = ["name": .string(field.name)]
            if let type = field.type { object["type"] = .string(type) }
            return .object(object)
        }
        return LineageFacet(schemaURL: OpenLineage.FacetSchema.schema, fields: ["fields": .array(values)])
    }

    /// `dataSource`: where a dataset lives.
    public static func dataSource(name: String, uri: String) -> LineageFacet {
        LineageFacet(schemaURL: OpenLineage.FacetSchema.dataSource, fields: ["name": .string(name), "uri": .string(uri)])
    }

    /// `columnLineage` of an output dataset: each output field from the input fields it copies.
    public static func columnLineage(_ columns: [ColumnLineage]) -> LineageFacet {
        var fields = JSONObject()
        for column in columns {
            let inputs: [JSONValue] = column.inputs.map { input in
                [
                    "namespace": .string(input.namespace), "name": .string(input.name), "field": .string(input.field),
                    "transformations": [["type": .string(column.transformation.type), "subtype": .string(column.transformation.subtype)]],
                ]
            }
            fields[column.outputField] = ["inputFields": .array(inputs)]
        }
        return LineageFacet(schemaURL: OpenLineage.FacetSchema.columnLineage, fields: ["fields": .object(fields)])
    }
}

/// One output column and the input columns it comes from.
public struct ColumnLineage: Sendable, Hashable {
    public struct InputField: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var field: String

        public init(namespace: String, name: String, field: String) {
            self.namespace = namespace
            self.name = name
            self.field = field
        }
    }

    public struct Transformation: Sendable, Hashable {
        public var type: String
        public var subtype: String

        /// A value copied as it is (a field mapping).
        public static let identity = Transformation(type: "DIRECT", subtype: "IDENTITY")

        public init(type: String, subtype: String) {
            self.type = type
            self.subtype = subtype
        }
    }

    public var outputField: String
    public var inputs: [InputField]
    public var transformation: Transformation

    public init(outputField: String, inputs: [InputField], transformation: Transformation = .identity) {
        self.outputField = outputField
        self.inputs = inputs
        self.transformation = transformation
    }
}

/// The run a run belongs to (OpenLineage's `parent` facet): for a task of a pipeline, the
/// pipeline run. Its run id derives from the id of the command that started the pipeline run,
/// as every run id here derives from its command id (``LineageRunID``), so it is the run id of
/// the pipeline run's own events.
public struct LineageParent: Sendable, Hashable {
    public struct Root: Sendable, Hashable {
        public var jobNamespace: String
        public var jobName: String
        public var runID: String

        public init(jobNamespace: String, jobName: String, runID: String) {
            self.jobNamespace = jobNamespace
            self.jobName = jobName
            self.runID = runID
        }
    }

    public var jobNamespace: String
    public var jobName: String
    public var runID: String
    public var root: Root?

    public init(jobNamespace: String, jobName: String, runID: String, root: Root? = nil) {
        self.jobNamespace = jobNamespace
        self.jobName = jobName
        self.runID = runID
        self.root = root
    }

    /// The parent a run's command named (``RunParent``, kept on the run record): the run of the
    /// job `<type>.<name>` in the same workspace, whose run id derives from the command that
    /// caused it, exactly as that run's own events derive theirs. For a pipeline's task attempt:
    /// the job `pipeline.<pipeline>`, and the run id of the pipeline run's own events.
    public init(_ parent: RunParent, workspace: String) {
        self.init(
            jobNamespace: LineageNaming.jobNamespace(workspace: workspace), jobName: LineageNaming.jobName(type: parent.type, resource: parent.name),
            runID: LineageRunID.make(commandID: parent.commandID))
    }

    /// The parent `run` records (`RunRecord.parent`); nil for a run that is part of no other run.
    public static func recorded(_ run: RunRecord, workspace: String) -> LineageParent? {
        run.parent.map { LineageParent($0, workspace: workspace) }
    }
}

/// Job and dataset names per the OpenLineage naming conventions, and this project's own
/// namespaces where a vendor names a thing by id only.
public enum LineageNaming {
    /// `factory://<workspace>`: the jobs of one workspace.
    public static func jobNamespace(workspace: String) -> String { "factory://\(workspace)" }
    /// `<type>.<resource>`.
    public static func jobName(type: String, resource: String) -> String { "\(type).\(resource)" }
    /// `factory://<type>/<id>`: a vendor source known by its id only (its connection details are
    /// the vendor's and never reach the operator).
    public static func sourceNamespace(type: String, sourceID: String) -> String { "factory://\(type)/\(escaped(sourceID))" }
    /// `factory://<type>/destinations/<id>`: a vendor destination known by its id only.
    public static func destinationNamespace(type: String, destinationID: String) -> String {
        "factory://\(type)/destinations/\(escaped(destinationID))"
    }

    /// An id as one URI path segment: anything but RFC 3986's unreserved characters
    /// percent-encoded, so a namespace is always a valid URI.
    public static func escaped(_ segment: String) -> String {
        var text = ""
        for byte in segment.utf8 {
            let unreserved = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved {
                text.append(Character(Unicode.Scalar(byte)))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                text += "%" + (byte < 16 ? "0" + hex : hex)
            }
        }
        return text
    }
}
