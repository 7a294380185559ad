import JSONSchema

/// The resource types this build ships, as `factoryctl` knows them (their schemas; their drivers
/// are the operator's). A new vendor adds its type here.
public enum BuiltInResourceTypes {
    /// The type names, in the order `factoryctl` asks their deployments.
    public static let names = ["hightouch", "http", "fivetran", "dbtcloud", "census", "pipeline"]

    public static func definitions() throws(SchemaCompilationError) -> [ResourceTypeDefinition] {
        [try .hightouchDefault(), try .httpDefault(), try .fivetranDefault(), try .dbtCloudDefault(), try .censusDefault(), try .pipelineDefault()]
    }
}
