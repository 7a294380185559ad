import FactoryEngine
import FactoryState
import Hightouch
import Lineage
import VendorHTTP

/// A Hightouch sync's lineage, as DataHub's Hightouch source draws it: the model's source (its
/// table, or the model's query) → the sync → the destination object, with column lineage from
/// the sync's field mappings (`configuration.mappings: [{from, to, type}]`, the seed resource's
/// shape). Hightouch names sources and destinations by id only, so their namespaces are this
/// project's (``LineageNaming``); docs/lineage.md has the details.
extension HightouchDriver {
    public var lineageJobType: String { "SYNC" }

    public func lineage(_ spec: Spec, objects: Objects?, run: RunRecord) -> LineageDatasets? {
        Self.datasets(model: spec.model, sync: spec.sync)
    }

    static func datasets(model: HightouchModelCreate, sync: HightouchSyncCreate) -> LineageDatasets {
        let type = descriptor.type
        let sourceNamespace = LineageNaming.sourceNamespace(type: type, sourceID: model.sourceID.rawValue)
        // A table model reads that table; any other (a query, a visual or dbt model) is named
        // by its slug: the query itself is no dataset name.
        let inputName = model.table?.name ?? model.slug
        let destinationNamespace = LineageNaming.destinationNamespace(type: type, destinationID: sync.destinationID.rawValue)
        let outputName = sync.configuration.objectValue?["object"]?.stringValue ?? sync.slug

        var warnings: [String] = []
        let mappings = Self.mappings(in: sync.configuration, warnings: &warnings)

        var input = LineageDataset(namespace: sourceNamespace, name: inputName)
        input.facets[OpenLineage.FacetName.dataSource] = .dataSource(name: "hightouch source \(model.sourceID.rawValue)", uri: sourceNamespace)
        var output = LineageDataset(namespace: destinationNamespace, name: outputName)
        output.facets[OpenLineage.FacetName.dataSource] = .dataSource(name: "hightouch destination \(sync.destinationID.rawValue)", uri: destinationNamespace)
        if !mappings.isEmpty {
            var inputFields: [String] = []
            for mapping in mappings where !inputFields.contains(mapping.from) { inputFields.append(mapping.from) }
            input.facets[OpenLineage.FacetName.schema] = .schema(inputFields.map { (name: $0, type: nil) })
            output.facets[OpenLineage.FacetName.schema] = .schema(mappings.map { (name: $0.to, type: nil) })
            output.facets[OpenLineage.FacetName.columnLineage] = .columnLineage(
                mappings.map { mapping in
                    ColumnLineage(
                        outputField: mapping.to, inputs: [ColumnLineage.InputField(namespace: sourceNamespace, name: inputName, field: mapping.from)],
                        transformation: mapping.isCopy ? .identity : ColumnLineage.Transformation(type: "DIRECT", subtype: "TRANSFORMATION"))
                })
        }
        return LineageDatasets(inputs: [input], outputs: [output], warnings: warnings)
    }

    struct FieldMapping: Hashable {
        var from: String
        var to: String
        /// A `standard` mapping (or one without a type) copies the value as it is.
        var isCopy: Bool
    }

    /// The sync's field mappings. None is fine (a sync that syncs columns automatically); a
    /// `mappings` that is not a list, or an entry without a `from` and `to` column name, is left
    /// out with a warning: lineage without those columns, never a failed run.
    static func mappings(in configuration: VendorJSON, warnings: inout [String]) -> [FieldMapping] {
        guard let value = configuration.objectValue?["mappings"], value != .null else { return [] }
        guard case .array(let entries) = value else {
            warnings.append("sync configuration.mappings is not a list of {from, to, type}; lineage without columns")
            return []
        }
        var mappings: [FieldMapping] = []
        for (index, entry) in entries.enumerated() {
            guard let fields = entry.objectValue, let from = fields["from"]?.stringValue, !from.isEmpty, let to = fields["to"]?.stringValue, !to.isEmpty
            else {
                warnings.append("sync configuration.mappings[\(index)] has no from and to column names; that column is left out of the lineage")
                continue
            }
            let kind = fields["type"]?.stringValue ?? "standard"
            // A second mapping to one destination field is Hightouch's to refuse; keep the first.
            guard !mappings.contains(where: { $0.to == to }) else { continue }
            mappings.append(FieldMapping(from: from, to: to, isCopy: kind == "standard"))
        }
        return mappings
    }
}
