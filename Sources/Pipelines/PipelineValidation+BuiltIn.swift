import FactoryModel
import JSONSchema

extension PipelineValidationContext {
    /// Pipelines as this build knows them: tasks may name every type of `registry` (the built-in
    /// types by default), and an inline task's spec (its parameters with its job's fixed fields)
    /// is checked against its type's JSON schema, leaving templates as written: a value that is a
    /// string holding `${` is not checked (it gets its value only when an attempt starts).
    /// `pipeline` is not an integration: another pipeline runs as `resource: NAME, type: pipeline`.
    public static func builtIn(pipelineName: String, registry: ResourceTypeRegistry = .builtIn) -> PipelineValidationContext {
        PipelineValidationContext(pipelineName: pipelineName, resourceTypes: Set(registry.types.map(\.name))) { type, spec in
            if type == PipelineNames.type {
                return [(.root, "a pipeline is not an integration; run another pipeline as a task with resource: NAME and type: pipeline")]
            }
            guard let definition = registry.definition(forType: type) else { return [] }
            return definition.specSchema.validate(spec, maxErrors: 50)
                .filter { !isTemplate(spec.value(at: $0.instanceLocation)) }
                .map { ($0.instanceLocation, $0.message) }
        }
    }

    /// Whether a value is a string with a `${…}` reference (checked when it is rendered instead).
    static func isTemplate(_ value: JSONValue?) -> Bool {
        guard let text = value?.stringValue else { return false }
        return text.contains("${")
    }
}

extension PipelineSpec {
    /// Decodes and validates the spec of pipeline `pipelineName` against the built-in types:
    /// what the `pipeline` driver and `factoryctl validate` both check.
    public static func decode(_ json: JSONValue, pipelineName: String, registry: ResourceTypeRegistry = .builtIn) -> Result<PipelineSpec, PipelineSpecErrors> {
        decode(json, context: .builtIn(pipelineName: pipelineName, registry: registry))
    }

    /// The problems of a pipeline manifest, each with its path from the resource section
    /// (`/spec/stages/1/dependsOn/0: …`), as `factoryctl validate` prints them; empty when valid.
    public static func problems(in manifest: ResourceManifest, registry: ResourceTypeRegistry = .builtIn) -> [String] {
        guard manifest.resource.type == PipelineNames.type else { return [] }
        switch decode(manifest.resource.spec, pipelineName: manifest.name.rawValue, registry: registry) {
        case .success: return []
        case .failure(let errors):
            return errors.problems.map { "/spec\($0.path == "/" ? "" : $0.path): \($0.message)" }
        }
    }
}

/// The names of the `pipeline` resource type's deployment and documents.
public enum PipelineNames {
    public static let type = "pipeline"

    /// `run.<workspace>.<pipeline>.<runId>`: one run document.
    public static func runKey(workspace: String, pipeline: String, run: String) -> String { "run.\(workspace).\(pipeline).\(run)" }

    /// `run.<workspace>.<pipeline>.*`: every run of a pipeline (a KV watch pattern).
    public static func runPattern(workspace: String, pipeline: String) -> String { "run.\(workspace).\(pipeline).*" }

    /// `schedule.<workspace>.<pipeline>.<input>`: the last slot a schedule input fired.
    public static func scheduleKey(workspace: String, pipeline: String, input: String) -> String { "schedule.\(workspace).\(pipeline).\(input)" }

    /// What a run key names, or nil for another key.
    public static func parseRunKey(_ key: String) -> (workspace: String, pipeline: String, run: String)? {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "run", !parts[1].isEmpty, !parts[2].isEmpty, !parts[3].isEmpty else { return nil }
        return (String(parts[1]), String(parts[2]), String(parts[3]))
    }
}

extension PipelineValidationContext {
    /// For reading a spec checked already (a run's own): every built-in type is known and no
    /// task spec is checked against its schema again.
    public static func structural(pipelineName: String, registry: ResourceTypeRegistry = .builtIn) -> PipelineValidationContext {
        PipelineValidationContext(pipelineName: pipelineName, resourceTypes: Set(registry.types.map(\.name)))
    }
}
