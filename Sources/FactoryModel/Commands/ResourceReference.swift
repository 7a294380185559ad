/// The resource a `delete` or `run` command is about.
public struct ResourceReference: Sendable, Hashable {
    public var name: ResourceName
    /// The resource type, e.g. `hightouch`.
    public var type: String

    public init(name: ResourceName, type: String = ResourceTypeRegistry.defaultResourceType) {
        self.name = name
        self.type = type
    }
}
