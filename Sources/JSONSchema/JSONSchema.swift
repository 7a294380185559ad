// JSONSchema: module under construction.
