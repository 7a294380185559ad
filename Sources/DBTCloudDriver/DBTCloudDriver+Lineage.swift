import DBTCloud
import FactoryEngine
import FactoryState
import Foundation
import JSONSchema
import Lineage
import VendorHTTP

/// A dbt Cloud job run's lineage: the job, and once the run has ended with its artifacts saved,
/// the models it built as outputs, read from its `run_results.json` (each result of a model with
/// status `success`, named by its `relation_name`, `database.schema.table`), and what those
/// models read as inputs, from its `manifest.json` (each built model's `depends_on.nodes`: a
/// source or a model, named by its `relation_name`; a model the same run built is an output, not
/// an input). dbt Cloud does not say where the warehouse is, so the namespace is this project's,
/// per environment: `factory://dbtcloud/environment-<id>` (docs/lineage.md). START names no
/// datasets (nothing is built yet); the end event does.
extension DBTCloudDriver {
    public var lineageIntegration: String { "DBT_CLOUD" }
    public var lineageJobType: String { "JOB" }

    /// Where the models a run built are kept in its details.
    static let modelsKey = "lineageModels"
    /// Where what they read (sources, models built before) is kept in its details.
    static let inputsKey = "lineageInputs"

    public func lineage(_ spec: Spec, objects: Objects?, run: RunRecord) -> LineageDatasets? {
        Self.datasets(details: run.details, objects: objects, spec: spec)
    }

    /// The datasets a run's details record (``modelsKey``, ``inputsKey``); nil for none.
    static func datasets(details: JSONValue?, objects: Objects?, spec: Spec) -> LineageDatasets? {
        let models = details?[modelsKey]?.arrayValue?.compactMap(\.stringValue) ?? []
        let inputs = details?[inputsKey]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !models.isEmpty || !inputs.isEmpty else { return nil }
        return datasets(models: models, inputs: inputs, objects: objects, spec: spec)
    }

    static func datasets(models: [String], inputs: [String] = [], objects: Objects?, spec: Spec) -> LineageDatasets {
        let warehouse = objects?.environmentID.map { "environment-\($0)" } ?? "job-\(spec.jobID)"
        let namespace = LineageNaming.sourceNamespace(type: descriptor.type, sourceID: warehouse)
        func dataset(_ name: String) -> LineageDataset {
            var dataset = LineageDataset(namespace: namespace, name: name)
            dataset.facets[OpenLineage.FacetName.dataSource] = .dataSource(name: "dbt Cloud \(warehouse)", uri: namespace)
            return dataset
        }
        return LineageDatasets(inputs: inputs.map(dataset), outputs: models.map(dataset))
    }

    /// What a finished run built and read, for its details: the models from its
    /// `run_results.json`, their upstreams from its `manifest.json` (one more GET each). Nil when
    /// the results cannot be read (lineage then names the job only: never a failed look); no
    /// inputs when the manifest cannot be.
    func builtLineage(_ run: RunReference) async -> (models: [String], inputs: [String])? {
        guard let results = try? await client.artifact(account: run.accountID, runID: run.runID, path: "run_results.json") else { return nil }
        let built = Self.builtModels(inRunResults: results)
        guard !built.isEmpty, let manifest = try? await client.artifact(account: run.accountID, runID: run.runID, path: "manifest.json") else {
            return (built.map(\.name), [])
        }
        return (built.map(\.name), Self.inputs(inManifest: manifest, built: built.map(\.id)))
    }

    /// `"analytics"."prod"."orders"` → `analytics.prod.orders`; a result without a relation name is
    /// named by its `unique_id`'s last part.
    static func models(inRunResults results: VendorJSON) -> [String] {
        var models: [String] = []
        for model in builtModels(inRunResults: results) where !models.contains(model.name) { models.append(model.name) }
        return models
    }

    /// Each model result with status `success`: its `unique_id` and its name.
    static func builtModels(inRunResults results: VendorJSON) -> [(id: String, name: String)] {
        var models: [(id: String, name: String)] = []
        for result in results["results"]?.arrayValue ?? [] {
            guard let id = result["unique_id"]?.stringValue, id.hasPrefix("model."), result["status"]?.stringValue == "success" else { continue }
            guard !models.contains(where: { $0.id == id }) else { continue }
            models.append((id, relationName(result["relation_name"]?.stringValue) ?? String(id.split(separator: ".").last ?? Substring(id))))
        }
        return models
    }

    /// What the models `built` (by `unique_id`) read, from a `manifest.json`: every node in their
    /// `depends_on.nodes` that is a source (`sources`) or a model (`nodes`) the run did not build,
    /// named by its `relation_name` (else, for a node, `database.schema.alias`, else its
    /// `unique_id`'s last part), in the order first met. Anything else (macros, seeds named
    /// elsewhere, an unknown id) is left out.
    static func inputs(inManifest manifest: VendorJSON, built: [String]) -> [String] {
        let nodes = manifest["nodes"]?.objectValue ?? [:]
        let sources = manifest["sources"]?.objectValue ?? [:]
        var inputs: [String] = []
        for model in built {
            for upstream in nodes[model]?["depends_on"]?["nodes"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !built.contains(upstream) {
                let node = sources[upstream] ?? nodes[upstream]
                guard let node, upstream.hasPrefix("source.") || upstream.hasPrefix("model.") || upstream.hasPrefix("seed.") || upstream.hasPrefix("snapshot.") else { continue }
                let parts = [node["database"]?.stringValue, node["schema"]?.stringValue, node["alias"]?.stringValue ?? node["identifier"]?.stringValue ?? node["name"]?.stringValue]
                let name = relationName(node["relation_name"]?.stringValue)
                    ?? (parts.allSatisfy { $0?.isEmpty == false } ? parts.compactMap { $0 }.joined(separator: ".") : String(upstream.split(separator: ".").last ?? Substring(upstream)))
                if !inputs.contains(name) { inputs.append(name) }
            }
        }
        return inputs
    }

    /// A relation name unquoted: `"analytics"."prod"."orders"` → `analytics.prod.orders`; nil
    /// for none.
    static func relationName(_ relation: String?) -> String? {
        guard let relation, !relation.isEmpty else { return nil }
        return relation.split(separator: ".").map { $0.trimmingCharacters(in: ["\"", "`", "[", "]"]) }.joined(separator: ".")
    }
}
