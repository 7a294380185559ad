import FactoryModel
import JSONSchema
import Logging

/// What a driver brings besides its behaviour: the resource type it serves with that type's spec
/// schema, the default names of its deployment, the environment variables it reads and the one
/// that holds its secret.
public struct DriverDescriptor: Sendable {
    /// One environment variable of a driver, for `--help` and the docs.
    public struct Variable: Sendable, Hashable {
        public var name: String
        /// The default, as text; nil for none.
        public var defaultValue: String?
        public var meaning: String

        public init(_ name: String, default defaultValue: String? = nil, _ meaning: String) {
            self.name = name
            self.defaultValue = defaultValue
            self.meaning = meaning
        }
    }

    /// The resource type: its name, spec schema and whether it can be run.
    public var definition: ResourceTypeDefinition
    /// For people: `Hightouch`, `dbt Cloud`.
    public var displayName: String
    /// The deployment's names when nothing overrides them.
    public var names: DeploymentNames
    public var variables: [Variable]
    /// The variable holding the vendor secret; a `factory-operator` hosts, by default, every
    /// driver whose secret is set. Nil for a driver that needs none.
    public var secretVariable: String?
    /// Whether an `apply` triggers a run (true for every vendor type). When false, an apply
    /// validates, ensures and records the status (phase active, the generation observed) and
    /// triggers nothing: runs come from `run` commands only (a pipeline: `factoryctl run`, its
    /// inputs).
    public var runsOnApply: Bool
    /// Whether every `run` command is a run of its own (false for every vendor type). When true,
    /// a `run` command older in the stream than one that already took effect (a redelivery after
    /// its replica died) is not superseded: it waits its turn and runs, so no event is lost. The
    /// driver's `trigger` must then answer a command it already ran with that run (a pipeline
    /// finds its run by the trigger's command id), since such a command may come again.
    public var everyRunCommandRuns: Bool

    public init(
        definition: ResourceTypeDefinition, displayName: String, names: DeploymentNames? = nil, variables: [Variable] = [], secretVariable: String?,
        runsOnApply: Bool = true, everyRunCommandRuns: Bool = false
    ) {
        self.definition = definition
        self.displayName = displayName
        self.names = names ?? .standard(type: definition.name)
        self.variables = variables
        self.secretVariable = secretVariable
        self.runsOnApply = runsOnApply
        self.everyRunCommandRuns = everyRunCommandRuns
    }

    public var type: String { definition.name }
}

/// How an executable makes a driver: its descriptor (known without configuration), and a
/// constructor that reads the driver's variables from the environment and refuses a bad one
/// with a ``ConfigurationError`` naming it.
public struct DriverFactory: Sendable {
    public var descriptor: DriverDescriptor
    public var make: @Sendable (_ environment: [String: String], _ logger: Logger) throws(ConfigurationError) -> AnyResourceDriver

    public init(descriptor: DriverDescriptor, make: @escaping @Sendable (_ environment: [String: String], _ logger: Logger) throws(ConfigurationError) -> AnyResourceDriver) {
        self.descriptor = descriptor
        self.make = make
    }
}
