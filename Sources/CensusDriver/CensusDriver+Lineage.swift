import Census
import FactoryEngine
import FactoryState
import Lineage
import VendorHTTP

/// A Census sync's lineage, like Hightouch's: the sync's source object (a model or a table of the
/// source connection) in, its destination object out, column lineage from the sync's `mappings`
/// (`[{from: {type: column, data: EMAIL}, to: external_id}]`), all as `GET /syncs/{id}` gave them
/// when the resource was applied (recorded in the objects). Connections are named by id only, so
/// their namespaces are this project's (``LineageNaming``); docs/lineage.md has the details.
extension CensusDriver {
    public var lineageIntegration: String { "CENSUS" }
    public var lineageJobType: String { "SYNC" }

    public func lineage(_ spec: Spec, objects: Objects?, run: RunRecord) -> LineageDatasets? {
        Self.datasets(objects: objects ?? Objects(syncID: spec.syncID.rawValue))
    }

    static func datasets(objects: Objects) -> LineageDatasets {
        let type = descriptor.type
        var warnings: [String] = []
        let sourceNamespace = LineageNaming.sourceNamespace(type: type, sourceID: objects.sourceConnectionID ?? "sync-\(objects.syncID)")
        let destinationNamespace = LineageNaming.destinationNamespace(type: type, destinationID: objects.destinationConnectionID ?? "sync-\(objects.syncID)")
        let inputName = Self.objectName(objects.sourceObject) ?? "sync-\(objects.syncID)-source"
        let outputName = Self.objectName(objects.destinationObject) ?? "sync-\(objects.syncID)-destination"
        let mappings = Self.mappings(objects.mappings, warnings: &warnings)

        var input = LineageDataset(namespace: sourceNamespace, name: inputName)
        input.facets[OpenLineage.FacetName.dataSource] = .dataSource(name: "census connection \(objects.sourceConnectionID ?? "?")", uri: sourceNamespace)
        var output = LineageDataset(namespace: destinationNamespace, name: outputName)
        output.facets[OpenLineage.FacetName.dataSource] = .dataSource(
            name: "census connection \(objects.destinationConnectionID ?? "?")", uri: destinationNamespace)
        if !mappings.isEmpty {
            var inputFields: [String] = []
            for mapping in mappings where !inputFields.contains(mapping.from) { inputFields.append(mapping.from) }
            input.facets[OpenLineage.FacetName.schema] = .schema(inputFields.map { (name: $0, type: nil) })
            output.facets[OpenLineage.FacetName.schema] = .schema(mappings.map { (name: $0.to, type: nil) })
            output.facets[OpenLineage.FacetName.columnLineage] = .columnLineage(
                mappings.map { mapping in
                    ColumnLineage(outputField: mapping.to, inputs: [ColumnLineage.InputField(namespace: sourceNamespace, name: inputName, field: mapping.from)])
                })
        }
        return LineageDatasets(inputs: [input], outputs: [output], warnings: warnings)
    }

    /// An object as Census gives it: its name as a string, or an object with a `name` (a model)
    /// or `table_name` (a table, with `table_schema`).
    static func objectName(_ object: VendorJSON?) -> String? {
        guard let object else { return nil }
        if let text = object.stringValue, !text.isEmpty { return text }
        guard let fields = object.objectValue else { return nil }
        if let table = fields["table_name"]?.stringValue, !table.isEmpty {
            if let schema = fields["table_schema"]?.stringValue, !schema.isEmpty { return "\(schema).\(table)" }
            return table
        }
        if let name = fields["name"]?.stringValue, !name.isEmpty { return name }
        return nil
    }

    struct FieldMapping: Hashable {
        var from: String
        var to: String
    }

    /// The mappings from a source column to a destination field. A mapping from something else
    /// (a constant, a segment, a SQL expression) copies no column and is left out quietly; one
    /// that cannot be read is left out with a warning: lineage without it, never a failed run.
    static func mappings(_ value: VendorJSON?, warnings: inout [String]) -> [FieldMapping] {
        guard let value, value != .null else { return [] }
        guard case .array(let entries) = value else {
            warnings.append("Census sync mappings are not a list of {from, to}; lineage without columns")
            return []
        }
        var mappings: [FieldMapping] = []
        for (index, entry) in entries.enumerated() {
            let from = entry.objectValue?["from"]
            let to = entry.objectValue?["to"]?.stringValue
            let source: String?
            if let text = from?.stringValue {
                source = text
            } else if let kind = from?.objectValue?["type"]?.stringValue {
                guard kind == "column" else { continue }
                source = from?.objectValue?["data"]?.stringValue
            } else {
                source = nil
            }
            guard let source, !source.isEmpty, let to, !to.isEmpty else {
                warnings.append("Census sync mappings[\(index)] has no source column and destination field; that column is left out of the lineage")
                continue
            }
            guard !mappings.contains(where: { $0.to == to }) else { continue }
            mappings.append(FieldMapping(from: source, to: to))
        }
        return mappings
    }
}
