import JSONSchema

/// A process the operator manifest deploys (`operator.components[]`), e.g. the
/// `hightouch-controller` worker.
public struct OperatorComponent: Sendable, Hashable {
    public var name: String
    /// e.g. `worker`.
    public var type: String
    public var compute: String?
    public var runAsUser: String?
    public var image: String?
    public var imagePullSecret: String?
    /// The executable, e.g. `["/opt/tmdc-io/hightouch-operator"]`.
    public var command: [String]
    /// e.g. `["operator", "sync", "--electionStateFile", "/opt/tmdc-io/leader-election.log"]`.
    public var arguments: [String]
    public var replicas: Int
    /// Environment variables. YAML scalars keep the text they were written with: `30001` is
    /// `"30001"`, `true` is `"true"`, `0x1F` is `"0x1F"`.
    public var environmentVars: [String: String]
    public var ports: [ComponentPort]

    public init(
        name: String, type: String, compute: String? = nil, runAsUser: String? = nil, image: String? = nil,
        imagePullSecret: String? = nil, command: [String] = [], arguments: [String] = [], replicas: Int = 1,
        environmentVars: [String: String] = [:], ports: [ComponentPort] = []
    ) {
        self.name = name
        self.type = type
        self.compute = compute
        self.runAsUser = runAsUser
        self.image = image
        self.imagePullSecret = imagePullSecret
        self.command = command
        self.arguments = arguments
        self.replicas = replicas
        self.environmentVars = environmentVars
        self.ports = ports
    }

    init(fields: ManifestFields, source: YAMLDocument?) throws(ManifestError) {
        name = try fields.string("name")
        type = try fields.string("type")
        compute = try fields.optionalString("compute")
        runAsUser = try fields.optionalString("runAsUser")
        image = try fields.optionalString("image")
        imagePullSecret = try fields.optionalString("imagePullSecret")
        command = try fields.optionalStringArray("command") ?? []
        arguments = try fields.optionalStringArray("arguments") ?? []
        replicas = try fields.optionalInteger("replicas", in: 0...10_000) ?? 1

        var environment: [String: String] = [:]
        if let variables = try fields.optionalFields("environmentVars", describedAs: "environmentVars") {
            for member in variables.object {
                let pointer = variables.pointer(member.key)
                switch member.value {
                case .string(let string):
                    environment[member.key] = string
                case .number, .bool:
                    environment[member.key] = source?.sourceText(of: pointer) ?? member.value.serialized()
                case .null:
                    throw ManifestError(kind: .invalidValue, message: "environment variable \(member.key) has no value; write '' for an empty string", field: pointer)
                case .array, .object:
                    throw ManifestError(kind: .wrongType, message: "expected a scalar value for environment variable \(member.key), got \(member.value.typeName)", field: pointer)
                }
            }
        }
        environmentVars = environment

        ports = []
        for port in try fields.list("ports", describedAs: "a port") {
            ports.append(ComponentPort(
                name: try port.string("name"),
                servicePort: try port.integer("servicePort", in: 1...65_535),
                targetPort: try port.integer("targetPort", in: 1...65_535)))
        }
    }
}
