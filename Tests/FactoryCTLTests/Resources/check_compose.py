"""Validates a Compose file (given as JSON) against the Compose specification's JSON schema.

    check_compose.py SCHEMA.json INSTANCE.json

The schema is draft-07 (the project's own validator implements 2020-12 only), so this uses the
jsonschema package that scripts/bootstrap pins into .venv. Prints one line per violation, with
the JSON path of the offending value, and exits 1 if there is any; prints "valid" and exits 0
otherwise. Exits 2 if the schema itself is not a valid draft-07 schema.
"""

import json
import sys

import jsonschema


def main() -> int:
    schema_path, instance_path = sys.argv[1], sys.argv[2]
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    with open(instance_path, encoding="utf-8") as handle:
        instance = json.load(handle)
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as error:
        print(f"the schema is not a valid draft-07 schema: {error.message}")
        return 2
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
    for error in errors:
        path = "/" + "/".join(str(part) for part in error.absolute_path)
        print(f"{path}: {error.message}")
    if errors:
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
