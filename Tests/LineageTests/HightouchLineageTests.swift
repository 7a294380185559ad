import Foundation
import Hightouch
import JSONSchema
import Lineage
import LineageTestKit
import Testing

@testable import HightouchDriver

/// The Hightouch driver's datasets: the model's source as input, the sync's destination object
/// as output, column lineage from the sync's field mappings.
@Suite("Hightouch lineage")
struct HightouchLineageTests {
    /// The seed resource's spec (examples/resource.yaml), with `mappings` in the shape it has.
    static func seedSpec(mappings: JSONValue = [], object: String? = nil, table: String? = nil) -> JSONValue {
        var configuration: JSONObject = [
            "mode": "mirror", "driveId": "me/drive", "mappings": mappings, "workbookId": "014W54IBU6FZWIKUZNXZAYB35OCXH7DD3Z",
            "worksheetId": "{00000000-0001-0000-0000-000000000000}", "configVersion": 0, "autoSyncColumns": true, "workbookSelection": "select",
        ]
        if let object { configuration["object"] = .string(object) }
        var model: JSONObject = [
            "name": "city-retail-01", "slug": "city-retail-01", "queryType": "raw_sql", "sourceId": "23474", "isSchema": false, "primaryKey": "__metadata",
            "raw": ["sql": "SELECT * FROM icebase.retail.city LIMIT 10000"],
        ]
        if let table {
            model["queryType"] = "table"
            model["raw"] = nil
            model["table"] = ["name": .string(table)]
        }
        return [
            "model": .object(model),
            "sync": ["slug": "icebase-excel-01", "configuration": .object(configuration), "destinationId": "80565", "schedule": ["type": "cron", "schedule": ["expression": "*/5 * * * *"]], "disabled": false],
            "trigger": ["resetCDC": false, "fullResync": false],
        ]
    }

    static func datasets(_ spec: JSONValue) throws -> LineageDatasets {
        HightouchDriver.datasets(model: try HightouchSpec.model(in: spec), sync: try HightouchSpec.sync(in: spec))
    }

    @Test("the seed resource: the model (a query) of source 23474 in, the sync's destination 80565 out; no mappings, no columns")
    func seed() throws {
        let datasets = try Self.datasets(Self.seedSpec())
        #expect(datasets.warnings.isEmpty)
        #expect(datasets.inputs.map { "\($0.namespace) \($0.name)" } == ["factory://hightouch/23474 city-retail-01"])
        #expect(datasets.outputs.map { "\($0.namespace) \($0.name)" } == ["factory://hightouch/destinations/80565 icebase-excel-01"])
        #expect(datasets.outputs[0].facets["columnLineage"] == nil && datasets.outputs[0].facets["dataSource"] != nil)
    }

    @Test("mappings become column lineage from the model's columns to the destination's fields; the object names the output; a table model names its table")
    func columns() throws {
        let mappings: JSONValue = [
            ["from": "city_id", "to": "Id", "type": "standard"], ["from": "city_name", "to": "Name", "type": "standard"],
            ["from": "population", "to": "Population__c"], ["from": "city_name", "to": "Label", "type": "template"],
        ]
        let datasets = try Self.datasets(Self.seedSpec(mappings: mappings, object: "Account", table: "retail.city"))
        #expect(datasets.warnings.isEmpty)
        #expect(datasets.inputs[0].name == "retail.city" && datasets.outputs[0].name == "Account")
        let columns = try #require(datasets.outputs[0].facets["columnLineage"]?.fields["fields"]?.objectValue)
        #expect(columns.map(\.key) == ["Id", "Name", "Population__c", "Label"])
        let id = try #require(columns["Id"]?["inputFields"]?[0])
        #expect(id["namespace"] == "factory://hightouch/23474" && id["name"] == "retail.city" && id["field"] == "city_id")
        #expect(id["transformations"]?[0]?["type"] == "DIRECT" && id["transformations"]?[0]?["subtype"] == "IDENTITY")
        #expect(columns["Label"]?["inputFields"]?[0]?["transformations"]?[0]?["subtype"] == "TRANSFORMATION")
        #expect(datasets.inputs[0].facets["schema"]?.fields["fields"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["city_id", "city_name", "population"])
        let event = LineageRunEvent(
            .complete, context: LineageRunContext(workspace: "public", resource: "pipeline-01", type: "hightouch", integration: "HIGHTOUCH", jobType: "SYNC", commandID: "c"),
            at: Date(), datasets: datasets)
        #expect(OpenLineageValidator.shared.errors(event.json) == [])
    }

    @Test("bad input: mappings that are not a list give no columns and a warning; an unreadable entry is left out with a warning")
    func unreadableMappings() throws {
        let notAList = try Self.datasets(Self.seedSpec(mappings: ["from": "a", "to": "b"]))
        #expect(notAList.outputs[0].facets["columnLineage"] == nil)
        #expect(notAList.outputs.count == 1 && notAList.inputs.count == 1, "the datasets stay")
        #expect(notAList.warnings == ["sync configuration.mappings is not a list of {from, to, type}; lineage without columns"])
        let partly = try Self.datasets(Self.seedSpec(mappings: [["from": "a", "to": "b"], ["from": ["nested": 1], "to": "c"], "x", ["to": "d"]]))
        #expect(partly.outputs[0].facets["columnLineage"]?.fields["fields"]?.objectValue?.map(\.key) == ["b"])
        #expect(partly.warnings.count == 3)
        #expect(partly.warnings.first?.contains("mappings[1]") == true)
    }
}
