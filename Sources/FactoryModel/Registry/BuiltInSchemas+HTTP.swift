import JSONSchema

extension BuiltInSchemas {
    /// The spec schema of the `http` resource type: one HTTP request, optionally polled.
    public static let httpSpecJSONSchema = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://factory-operator.dev/schemas/http-task",
  "type": "object",
  "properties": {
    "baseUrl": {"type": "string", "pattern": "^https?://"},
    "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "get", "post", "put", "patch", "delete"]},
    "endpoint": {"type": "string", "pattern": "^/"},
    "headers": {
      "type": "object",
      "additionalProperties": {
        "oneOf": [
          {"type": "string"},
          {"type": "object", "properties": {"secretEnv": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}}, "required": ["secretEnv"], "additionalProperties": false}
        ]
      }
    },
    "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "body": true,
    "expectStatus": {
      "oneOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "string", "pattern": "^[1-5]xx$"},
        {"type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599}, "minItems": 1}
      ]
    },
    "timeout": {"type": "string"},
    "poll": {
      "type": "object",
      "properties": {
        "endpoint": {"type": "string", "pattern": "^/"},
        "interval": {"type": "string"},
        "successWhen": {"$ref": "#/$defs/condition"},
        "failureWhen": {"$ref": "#/$defs/condition"}
      },
      "required": ["endpoint", "successWhen"],
      "additionalProperties": false
    }
  },
  "required": ["baseUrl", "method"],
  "additionalProperties": false,
  "$defs": {
    "condition": {
      "type": "object",
      "properties": {"pointer": {"type": "string"}, "equals": true},
      "required": ["pointer", "equals"],
      "additionalProperties": false
    }
  }
}
"""#
}

extension ResourceTypeDefinition {
    /// The built-in `http` type.
    public static func httpDefault() throws(SchemaCompilationError) -> ResourceTypeDefinition {
        ResourceTypeDefinition(
            name: "http", isRunnable: true,
            specSchemaText: BuiltInSchemas.httpSpecJSONSchema,
            specSchema: try JSONSchema(jsonText: BuiltInSchemas.httpSpecJSONSchema),
            natsAPI: DeploymentNames.standard(type: "http").natsAPI)
    }
}
