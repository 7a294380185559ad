import JSONSchema

extension BuiltInSchemas {
    /// The spec schema of the `census` resource type (draft 2020-12): the Census sync to run,
    /// whether to force a full sync, and how long a run may take. The operator does not create
    /// Census syncs; `syncId` names one that exists.
    public static let censusSpecJSONSchema = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://factoryoperator.dev/schemas/census-spec",
  "title": "census resource spec",
  "type": "object",
  "properties": {
    "syncId": {
      "description": "The id of an existing Census sync: an integer, or a string of digits.",
      "oneOf": [
        { "type": "integer", "minimum": 1 },
        { "type": "string", "pattern": "^[0-9]+$", "minLength": 1, "maxLength": 18 }
      ]
    },
    "forceFullSync": {
      "description": "Trigger each run as a full sync (force_full_sync).",
      "type": "boolean",
      "default": false
    },
    "timeout": {
      "description": "How long a run may take before it is recorded timed_out: 500ms, 10s, 1m30s, 2h.",
      "type": "string",
      "pattern": "^([0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+$"
    }
  },
  "required": ["syncId"],
  "additionalProperties": false
}
"""#
}

extension ResourceTypeDefinition {
    /// The built-in `census` type: its schema and the standard names of its deployment.
    public static func censusDefault() throws(SchemaCompilationError) -> ResourceTypeDefinition {
        ResourceTypeDefinition(
            name: "census", isRunnable: true,
            specSchemaText: BuiltInSchemas.censusSpecJSONSchema,
            specSchema: try JSONSchema(jsonText: BuiltInSchemas.censusSpecJSONSchema),
            natsAPI: DeploymentNames.standard(type: "census").natsAPI
        )
    }
}
