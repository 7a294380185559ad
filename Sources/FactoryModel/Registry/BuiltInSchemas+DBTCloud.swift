import JSONSchema

extension BuiltInSchemas {
    /// The spec schema of the `dbtcloud` resource type: which dbt Cloud job to run and how.
    /// Ids are integers or strings of digits (manifests often quote them); `timeout` is duration
    /// text (`30m`, `1h30m`), read by the driver with `DurationParser`.
    public static let dbtCloudSpecJSONSchema = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://factoryoperator.dev/schemas/dbtcloud-spec",
  "title": "dbt Cloud job run",
  "type": "object",
  "$defs": {
    "id": {
      "anyOf": [
        { "type": "integer", "minimum": 1 },
        { "type": "string", "pattern": "^[1-9][0-9]{0,17}$" }
      ]
    }
  },
  "properties": {
    "accountId": {
      "$ref": "#/$defs/id",
      "description": "The dbt Cloud account; defaults to the operator's DBT_CLOUD_ACCOUNT_ID."
    },
    "jobId": {
      "$ref": "#/$defs/id",
      "description": "The job to run. The operator does not create jobs: it must exist."
    },
    "cause": {
      "type": "string",
      "minLength": 1,
      "maxLength": 1000,
      "description": "Shown with each run; the operator appends its marker and keeps the whole within dbt Cloud's 255 characters."
    },
    "gitBranch": {
      "type": "string",
      "minLength": 1
    },
    "stepsOverride": {
      "type": "array",
      "minItems": 1,
      "items": { "type": "string", "pattern": "^\\s*dbt(\\s|$)" },
      "description": "dbt commands run instead of the job's, each starting with dbt."
    },
    "threadsOverride": {
      "type": "integer",
      "minimum": 1,
      "maximum": 64
    },
    "retryFromFailure": {
      "type": "boolean",
      "description": "When the job's last run ended in error, rerun it from its failed step instead of running the whole job."
    },
    "timeout": {
      "type": "string",
      "pattern": "^\\s*([0-9]+(\\.[0-9]+)?(ms|s|m|h))+\\s*$",
      "description": "How long a run may take, like 30m or 1h30m; past it the run is cancelled and recorded timed_out."
    }
  },
  "required": ["jobId"],
  "additionalProperties": false
}
"""#
}

extension ResourceTypeDefinition {
    /// The built-in `dbtcloud` type: its schema and the standard names of its deployment.
    public static func dbtCloudDefault() throws(SchemaCompilationError) -> ResourceTypeDefinition {
        ResourceTypeDefinition(
            name: "dbtcloud", isRunnable: true,
            specSchemaText: BuiltInSchemas.dbtCloudSpecJSONSchema,
            specSchema: try JSONSchema(jsonText: BuiltInSchemas.dbtCloudSpecJSONSchema),
            natsAPI: DeploymentNames.standard(type: "dbtcloud").natsAPI)
    }
}
