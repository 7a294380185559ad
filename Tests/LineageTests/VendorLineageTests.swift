import Foundation
import JSONSchema
import Lineage
import LineageTestKit
import Testing
import VendorHTTP

@testable import CensusDriver
@testable import DBTCloudDriver
import FactoryState
@testable import FivetranDriver

/// The datasets of Fivetran and Census runs; every event built from them valid against the
/// official schemas.
@Suite("Vendor lineage: Fivetran and Census")
struct VendorLineageTests {
    static func valid(_ datasets: LineageDatasets, type: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let context = LineageRunContext(workspace: "public", resource: "r", type: type, integration: type.uppercased(), jobType: "SYNC", commandID: "c")
        for eventType in [LineageEventType.start, .complete, .fail] {
            let errors = OpenLineageValidator.shared.errors(LineageRunEvent(eventType, context: context, at: Date(), datasets: datasets, error: "e").json)
            #expect(errors == [], sourceLocation: sourceLocation)
        }
    }

    @Test("Fivetran: the connector's source in, the destination schema out; one table of it for a re-sync; nothing for STATUS")
    func fivetran() throws {
        let objects = FivetranDriver.Objects(connectorID: "shrank_paparazzi", groupID: "projected_sickle", service: "postgres", schema: "public_orders")
        let sync = FivetranDriver.datasets(spec: .init(connectorID: "shrank_paparazzi"), objects: objects)
        #expect(sync.inputs.map { "\($0.namespace) \($0.name)" } == ["factory://fivetran/shrank_paparazzi postgres"])
        #expect(sync.outputs.map { "\($0.namespace) \($0.name)" } == ["factory://fivetran/destinations/projected_sickle public_orders"])
        #expect(sync.warnings.isEmpty)
        Self.valid(sync, type: "fivetran")
        let resync = FivetranDriver.datasets(spec: .init(connectorID: "shrank_paparazzi", action: .forceResync, schema: "public_orders", table: "orders"), objects: objects)
        #expect(resync.inputs.map(\.name) == ["postgres.orders"] && resync.outputs.map(\.name) == ["public_orders.orders"])
        Self.valid(resync, type: "fivetran")
        // A connector that names no schema: still datasets, and a warning.
        let bare = FivetranDriver.datasets(spec: .init(connectorID: "c1"), objects: .init(connectorID: "c1"))
        #expect(bare.outputs.map(\.name) == ["c1"] && bare.warnings.count == 1)
        Self.valid(bare, type: "fivetran")
    }

    @Test("Census: the sync's source object in, its destination object out, column lineage from its mappings (column mappings only)")
    func census() throws {
        let mappings: VendorJSON = [
            ["from": ["type": "column", "data": "EMAIL"], "to": "external_id", "is_primary_identifier": true],
            ["from": ["type": "column", "data": "FIRST_NAME"], "to": "first_name"],
            ["from": ["type": "constant_value", "data": "x"], "to": "source"],
        ]
        let objects = CensusDriver.Objects(
            syncID: "61", sourceConnectionID: "4", destinationConnectionID: "15", sourceObject: ["type": "model", "id": 615, "name": "model_for_sync_61"],
            destinationObject: "user", mappings: mappings)
        let datasets = CensusDriver.datasets(objects: objects)
        #expect(datasets.warnings.isEmpty)
        #expect(datasets.inputs.map { "\($0.namespace) \($0.name)" } == ["factory://census/4 model_for_sync_61"])
        #expect(datasets.outputs.map { "\($0.namespace) \($0.name)" } == ["factory://census/destinations/15 user"])
        let columns = try #require(datasets.outputs[0].facets["columnLineage"]?.fields["fields"]?.objectValue)
        #expect(columns.map(\.key) == ["external_id", "first_name"], "a constant copies no column")
        #expect(columns["external_id"]?["inputFields"]?[0]?["field"] == "EMAIL")
        Self.valid(datasets, type: "census")
        // A table as source object.
        #expect(CensusDriver.objectName(["table_schema": "analytics", "table_name": "users"]) == "analytics.users")
    }

    @Test("Census bad input: unreadable mappings give no columns and a warning, never a failure; objects recorded before lineage name the sync")
    func censusBadInput() throws {
        let notAList = CensusDriver.datasets(objects: .init(syncID: "61", sourceConnectionID: "4", destinationConnectionID: "15", mappings: ["from": "a"]))
        #expect(notAList.outputs[0].facets["columnLineage"] == nil && notAList.warnings.count == 1)
        Self.valid(notAList, type: "census")
        let partly = CensusDriver.datasets(objects: .init(syncID: "61", mappings: [["from": ["type": "column"], "to": "a"], ["from": "B", "to": "b"], 7]))
        #expect(partly.outputs[0].facets["columnLineage"]?.fields["fields"]?.objectValue?.map(\.key) == ["b"])
        #expect(partly.warnings.count == 2)
        let old = CensusDriver.datasets(objects: .init(syncID: "61"))
        #expect(old.inputs.map(\.name) == ["sync-61-source"] && old.outputs.map(\.name) == ["sync-61-destination"])
        #expect(old.inputs[0].namespace == "factory://census/sync-61")
        Self.valid(old, type: "census")
    }

    @Test("dbt Cloud: the models a run built (run_results.json, status success) as outputs; START names none; unreadable results are the job only")
    func dbtCloud() throws {
        let results: VendorJSON = [
            "results": [
                ["unique_id": "model.analytics.stg_orders", "status": "success", "relation_name": "\"analytics\".\"prod\".\"stg_orders\""],
                ["unique_id": "model.analytics.orders", "status": "success", "relation_name": "`analytics`.`prod`.`orders`"],
                ["unique_id": "model.analytics.revenue", "status": "error", "relation_name": "\"analytics\".\"prod\".\"revenue\""],
                ["unique_id": "test.analytics.not_null", "status": "success"],
                ["unique_id": "model.analytics.bare", "status": "success"],
            ]
        ]
        let models = DBTCloudDriver.models(inRunResults: results)
        #expect(models == ["analytics.prod.stg_orders", "analytics.prod.orders", "bare"])
        #expect(DBTCloudDriver.models(inRunResults: ["nothing": 1]).isEmpty)
        #expect(DBTCloudDriver.models(inRunResults: "not an object").isEmpty)
        let spec = DBTCloudDriver.Spec(accountID: 1, jobID: 7)
        let datasets = DBTCloudDriver.datasets(models: models, objects: nil, spec: spec)
        #expect(datasets.inputs.isEmpty && datasets.outputs.map(\.name) == models)
        #expect(datasets.outputs[0].namespace == "factory://dbtcloud/job-7")
        Self.valid(datasets, type: "dbtcloud")
    }

    @Test("dbt Cloud: manifest.json names what the built models read (sources, models not built by the run) as inputs; an unreadable manifest names none")
    func dbtCloudInputs() throws {
        let manifest: VendorJSON = [
            "nodes": [
                "model.analytics.stg_orders": ["relation_name": "\"analytics\".\"prod\".\"stg_orders\"", "depends_on": ["nodes": ["source.analytics.shop.orders"]]],
                "model.analytics.orders": [
                    "relation_name": "\"analytics\".\"prod\".\"orders\"",
                    "depends_on": ["macros": ["macro.dbt.run_query"], "nodes": ["model.analytics.stg_orders", "model.analytics.dim_dates", "source.analytics.shop.orders", "macro.x", "source.analytics.gone"]],
                ],
                "model.analytics.dim_dates": ["database": "analytics", "schema": "core", "alias": "dates", "depends_on": ["nodes": []]],
                "model.analytics.revenue": ["depends_on": ["nodes": ["source.analytics.shop.payments"]]],
            ],
            "sources": [
                "source.analytics.shop.orders": ["relation_name": "`raw`.`shop`.`orders`"],
                "source.analytics.shop.payments": ["relation_name": "\"raw\".\"shop\".\"payments\""],
            ],
        ]
        // stg_orders and orders were built; revenue was not (its source is no input of this run).
        let inputs = DBTCloudDriver.inputs(inManifest: manifest, built: ["model.analytics.stg_orders", "model.analytics.orders"])
        #expect(inputs == ["raw.shop.orders", "analytics.core.dates"], "a model built by the same run is an output, not an input; unknown ids are left out")
        #expect(DBTCloudDriver.inputs(inManifest: "not an object", built: ["model.analytics.orders"]).isEmpty)
        #expect(DBTCloudDriver.inputs(inManifest: ["nodes": ["model.analytics.orders": ["depends_on": "bad"]]], built: ["model.analytics.orders"]).isEmpty)
        let built = DBTCloudDriver.builtModels(inRunResults: [
            "results": [
                ["unique_id": "model.analytics.stg_orders", "status": "success", "relation_name": "\"analytics\".\"prod\".\"stg_orders\""],
                ["unique_id": "model.analytics.orders", "status": "success", "relation_name": "\"analytics\".\"prod\".\"orders\""],
            ]
        ])
        #expect(built.map(\.id) == ["model.analytics.stg_orders", "model.analytics.orders"])
        // The run's details as the look records them, read back into the event's datasets.
        let spec = DBTCloudDriver.Spec(accountID: 1, jobID: 7)
        let details: JSONValue = ["lineageModels": ["analytics.prod.stg_orders", "analytics.prod.orders"], "lineageInputs": ["raw.shop.orders", "analytics.core.dates"]]
        let datasets = try #require(DBTCloudDriver.datasets(details: details, objects: nil, spec: spec))
        #expect(DBTCloudDriver.datasets(details: ["other": 1], objects: nil, spec: spec) == nil, "no models, no inputs: the job only")
        #expect(datasets.inputs.map(\.name) == ["raw.shop.orders", "analytics.core.dates"])
        #expect(datasets.outputs.map(\.name) == ["analytics.prod.stg_orders", "analytics.prod.orders"])
        #expect(datasets.inputs.allSatisfy { $0.namespace == "factory://dbtcloud/job-7" })
        Self.valid(datasets, type: "dbtcloud")
    }
}
