/// A port a component exposes (`components[].ports[]`).
public struct ComponentPort: Sendable, Hashable {
    public var name: String
    public var servicePort: Int
    public var targetPort: Int

    public init(name: String, servicePort: Int, targetPort: Int) {
        self.name = name
        self.servicePort = servicePort
        self.targetPort = targetPort
    }
}
