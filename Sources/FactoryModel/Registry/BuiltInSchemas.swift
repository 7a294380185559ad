/// Schemas built into FactoryOperator.
public enum BuiltInSchemas {
    /// The spec schema of the `hightouch` resource type, copied verbatim from the `jsonSchema` of
    /// the published Hightouch Factory Operator manifest (`specSchema.jsonSchema`). It is the
    /// default when no operator manifest is given; a test checks it still matches the seed.
    public static let hightouchSpecJSONSchema = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.com/schemas/data-model-schema",
  "type": "object",
  "properties": {
    "model": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string"
        },
        "slug": {
          "type": "string"
        },
        "queryType": {
          "type": "string"
        },
        "sourceId": {
          "type": "string"
        },
        "isSchema": {
          "type": "boolean"
        },
        "primaryKey": {
          "type": "string"
        },
        "visual": {
          "type": "object"
        },
        "custom": {
          "type": "object"
        },
        "table": {
          "type": "object"
        },
        "raw": {
          "type": "object"
        },
        "folderId": {
          "type": "string"
        },
        "dbt": {
          "type": "object"
        }
      },
      "required": [
        "name",
        "slug",
        "queryType",
        "sourceId",
        "isSchema",
        "primaryKey"
      ],
      "additionalProperties": false
    },
    "sync": {
      "type": "object",
      "properties": {
        "slug": {
          "type": "string"
        },
        "configuration": {
          "type": "object"
        },
        "destinationId": {
          "type": "string"
        },
        "schedule": {
          "type": [
            "object"
          ]
        },
        "disabled": {
          "type": "boolean"
        }
      },
      "required": [
        "slug",
        "configuration",
        "destinationId",
        "disabled"
      ],
      "additionalProperties": false
    },
    "trigger": {
      "type": "object",
      "properties": {
        "syncSlug": {
          "type": "string"
        },
        "resetCDC": {
          "type": "boolean"
        },
        "fullResync": {
          "type": "boolean"
        },
        "syncId": {
          "type": "string"
        }
      },
      "additionalProperties": false
    }
  },
  "required": [
    "model",
    "sync",
    "trigger"
  ],
  "additionalProperties": false
}
"""#
}
