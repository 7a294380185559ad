import JSONSchema

extension BuiltInSchemas {
    /// The spec schema of the `pipeline` resource type: its structure only (stages of tasks,
    /// inputs, settings). The pipeline driver's decode (`PipelineSpec.decode`) is the full check:
    /// names, references between stages and tasks, cycles, durations, each inline task's spec
    /// against its own type's schema, templates, cron expressions; `factoryctl validate` runs it
    /// too.
    public static let pipelineSpecJSONSchema = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://factory-operator.dev/schemas/pipeline",
  "type": "object",
  "properties": {
    "inputs": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "name": {"type": "string"},
          "nats": {"type": "object"},
          "kv": {"type": "object"},
          "schedule": {"type": "object"},
          "pipeline": {"type": "object"}
        },
        "required": ["name"],
        "additionalProperties": false
      }
    },
    "concurrency": {
      "type": "object",
      "properties": {
        "limit": {"type": "integer", "minimum": 1},
        "onOverlap": {"enum": ["queue", "skip", "cancel-previous", "parallel"]}
      },
      "additionalProperties": false
    },
    "timeout": {"type": "string"},
    "defaults": {
      "type": "object",
      "properties": {"timeout": {"type": "string"}, "retries": {"$ref": "#/$defs/retries"}},
      "additionalProperties": false
    },
    "stages": {
      "type": "array",
      "minItems": 1,
      "items": {
        "type": "object",
        "properties": {
          "name": {"type": "string"},
          "dependsOn": {"type": "array", "items": {"type": "string"}},
          "triggerRule": {"enum": ["all_success", "all_done", "all_failed", "one_success", "one_failed", "none_failed", "none_failed_min_one_success", "always"]},
          "core": {"type": "array", "items": {"type": "string"}},
          "tasks": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/task"}}
        },
        "required": ["name", "tasks"],
        "additionalProperties": false
      }
    },
    "finally": {"type": "array", "items": {"$ref": "#/$defs/task"}}
  },
  "required": ["stages"],
  "additionalProperties": false,
  "$defs": {
    "task": {
      "type": "object",
      "properties": {
        "name": {"type": "string"},
        "resource": {"type": "string"},
        "type": {"type": "string"},
        "integration": {"type": "string"},
        "job": {"type": "string"},
        "parameters": {"type": "object"},
        "timeout": {"type": "string"},
        "retries": {"$ref": "#/$defs/retries"},
        "failureIsWarning": {"type": "boolean"}
      },
      "required": ["name"],
      "additionalProperties": false
    },
    "retries": {
      "type": "object",
      "properties": {
        "limit": {"type": "integer", "minimum": 0},
        "backoff": {"enum": ["constant", "linear", "exponential"]},
        "delay": {"type": "string"},
        "maxDelay": {"type": "string"},
        "on": {"type": "array", "items": {"enum": ["api_error", "timeout", "job_failed"]}}
      },
      "additionalProperties": false
    }
  }
}
"""#
}

extension ResourceTypeDefinition {
    /// The built-in `pipeline` type, served on the pipeline deployment's names
    /// (``DeploymentNames/pipeline``).
    public static func pipelineDefault() throws(SchemaCompilationError) -> ResourceTypeDefinition {
        ResourceTypeDefinition(
            name: "pipeline", isRunnable: true,
            specSchemaText: BuiltInSchemas.pipelineSpecJSONSchema,
            specSchema: try JSONSchema(jsonText: BuiltInSchemas.pipelineSpecJSONSchema),
            natsAPI: DeploymentNames.pipeline.natsAPI)
    }
}

extension DeploymentNames {
    /// The `pipeline` type's deployment: `factory.pipeline.run` (and `.query`, `.deadletter`,
    /// `.followup`), `dataos-factory-pipelines`, `factory-pipelines-12121`,
    /// `factory-pipeline-state`, rather than the names `standard(type:)` would derive.
    public static let pipeline: DeploymentNames = {
        let command = "factory.pipeline.run"
        return DeploymentNames(
            type: "pipeline",
            commandStream: "dataos-factory-pipelines",
            commandConsumer: "factory-pipelines-12121",
            commandSubject: command,
            querySubject: command + ".query",
            queryReplySubject: "dataos.operator.pipeline.reply",
            queryQueueGroup: "factory-pipeline-status",
            deadLetterSubject: command + ".deadletter",
            deadLetterStream: "dataos-factory-pipelines-deadletter",
            followUpSubject: command + ".followup",
            followUpStream: "dataos-factory-pipelines-followups",
            followUpConsumer: "factory-pipeline-followers",
            stateBucket: "factory-pipeline-state"
        )
    }()

    /// The default names of a built-in type's deployment: the pipeline's own, else
    /// ``standard(type:)``.
    public static func builtIn(type: String) -> DeploymentNames {
        type == pipeline.type ? pipeline : standard(type: type)
    }
}
