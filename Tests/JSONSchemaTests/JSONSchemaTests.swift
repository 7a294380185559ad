// JSONSchemaTests
