import FactoryModel
import Foundation
import JSONSchema
import Lineage
import LineageTestKit
import Testing

@Suite("OpenLineage events: the model, its JSON, the official schemas")
struct LineageModelTests {
    static let context = LineageRunContext(
        workspace: "public", resource: "pipeline-01", type: "hightouch", integration: "HIGHTOUCH", jobType: "SYNC", commandID: "cmd-1",
        nominalStart: Date(timeIntervalSince1970: 1_790_000_000))

    @Test("the run id is an RFC 9562 version-8 UUID derived from the command id alone")
    func runID() throws {
        let id = LineageRunID.make(commandID: "cmd-1")
        #expect(id == LineageRunID.make(commandID: "cmd-1"), "deterministic")
        #expect(id != LineageRunID.make(commandID: "cmd-2"))
        #expect(SchemaFormat.uuid.matches(id))
        let characters = Array(id)
        #expect(characters[14] == "8", "version 8: \(id)")
        #expect(["8", "9", "a", "b"].contains(characters[19]), "variant 10: \(id)")
        #expect(id == id.lowercased())
        // A fixed vector, so a change of derivation is noticed (ids already emitted would change).
        // (SHA-256 of "factory-operator/openlineage/run/cmd-1", first 16 bytes, version and variant set.)
        #expect(LineageRunID.make(commandID: "cmd-1") == "0da15b44-190f-831f-a8f0-9680a0bbcfae")
    }

    @Test("a START event: producer, schemaURL, job namespace and name, the jobType and nominalTime facets with _producer and _schemaURL; valid")
    func startEvent() throws {
        let event = LineageRunEvent(.start, context: Self.context, at: Date(timeIntervalSince1970: 1_790_000_001.5), datasets: nil)
        let json = event.json
        #expect(json["eventType"] == "START")
        #expect(json["eventTime"] == "2026-09-21T14:13:21.500Z")
        #expect(json["producer"]?.stringValue == "https://github.com/factory-operator/factory-operator/tree/v0.1.0")
        #expect(json["schemaURL"] == "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent")
        #expect(json["run"]?["runId"]?.stringValue == LineageRunID.make(commandID: "cmd-1"))
        #expect(json["job"]?["namespace"] == "factory://public")
        #expect(json["job"]?["name"] == "hightouch.pipeline-01")
        let jobType = try #require(json["job"]?["facets"]?["jobType"])
        #expect(jobType["processingType"] == "BATCH" && jobType["integration"] == "HIGHTOUCH" && jobType["jobType"] == "SYNC")
        #expect(jobType["_producer"] == json["producer"])
        #expect(jobType["_schemaURL"] == "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet")
        #expect(json["run"]?["facets"]?["nominalTime"]?["nominalStartTime"] == "2026-09-21T14:13:20.000Z")
        #expect(json["run"]?["facets"]?["errorMessage"] == nil, "no error on START")
        #expect(event.identity == "openlineage-\(LineageRunID.make(commandID: "cmd-1"))-START")
        #expect(OpenLineageValidator.shared.errors(json) == [])
        #expect(OpenLineageValidator.shared.errors(encoded: event.encoded) == [])
    }

    @Test("FAIL carries errorMessage; every event type valid with datasets, schema, dataSource and column lineage")
    func endEvents() throws {
        let datasets = Self.datasets(columns: 3)
        for type in [LineageEventType.complete, .fail, .abort] {
            let event = LineageRunEvent(type, context: Self.context, at: Date(), datasets: datasets, error: "destination rejected 12 rows")
            let errors = OpenLineageValidator.shared.errors(event.json)
            #expect(errors == [], "\(type): \(errors)")
            let message = event.json["run"]?["facets"]?["errorMessage"]
            if type == .complete {
                #expect(message == nil)
            } else {
                #expect(message?["message"] == "destination rejected 12 rows")
                #expect(message?["programmingLanguage"] == "HIGHTOUCH")
            }
        }
    }

    @Test("the validator fails what the schemas refuse: a bad time, id, URI, a facet without what it requires, an unknown facet schema")
    func validatorCatchesBadEvents() throws {
        let good = LineageRunEvent(.fail, context: Self.context, at: Date(), datasets: Self.datasets(columns: 1), error: "x").json
        func broken(_ change: (inout JSONObject) -> Void) -> JSONValue {
            guard case .object(var object) = good else { return good }
            change(&object)
            return .object(object)
        }
        let cases: [(String, JSONValue)] = [
            ("eventTime", broken { $0["eventTime"] = "yesterday" }),
            ("runId", broken { $0["run"] = ["runId": "cmd-1"] }),
            ("producer", broken { $0["producer"] = "not a uri" }),
            ("eventType", broken { $0["eventType"] = "DONE" }),
            ("job", broken { $0["job"] = ["name": "x"] }),
            ("errorMessage", broken { object in
                object["run"] = ["runId": .string(LineageRunID.make(commandID: "c")), "facets": ["errorMessage": [
                    "_producer": "https://example.com", "_schemaURL": .string(OpenLineage.FacetSchema.errorMessage), "message": "x",
                ]]]
            }),
            ("columnLineage", broken { object in
                object["outputs"] = [["namespace": "n", "name": "o", "facets": ["columnLineage": [
                    "_producer": "https://example.com", "_schemaURL": .string(OpenLineage.FacetSchema.columnLineage), "fields": ["a": ["inputFields": [["name": "i"]]]],
                ]]]]
            }),
            ("unknown facet", broken { object in
                object["run"] = ["runId": .string(LineageRunID.make(commandID: "c")), "facets": ["mine": ["_producer": "https://example.com", "_schemaURL": "https://example.com/x.json"]]]
            }),
        ]
        for (what, event) in cases {
            #expect(!OpenLineageValidator.shared.errors(event).isEmpty, "\(what) should be refused")
        }
    }

    @Test("parent: the parent a task attempt's command names; the facet is valid")
    func parentFacet() throws {
        // The parent a task attempt's command names: the pipeline and the command that started its run.
        let parent = LineageParent(RunParent(type: "pipeline", name: "nightly", commandID: "run-1"), workspace: "public")
        #expect(parent.runID == LineageRunID.make(commandID: "run-1") && parent.jobName == "pipeline.nightly" && parent.jobNamespace == "factory://public")
        var context = Self.context
        context.commandID = "run-1/load/1"
        context.parent = parent
        let json = LineageRunEvent(.start, context: context, at: Date(), datasets: nil).json
        #expect(json["run"]?["facets"]?["parent"]?["run"]?["runId"]?.stringValue == parent.runID)
        #expect(json["run"]?["facets"]?["parent"]?["job"]?["name"] == "pipeline.nightly")
        #expect(OpenLineageValidator.shared.errors(json) == [])
        var rooted = parent
        rooted.root = .init(jobNamespace: "factory://public", jobName: "pipeline.outer", runID: LineageRunID.make(commandID: "outer"))
        context.parent = rooted
        #expect(OpenLineageValidator.shared.errors(LineageRunEvent(.start, context: context, at: Date(), datasets: nil).json) == [])
    }

    @Test("an oversized event loses its column lineage first, gets the factory_trimmed marker, stays valid and is never dropped")
    func trimming() throws {
        let event = LineageRunEvent(.complete, context: Self.context, at: Date(), datasets: Self.datasets(columns: 2_000))
        let size = event.encoded.count
        #expect(size > 200_000)
        // A limit the event meets once its column lineage (the bulk) is gone, with room for the marker.
        var withoutColumns = event
        withoutColumns.outputs[0].facets["columnLineage"] = nil
        let limit = withoutColumns.encoded.count + 1_000
        #expect(limit < size)
        let fitted = LineageTrimming.fit(event, maxBytes: limit)
        #expect(fitted.removed == [.columnLineage])
        #expect(fitted.bytes.count <= limit)
        let json = try JSONValue(parsing: fitted.bytes)
        #expect(json["outputs"]?[0]?["facets"]?["columnLineage"] == nil)
        #expect(json["outputs"]?[0]?["facets"]?["schema"] != nil, "the schema stays while it fits")
        let marker = try #require(json["run"]?["facets"]?["factory_trimmed"])
        #expect(marker["removed"] == ["columnLineage"] && marker["originalBytes"]?.numberValue?.intValue == size && marker["limitBytes"]?.numberValue?.intValue == limit)
        #expect(OpenLineageValidator.shared.errors(json) == [])
        // Smaller limits take more, in order, and still publish something valid.
        let tight = LineageTrimming.fit(event, maxBytes: 2_000)
        #expect(tight.removed.first == .columnLineage && tight.removed.count >= 2)
        #expect(tight.bytes.count <= 2_000)
        #expect(OpenLineageValidator.shared.errors(encoded: tight.bytes) == [])
        // An event that fits is untouched.
        let small = LineageTrimming.fit(event, maxBytes: size)
        #expect(small.removed.isEmpty && small.bytes == event.encoded)
    }

    static func datasets(columns: Int) -> LineageDatasets {
        let inputNamespace = LineageNaming.sourceNamespace(type: "hightouch", sourceID: "23474")
        var input = LineageDataset(namespace: inputNamespace, name: "city-retail-01")
        input.facets["dataSource"] = .dataSource(name: "hightouch source 23474", uri: inputNamespace)
        input.facets["schema"] = .schema((0..<columns).map { (name: "column_\($0)", type: nil) })
        let outputNamespace = LineageNaming.destinationNamespace(type: "hightouch", destinationID: "80565")
        var output = LineageDataset(namespace: outputNamespace, name: "icebase-excel-01")
        output.facets["schema"] = .schema((0..<columns).map { (name: "field_\($0)", type: "STRING") })
        output.facets["columnLineage"] = .columnLineage(
            (0..<columns).map { ColumnLineage(outputField: "field_\($0)", inputs: [.init(namespace: inputNamespace, name: "city-retail-01", field: "column_\($0)")]) })
        return LineageDatasets(inputs: [input], outputs: [output])
    }

    @Test("namespaces of ids are URIs whatever the id holds")
    func namespaces() {
        #expect(LineageNaming.sourceNamespace(type: "hightouch", sourceID: "23474") == "factory://hightouch/23474")
        #expect(LineageNaming.destinationNamespace(type: "census", destinationID: "a b/ü") == "factory://census/destinations/a%20b%2F%C3%BC")
        #expect(SchemaFormat.uri.matches(LineageNaming.destinationNamespace(type: "census", destinationID: "a b/ü")))
    }
}
