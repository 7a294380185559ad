/// The NATS cluster the operator runs with (`operator.natsClusterConfig`).
public struct NATSClusterConfig: Sendable, Hashable {
    public var name: String
    public var compute: String?
    public var runAsUser: String?

    public init(name: String, compute: String? = nil, runAsUser: String? = nil) {
        self.name = name
        self.compute = compute
        self.runAsUser = runAsUser
    }

    init(fields: ManifestFields) throws(ManifestError) {
        name = try fields.string("name")
        compute = try fields.optionalString("compute")
        runAsUser = try fields.optionalString("runAsUser")
    }
}
