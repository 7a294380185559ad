"""Writes the seed inputs of one fuzz target into a directory (used by scripts/fuzz and replayed
by HostileInputTests): the examples, the test fixtures, the hostile corpus and the JSON Schema
Test Suite. Usage: python3 make_seeds.py TARGET OUTDIR"""
import base64
import glob
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 64 * 1024


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def hostile_payloads():
    for line in open(os.path.join(ROOT, "Tests/HostileInput/corpus.jsonl"), encoding="utf-8"):
        entry = json.loads(line)
        if "payload_b64" in entry:
            yield entry, base64.b64decode(entry["payload_b64"])
        elif "payload" in entry:
            yield entry, entry["payload"].encode()


def suite_files():
    return sorted(glob.glob(os.path.join(ROOT, "Tests/JSONSchemaTests/Resources/draft2020-12/*.json")))


def seed_schema():
    text = read(os.path.join(ROOT, "Sources/FactoryModel/Registry/BuiltInSchemas.swift")).decode()
    return re.search(r'#"""\n(.*?)\n"""#', text, re.S).group(1).encode()


def seeds(target):
    yamls = [os.path.join(ROOT, "examples/resource.yaml"), os.path.join(ROOT, "Tests/FactoryModelTests/Resources/resource.yaml")]
    operators = [os.path.join(ROOT, "examples/operator.yaml"), os.path.join(ROOT, "Tests/FactoryModelTests/Resources/operator.yaml"),
                 os.path.join(ROOT, "Tests/FactoryModelTests/Resources/operator.published.yaml")]
    if target == "envelope":
        for entry, payload in hostile_payloads():
            if entry["subject"] == "command":
                yield payload
    elif target == "json":
        for _, payload in hostile_payloads():
            yield payload
        yield seed_schema()
        for path in suite_files()[:20]:
            yield read(path)
    elif target == "resource-yaml":
        for path in yamls + operators:
            yield read(path)
        for entry, payload in hostile_payloads():
            if entry["expect"]["result"] == "accepted":
                yield payload
    elif target == "resource-json":
        for entry, payload in hostile_payloads():
            try:
                yield json.dumps(json.loads(payload)["resource"]).encode()
            except Exception:
                yield payload
    elif target == "operator-yaml":
        for path in operators:
            yield read(path)
    elif target == "schema-compile":
        yield seed_schema()
        for path in suite_files():
            for group in json.loads(read(path)):
                yield json.dumps(group["schema"]).encode()
    elif target == "schema-validate":
        for path in suite_files():
            for group in json.loads(read(path)):
                for test in group["tests"]:
                    yield json.dumps(test["data"]).encode()
        for entry, payload in hostile_payloads():
            try:
                yield json.dumps(json.loads(payload)["resource"]["resource"]["spec"]).encode()
            except Exception:
                pass
    else:
        raise SystemExit(f"unknown target {target}")


def main(target, directory):
    os.makedirs(directory, exist_ok=True)
    count = 0
    for data in seeds(target):
        if not data or len(data) > LIMIT:
            continue
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(directory, name), "wb") as out:
            out.write(data)
        count += 1
    print(f"{count} seeds for {target} in {directory}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
