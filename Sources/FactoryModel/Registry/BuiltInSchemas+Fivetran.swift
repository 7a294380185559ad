import JSONSchema

extension BuiltInSchemas {
    /// The spec schema of the `fivetran` resource type: one connector, by Fivetran's id, and what
    /// to do with it. `schema` and `table` are required for `FORCE_RESYNC`; the driver refuses
    /// them with any other action (with a message naming the action), and refuses a `timeout` that
    /// is not a duration.
    public static let fivetranSpecJSONSchema = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://factoryoperator.dev/schemas/fivetran-spec",
  "title": "Fivetran connector",
  "type": "object",
  "properties": {
    "connectorId": {
      "description": "Fivetran's connector id, e.g. shrank_paparazzi (lowercase letters, digits, underscores).",
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[a-z0-9_]+$"
    },
    "action": {
      "description": "START (default): sync and wait; STATUS: read the connector; TEST: run its setup tests; FORCE_RESYNC: re-sync one table.",
      "enum": ["START", "STATUS", "TEST", "FORCE_RESYNC"]
    },
    "schema": {
      "description": "FORCE_RESYNC only: the table's schema, as named in the source.",
      "type": "string",
      "minLength": 1
    },
    "table": {
      "description": "FORCE_RESYNC only: the table, as named in the source.",
      "type": "string",
      "minLength": 1
    },
    "keepSchedule": {
      "description": "Leave the connector's schedule_type as it is instead of setting it to manual (default: FIVETRAN_DONT_DISABLE_SYNC).",
      "type": "boolean"
    },
    "unpause": {
      "description": "Unpause a paused connector before syncing; without it a paused connector is refused.",
      "type": "boolean"
    },
    "timeout": {
      "description": "How long to wait for the sync, e.g. 300s, 10m, 1h30m (default: FIVETRAN_TIMEOUT, else 300s).",
      "type": "string",
      "minLength": 1
    }
  },
  "required": ["connectorId"],
  "additionalProperties": false,
  "if": {
    "properties": { "action": { "const": "FORCE_RESYNC" } },
    "required": ["action"]
  },
  "then": {
    "required": ["schema", "table"]
  }
}
"""#
}

extension ResourceTypeDefinition {
    /// The built-in `fivetran` type: its spec schema and the standard names of its deployment.
    public static func fivetranDefault() throws(SchemaCompilationError) -> ResourceTypeDefinition {
        ResourceTypeDefinition(
            name: "fivetran", isRunnable: true,
            specSchemaText: BuiltInSchemas.fivetranSpecJSONSchema,
            specSchema: try JSONSchema(jsonText: BuiltInSchemas.fivetranSpecJSONSchema),
            natsAPI: DeploymentNames.standard(type: "fivetran").natsAPI)
    }
}
