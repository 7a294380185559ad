/// The resource a `delete` or `run` command is about.
public struct ResourceReference: Sendable, Hashable {
    public var name: ResourceName
    /// The resource type, e.g. `hightouch`; nil when the command does not say, and then the type
    /// is the one served on the subject it was sent to.
    public var type: String?

    public init(name: ResourceName, type: String? = nil) {
        self.name = name
        self.type = type
    }
}
