import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import NATSKit
import Pipelines

/// The command an attempt publishes, built from the run and what is known of the task's
/// resource:
/// - an inline task (`integration`, `job`, `parameters`): an `apply` of the resource the pipeline
///   owns for it (`<pipeline>--<task>`), its spec the job's with every `${…}` filled from the run;
///   a `run` of it instead when exactly that spec is applied and active already (an apply of an
///   unchanged spec would trigger nothing);
/// - a `resource:` task: a `run` of the resource, as applied.
///
/// The command's id (its `Nats-Msg-Id`) is the attempt's: `<runId>/<task>/<attempt>`. It names
/// the pipeline run as its `parent` (the pipeline and the command that started the run), which
/// the task's engine keeps on the run it records, and lineage names in the run's `parent` facet.
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
        let parent = Self.parent(of: run)
        switch task.work {
        case .resource:
            return .run(ResourceReference(name: name, type: attempt.resourceType), workspace: workspace, parent: parent)
        case .inline(let integration, let job, let parameters):
            let spec = try renderedSpec(integration: integration, job: job, parameters: parameters, run: run)
            if let definition = registry.definition(forType: integration) {
                let violations = definition.specSchema.validate(spec, maxErrors: 5)
                if !violations.isEmpty {
                    throw Problem(description: "the \(integration) spec, filled in, is invalid: \(violations.map { "/parameters\($0.instanceLocation.isRoot ? "" : $0.instanceLocation.description): \($0.message)" }.joined(separator: "; "))")
                }
            }
            if let owned, isApplied(spec, owned) {
                return .run(ResourceReference(name: name, type: integration), workspace: workspace, parent: parent)
            }
            var manifest = ResourceManifest(name: name, version: "v1beta", resource: .init(operator: "factory", type: integration, spec: spec))
            manifest.meta.additionalFields["owner"] = .string("pipeline/\(run.pipeline)")
            var envelope = CommandEnvelope.apply(manifest, workspace: workspace)
            envelope.options.parent = parent
            return envelope
        }
    }

    /// The pipeline run as a task's parent: the run of `pipeline` `<name>` started by the run's
    /// trigger command (the key the pipeline's engine records the run under). Nil, and the task
    /// runs without a parent, for a trigger command id a command cannot carry (never made by
    /// this operator's inputs; a command refused for it would fail the attempt for nothing).
    static func parent(of run: PipelineRun) -> RunParent? {
        let parent = RunParent(type: PipelineNames.type, name: run.pipeline, commandID: run.trigger.commandID)
        return parent.violation == nil ? parent : nil
    }

    /// An inline task's spec for `run`, its templates filled (nil for a `resource:` task).
    static func renderedSpec(for task: PipelineSpec.Task, run: PipelineRun) throws(Problem) -> JSONValue? {
        guard case .inline(let integration, let job, let parameters) = task.work else { return nil }
        return try renderedSpec(integration: integration, job: job, parameters: parameters, run: run)
    }

    private static func renderedSpec(integration: String, job: String, parameters: JSONValue, run: PipelineRun) throws(Problem) -> JSONValue {
        let context = ParameterTemplate.Context(runID: run.id, pipeline: run.pipeline, workspace: run.workspace, event: run.trigger.event)
        do {
            return IntegrationJobs.spec(integration: integration, job: job, parameters: try ParameterTemplate.render(parameters, context))
        } catch {
            throw Problem(description: "the parameters cannot be filled in: \(error.description)")
        }
    }

    /// Whether an inline task's command should be made from the owned resource as the KV holds
    /// it rather than from `known` (the watched state): only where `known` says its spec is not
    /// applied (an `apply` would follow, and be answered "unchanged" if the watch lags).
    static func needsFreshRead(task: PipelineSpec.Task, run: PipelineRun, known: ResourceDocuments?) -> Bool {
        guard case .inline = task.work else { return false }
        guard let known, let rendered = try? renderedSpec(for: task, run: run) else { return true }
        return !isApplied(rendered, known)
    }

    /// The owned resource's entity and status as `bucket` holds them now (nil: neither exists).
    static func ownedDocuments(in bucket: KeyValueBucket, workspace: String, resource: String) async throws -> ResourceDocuments? {
        var fresh = ResourceDocuments()
        if let entry = try await bucket.get(StateKeys.entity(workspace: workspace, name: resource)), entry.operation == .put {
            fresh.entity = try? StateCodec.decode(EntityRecord.self, entry.value, key: entry.key)
        }
        if let entry = try await bucket.get(StateKeys.status(workspace: workspace, name: resource)), entry.operation == .put {
            fresh.status = try? StateCodec.decode(StatusRecord.self, entry.value, key: entry.key)
        }
        return fresh.entity == nil && fresh.status == nil ? nil : fresh
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
