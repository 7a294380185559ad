import FactoryEngine
import FactoryState
import Lineage

/// A Fivetran sync's lineage: the connector's source in, the destination schema out (one table
/// of it for a re-sync of that table). Fivetran's API names neither the source's address nor the
/// destination's (a group is a destination, known by its id), so both get this project's
/// namespaces (``LineageNaming``); the tables a connector syncs are not listed by the endpoints
/// the driver uses, so a full sync's output is the schema as one dataset (docs/lineage.md).
extension FivetranDriver {
    public var lineageIntegration: String { "FIVETRAN" }
    public var lineageJobType: String { "SYNC" }

    public func lineage(_ spec: Spec, objects: Objects?, run: RunRecord) -> LineageDatasets? {
        // STATUS and TEST move no data: events of the job only.
        guard spec.action.syncs else { return nil }
        return Self.datasets(spec: spec, objects: objects ?? Objects(connectorID: spec.connectorID))
    }

    static func datasets(spec: Spec, objects: Objects) -> LineageDatasets {
        let type = descriptor.type
        let sourceNamespace = LineageNaming.sourceNamespace(type: type, sourceID: objects.connectorID)
        let destinationNamespace = LineageNaming.destinationNamespace(type: type, destinationID: objects.groupID ?? objects.connectorID)
        // The destination schema as Fivetran names it (the connector's `schema`), else the spec's.
        let schema = objects.schema ?? spec.schema ?? objects.connectorID
        var warnings: [String] = []
        if objects.schema == nil, spec.schema == nil {
            warnings.append("Fivetran connector \(objects.connectorID) names no destination schema; the output is named by the connector id")
        }
        let table = spec.action == .forceResync ? spec.table : nil
        let inputName = [objects.service ?? "source", table].compactMap { $0 }.joined(separator: ".")
        let outputName = [schema, table].compactMap { $0 }.joined(separator: ".")
        var input = LineageDataset(namespace: sourceNamespace, name: inputName)
        input.facets[OpenLineage.FacetName.dataSource] = .dataSource(name: "fivetran connector \(objects.connectorID)", uri: sourceNamespace)
        var output = LineageDataset(namespace: destinationNamespace, name: outputName)
        output.facets[OpenLineage.FacetName.dataSource] = .dataSource(
            name: "fivetran destination \(objects.groupID ?? objects.connectorID)", uri: destinationNamespace)
        return LineageDatasets(inputs: [input], outputs: [output], warnings: warnings)
    }
}
