import Foundation
import JSONSchema

/// The OpenLineage version and schema addresses this module writes (spec 2-0-2, and the latest
/// version of each standard facet it uses).
public enum OpenLineage {
    public static let specVersion = "2-0-2"
    /// The `schemaURL` of every run event.
    public static let runEventSchemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

    /// The `_schemaURL` of each standard facet used, at its latest version.
    public enum FacetSchema {
        public static let jobType = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
        public static let errorMessage = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
        public static let parent = "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
        public static let nominalTime = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
        public static let schema = "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
        public static let columnLineage = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
        public static let dataSource = "https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet"
        /// This project's own facet marking a trimmed event (docs/lineage.md has its schema).
        public static let trimmed = LineageProducer.projectURL + "/blob/main/docs/lineage.md#trimmed-events"
    }

    /// The facet names used (the keys of a facets object).
    public enum FacetName {
        public static let jobType = "jobType"
        public static let errorMessage = "errorMessage"
        public static let parent = "parent"
        public static let nominalTime = "nominalTime"
        public static let schema = "schema"
        public static let columnLineage = "columnLineage"
        public static let dataSource = "dataSource"
        /// Custom facets carry a prefix of their producer, so they never collide with standard ones.
        public static let trimmed = "factory_trimmed"
    }
}

/// Who wrote the events: the `producer` of every event and the `_producer` of every facet.
public struct LineageProducer: Sendable, Hashable, CustomStringConvertible {
    /// The project's address.
    public static let projectURL = "https://github.com/factory-operator/factory-operator"
    /// The release this build is (the events' producer names it).
    public static let version = "0.1.0"
    /// This build: the project's tree at its version.
    public static let factoryOperator = LineageProducer(uri: "\(projectURL)/tree/v\(version)")

    /// A URI (RFC 3986), as the spec requires.
    public var uri: String

    public init(uri: String) {
        self.uri = uri
    }

    public var description: String { uri }
}
