import FactoryState
import Lineage

extension ResourceDriver {
    public var lineageIntegration: String { descriptor.type.uppercased() }
    public var lineageJobType: String { "RUN" }
    public func lineage(_ spec: Spec, objects: Objects?, run: RunRecord) -> LineageDatasets? { nil }
}
