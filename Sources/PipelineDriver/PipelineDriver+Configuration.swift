import FactoryEngine
import FactoryModel
import Logging
import Pipelines
import ServiceLifecycle

extension PipelineDriver {
    public static let descriptor: DriverDescriptor = {
        let definition: ResourceTypeDefinition
        do {
            definition = try .pipelineDefault()
        } catch {
            // A constant the tests compile; failing here is a build defect.
            preconditionFailure("the built-in pipeline spec schema does not compile: \(error)")
        }
        return DriverDescriptor(
            definition: definition, displayName: "Pipeline", names: .pipeline,
            variables: [
                .init(
                    "PIPELINE_REPUBLISH_AFTER", default: "5s",
                    "an attempt recorded but not published this long ago (its replica died in between) is published again by any replica; its message id makes it once"),
                .init("PIPELINE_WORKERS", default: "8", "run documents one replica evaluates at once"),
            ],
            secretVariable: nil,
            runsOnApply: false,
            everyRunCommandRuns: true
        )
    }()

    /// Reads `PIPELINE_*` and makes the driver with its companion (the advancer and the inputs).
    public static let factory = DriverFactory(descriptor: descriptor) { environment, logger throws(ConfigurationError) in
        let reader = EnvironmentReader(environment: environment)
        var settings = PipelineRuntime.Settings()
        settings.republishAfter = try reader.duration("PIPELINE_REPUBLISH_AFTER", default: settings.republishAfter, minimum: .milliseconds(100))
        settings.workers = try reader.integer("PIPELINE_WORKERS", default: settings.workers, range: 1...256)
        let runtime = PipelineRuntime(settings: settings)
        return AnyResourceDriver(PipelineDriver(runtime: runtime), companion: companion(runtime))
    }

    /// The services of every replica hosting pipelines: the advancer (and the inputs).
    public static func companion(_ runtime: PipelineRuntime, registry: ResourceTypeRegistry = .builtIn) -> DriverCompanion {
        DriverCompanion(name: "pipeline advancer and inputs", keepsOwnDocuments: true) { context in
            runtime.connect(bucket: context.bucket)
            let inputs = PipelineInputs(context: context)
            let advancer = PipelineAdvancer(context: context, runtime: runtime, registry: registry) { entity, id in
                inputs.pipelineChanged(entity, id: id)
            }
            return [advancer, inputs]
        }
    }
}
