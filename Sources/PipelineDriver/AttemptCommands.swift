import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Pipelines

/// The command an attempt publishes, built from the run and what is known of the task's
/// resource:
/// - an inline task (`integration`, `job`, `parameters`): an `apply` of the resource the pipeline
///   owns for it (`<pipeline>--<task>`), its spec the job's with every `${…}` filled from the run;
///   a `run` of it instead when exactly that spec is applied and active already (an apply of an
///   unchanged spec would trigger nothing);
/// - a `resource:` task: a `run` of the resource, as applied.
///
/// The command's id (its `Nats-Msg-Id`) is the attempt's: `<runId>/<task>/<attempt>`.
enum AttemptCommands {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// A task resource's documents, as the advancer follows them.
    struct ResourceDocuments: Sendable {
        var entity: EntityRecord?
        var status: StatusRecord?
    }

    static func envelope(
        for task: PipelineSpec.Task, attempt: Attempt, run: PipelineRun, owned: ResourceDocuments?, registry: ResourceTypeRegistry
    ) throws(Problem) -> CommandEnvelope {
        let workspace: WorkspaceName
        let name: ResourceName
        do {
            workspace = try WorkspaceName(run.workspace)
            name = try ResourceName(attempt.resource)
        } catch {
            throw Problem(description: "\(error)")
        }
        switch task.work {
        case .resource:
            return .run(ResourceReference(name: name, type: attempt.resourceType), workspace: workspace)
        case .inline(let integration, let job, let parameters):
            let context = ParameterTemplate.Context(runID: run.id, pipeline: run.pipeline, workspace: run.workspace, event: run.trigger.event)
            let rendered: JSONValue
            do {
                rendered = try ParameterTemplate.render(parameters, context)
            } catch {
                throw Problem(description: "the parameters cannot be filled in: \(error.description)")
            }
            let spec = IntegrationJobs.spec(integration: integration, job: job, parameters: rendered)
            if let definition = registry.definition(forType: integration) {
                let violations = definition.specSchema.validate(spec, maxErrors: 5)
                if !violations.isEmpty {
                    throw Problem(description: "the \(integration) spec, filled in, is invalid: \(violations.map { "/parameters\($0.instanceLocation.isRoot ? "" : $0.instanceLocation.description): \($0.message)" }.joined(separator: "; "))")
                }
            }
            if let owned, isApplied(spec, owned) {
                return .run(ResourceReference(name: name, type: integration), workspace: workspace)
            }
            var manifest = ResourceManifest(name: name, version: "v1beta", resource: .init(operator: "factory", type: integration, spec: spec))
            manifest.meta.additionalFields["owner"] = .string("pipeline/\(run.pipeline)")
            return .apply(manifest, workspace: workspace)
        }
    }

    /// An inline task's spec for `run`, its templates filled (nil for a `resource:` task).
    static func renderedSpec(for task: PipelineSpec.Task, run: PipelineRun) throws -> JSONValue? {
        guard case .inline(let integration, let job, let parameters) = task.work else { return nil }
        let context = ParameterTemplate.Context(runID: run.id, pipeline: run.pipeline, workspace: run.workspace, event: run.trigger.event)
        return IntegrationJobs.spec(integration: integration, job: job, parameters: try ParameterTemplate.render(parameters, context))
    }

    /// Whether `spec` is what the resource has applied and active at its generation: an apply of
    /// it would be "unchanged" and trigger nothing.
    static func isApplied(_ spec: JSONValue, _ documents: ResourceDocuments) -> Bool {
        guard let entity = documents.entity, !entity.deleted, let status = documents.status else { return false }
        return entity.specDigest == SHA256.hexDigest(spec.serializedBytes(sortedKeys: true)) && status.phase == .active
            && status.observedGeneration == entity.generation
    }

    /// The `cancel` of an attempt's run, by its key (the attempt's command id).
    static func cancel(attempt: Attempt, workspace: String) throws(Problem) -> CommandEnvelope {
        do {
            return .cancel(
                ResourceReference(name: try ResourceName(attempt.resource), type: attempt.resourceType), workspace: try WorkspaceName(workspace), mode: .stop,
                run: attempt.commandID)
        } catch {
            throw Problem(description: "\(error)")
        }
    }
}
