import DBTCloud
import FactoryEngine
import FactoryState
import Foundation
import JSONSchema
import Lineage
import VendorHTTP

/// A dbt Cloud job run's lineage: the job, and once the run has ended with its artifacts saved,
/// the models it built as outputs, read from its `run_results.json` (each result of a model with
/// status `success`, named by its `relation_name`, `database.schema.table`). dbt Cloud does not
/// say where the warehouse is, so the models' namespace is this project's, per environment:
/// `factory://dbtcloud/environment-<id>` (docs/lineage.md). No inputs: a model's sources are in
/// `manifest.json`'s graph, which the driver does not read. START names no datasets (nothing is
/// built yet); the end event does.
extension DBTCloudDriver {
    public var lineageIntegration: String { "DBT_CLOUD" }
    public var lineageJobType: String { "JOB" }

    /// Where the models a run built are kept in its details.
    static let modelsKey = "lineageModels"

    public func lineage(_ spec: Spec, objects: Objects?, run: RunRecord) -> LineageDatasets? {
        guard let models = run.details?[Self.modelsKey]?.arrayValue?.compactMap(\.stringValue), !models.isEmpty else { return nil }
        return Self.datasets(models: models, objects: objects, spec: spec)
    }

    static func datasets(models: [String], objects: Objects?, spec: Spec) -> LineageDatasets {
        let warehouse = objects?.environmentID.map { "environment-\($0)" } ?? "job-\(spec.jobID)"
        let namespace = LineageNaming.sourceNamespace(type: descriptor.type, sourceID: warehouse)
        let outputs = models.map { model in
            var dataset = LineageDataset(namespace: namespace, name: model)
            dataset.facets[OpenLineage.FacetName.dataSource] = .dataSource(name: "dbt Cloud \(warehouse)", uri: namespace)
            return dataset
        }
        return LineageDatasets(outputs: outputs)
    }

    /// The models a finished run built, from its `run_results.json`; nil when the artifact cannot
    /// be read (lineage then names the job only: never a failed look).
    func builtModels(_ run: RunReference) async -> [String]? {
        guard let results = try? await client.artifact(account: run.accountID, runID: run.runID, path: "run_results.json") else { return nil }
        return Self.models(inRunResults: results)
    }

    /// `"analytics"."prod"."orders"` → `analytics.prod.orders`; a result without a relation name is
    /// named by its `unique_id`'s last part.
    static func models(inRunResults results: VendorJSON) -> [String] {
        var models: [String] = []
        for result in results["results"]?.arrayValue ?? [] {
            guard let id = result["unique_id"]?.stringValue, id.hasPrefix("model."), result["status"]?.stringValue == "success" else { continue }
            let name: String
            if let relation = result["relation_name"]?.stringValue, !relation.isEmpty {
                name = relation.split(separator: ".").map { $0.trimmingCharacters(in: ["\"", "`", "[", "]"]) }.joined(separator: ".")
            } else {
                name = String(id.split(separator: ".").last ?? Substring(id))
            }
            if !models.contains(name) { models.append(name) }
        }
        return models
    }
}
