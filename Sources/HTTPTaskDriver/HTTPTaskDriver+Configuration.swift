import FactoryEngine
import FactoryModel
import Logging

extension HTTPTaskDriver {
    /// The `http` type: its schema, the standard deployment names, its variables.
    public static let descriptor = DriverDescriptor(
        definition: builtInDefinition,
        displayName: "HTTP",
        variables: [
            .init("HTTP_TASK_SECRET_ENV", "comma-separated variables specs may name in {secretEnv: NAME} headers"),
            .init("HTTP_TASK_MAX_RESPONSE_BYTES", default: "1048576", "answers are read up to this much"),
            .init("HTTP_TASK_ATTEMPT_TIMEOUT", default: "30s", "the longest one request may take"),
        ],
        secretVariable: nil
    )

    private static let builtInDefinition: ResourceTypeDefinition = {
        do {
            return try ResourceTypeDefinition.httpDefault()
        } catch {
            preconditionFailure("the built-in http spec schema does not compile: \(error)")
        }
    }()

    /// Makes the driver for an executable: reads its variables from `environment`.
    public static let factory = DriverFactory(descriptor: descriptor) { environment, _ throws(ConfigurationError) in
        AnyResourceDriver(HTTPTaskDriver(configuration: try Configuration(environment: environment)))
    }
}
