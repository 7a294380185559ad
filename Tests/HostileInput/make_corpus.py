"""Generates corpus.jsonl, the hostile-input corpus of FactoryOperator (issue 8).

Each line is one message with what must become of it:

  id        unique; also the Nats-Msg-Id unless msg_id says otherwise
  category  broken-json, huge, wrong-type, unicode, names, workspace, op, duplicate-keys,
            version, schema, missing, unknown-resource, headers, vendor, accepted,
            query, followup
  note      what it tries
  subject   command (default), query, followup, query-noreply
  payload   the bytes, as text (UTF-8)        | payload_b64: raw bytes
  generate  bytes made by the client at send time (huge documents): {"kind": ..., ...}
  publish   jetstream (default) or core (a plain NATS publish, no message id)
  msg_id    the Nats-Msg-Id ("" sends none)
  headers   extra headers
  expect    refused   {"result": "refused", "reason": R, "status": {"workspace": W, "name": N}?}
            accepted  {"result": "accepted", "workspace": W, "name": N, "sync": SLUG}
            noop      {"result": "noop"}               acknowledged, no effect, no dead letter
            not-stored / deduplicated                  JetStream refused or dropped the publish
            answered  {"result": "answered", "kind": K, "reason": R?}   (queries)
            ignored   {"result": "ignored"}            (forged follow-ups: nothing changes)

Run `python3 make_corpus.py` to regenerate; the output is deterministic.
"""
import base64
import copy
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = random.Random(20261121)
LIMIT = 262144  # OPERATOR_MAX_COMMAND_BYTES of the test's replicas

entries = []


def seed_spec(name):
    return {
        "model": {
            "name": f"{name}-model", "slug": f"{name}-model", "queryType": "raw_sql", "sourceId": "23474",
            "isSchema": False, "primaryKey": "__metadata", "raw": {"sql": "SELECT * FROM icebase.retail.city LIMIT 10000"},
        },
        "sync": {
            "slug": f"{name}-sync",
            "configuration": {"mode": "mirror", "driveId": "me/drive", "mappings": []},
            "destinationId": "80565",
            "schedule": {"type": "cron", "schedule": {"expression": "*/5 * * * *"}},
            "disabled": False,
        },
        "trigger": {"resetCDC": False, "fullResync": False},
    }


def manifest(name, spec=None):
    return {
        "version": "v1beta", "name": name, "type": "resource", "tags": ["hostile"], "description": "hostile corpus",
        "resource": {"operator": "hightouch-factory", "type": "hightouch", "spec": spec if spec is not None else seed_spec(name)},
    }


def envelope(name, op="apply", workspace="public", version=1, spec=None):
    command = {"version": version, "op": op, "workspace": workspace}
    command["resource"] = manifest(name, spec) if op == "apply" else {"name": name}
    return command


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def add(id, category, note, payload=None, *, raw=None, generate=None, expect, subject="command", publish="jetstream", msg_id=None, headers=None):
    entry = {"id": id, "category": category, "note": note, "subject": subject}
    if raw is not None:
        entry["payload_b64"] = base64.b64encode(raw).decode()
    elif generate is not None:
        entry["generate"] = generate
    else:
        entry["payload"] = payload if isinstance(payload, str) else dumps(payload)
    if publish != "jetstream":
        entry["publish"] = publish
    if msg_id is not None:
        entry["msg_id"] = msg_id
    if headers:
        entry["headers"] = headers
    entry["expect"] = expect
    entries.append(entry)


def refused(reason, name=None, workspace="public"):
    expect = {"result": "refused", "reason": reason}
    if name is not None:
        expect["status"] = {"workspace": workspace, "name": name}
    return expect


def accepted(name, workspace="public"):
    return {"result": "accepted", "workspace": workspace, "name": name, "sync": f"{name}-sync"}


def text_with(name, edit, **kwargs):
    """The apply of `name` as text, changed by `edit` (a function of the text)."""
    return edit(dumps(envelope(name, **kwargs)))


# --- broken JSON ---------------------------------------------------------------------------
simple = [
    ("empty", ""), ("space", " "), ("open-brace", "{"), ("close-brace", "}"), ("open-bracket", "["),
    ("key-only", '{"op":'), ("trailing-comma", '{"op":"apply",}'), ("single-quotes", "{'op':'apply'}"),
    ("nan", '{"version":NaN}'), ("infinity", '{"version":Infinity}'), ("minus-infinity", '{"version":-Infinity}'),
    ("line-comment", '{"op":"apply"// comment\n}'), ("block-comment", '{/* c */"op":"apply"}'),
    ("leading-zero", '{"version":01,"op":"apply"}'), ("unquoted-keys", "{op:apply}"),
    ("invalid-escape", '{"op":"\\x41pply"}'), ("short-unicode-escape", '{"op":"\\u12"}'),
    ("lone-quote", '"'), ("yaml", "op: apply\nworkspace: public\nresource:\n  name: x\n"),
    ("xml", "<command op='apply'><workspace>public</workspace></command>"),
    ("http", "POST /api/v1/syncs HTTP/1.1\r\nHost: api.hightouch.com\r\n\r\n{}"),
    ("nats-protocol", "PUB hightouch.pipeline.run 2\r\n{}\r\n"),
    ("deep-unclosed", "[" * 1000), ("plus-number", '{"version":+1}'), ("hex-number", '{"version":0x1}'),
    ("dot-number", '{"version":.5}'), ("true-capital", '{"op":"apply","x":True}'), ("undefined", '{"op":undefined}'),
]
for label, text in simple:
    add(f"broken-json-{label}", "broken-json", f"not JSON: {label}", text, expect=refused("notJSON"))

add("broken-json-raw-tab", "broken-json", "a raw tab inside a string", text_with("bj-raw-tab", lambda t: t.replace("hostile corpus", "hostile\tcorpus")),
    expect=refused("notJSON", "bj-raw-tab"))
add("broken-json-raw-newline", "broken-json", "a raw newline inside a string", text_with("bj-raw-newline", lambda t: t.replace("hostile corpus", "hostile\ncorpus")),
    expect=refused("notJSON", "bj-raw-newline"))
add("broken-json-trailing-garbage", "broken-json", "valid command then garbage", dumps(envelope("bj-trailing")) + " x", expect=refused("notJSON", "bj-trailing"))
add("broken-json-two-objects", "broken-json", "two commands back to back", dumps(envelope("bj-two-a")) + dumps(envelope("bj-two-b")), expect=refused("notJSON", "bj-two-a"))
add("broken-json-bom", "broken-json", "a UTF-8 byte order mark before the command", raw=b"\xef\xbb\xbf" + dumps(envelope("bj-bom")).encode(),
    expect=refused("notJSON", "bj-bom"))
add("broken-json-utf16", "broken-json", "the command in UTF-16LE", raw=dumps(envelope("bj-utf16")).encode("utf-16-le"), expect=refused("notJSON"))
add("broken-json-utf32", "broken-json", "the command in UTF-32", raw=dumps(envelope("bj-utf32")).encode("utf-32"), expect=refused("notJSON"))
add("broken-json-binary", "broken-json", "256 random bytes", raw=bytes(RNG.randrange(256) for _ in range(256)), expect=refused("notJSON"))
import gzip
add("broken-json-gzip", "broken-json", "the command gzip-compressed", raw=gzip.compress(dumps(envelope("bj-gzip")).encode(), mtime=0), expect=refused("notJSON"))
add("broken-json-number-overflow", "broken-json", "a version of 1e999999", '{"version":1e999999,"op":"apply","workspace":"public","resource":{"name":"bj-overflow"}}',
    expect=refused("notJSON", "bj-overflow"))
full = dumps(envelope("bj-truncated"))
for cut in [10, 30, 60, 90, 120, 200, 400, len(full) - 60, len(full) - 10, len(full) - 1]:
    prefix = full[:cut]
    name = "bj-truncated"
    add(f"broken-json-truncated-{cut}", "broken-json", f"the command cut after {cut} of {len(full)} bytes", prefix,
        expect=refused("notJSON", name if f'"name":"{name}"' in prefix else None))
# Distinct names per truncation would be cleaner for the status check; the name is only
# complete in the longer cuts, and those all report notJSON, so one status suffices.

for label, text in [("null", "null"), ("true", "true"), ("number", "123"), ("string", '"apply"'), ("array", "[]"),
                    ("array-of-command", "[" + dumps(envelope("bj-in-array")) + "]")]:
    add(f"not-object-{label}", "broken-json", f"JSON but not an object: {label}", text, expect=refused("notAnObject"))
add("broken-json-empty-object", "broken-json", "an empty object", "{}", expect=refused("missingField"))

# --- huge and deep -------------------------------------------------------------------------
add("huge-deep-array-100k", "huge", "100,000 nested arrays (200 KB)", generate={"kind": "nested-arrays", "depth": 100000}, expect=refused("notJSON"))
add("huge-deep-object-20k", "huge", "20,000 nested objects", generate={"kind": "nested-objects", "depth": 20000}, expect=refused("notJSON"))
add("huge-deep-spec-130", "huge", "a sync configuration nested 130 deep", generate={"kind": "deep-config", "name": "huge-deep130", "depth": 130},
    expect=refused("notJSON", "huge-deep130"))
add("huge-deep-spec-60", "huge", "a command nested 66 deep (commands may nest 64)", generate={"kind": "deep-config", "name": "huge-deep60", "depth": 60},
    expect=refused("notJSON", "huge-deep60"))
add("huge-deep-spec-50", "huge", "a command nested 56 deep (allowed)", generate={"kind": "deep-config", "name": "huge-deep50", "depth": 50},
    expect=accepted("huge-deep50"))
add("huge-wide-config", "huge", "a sync configuration with 15,000 properties", generate={"kind": "wide-config", "name": "huge-wide", "keys": 15000},
    expect=accepted("huge-wide"))
add("huge-description-200k", "huge", "a 200 KB description (under the limit)", generate={"kind": "padded-description", "name": "huge-desc", "bytes": 200000},
    expect=accepted("huge-desc"))
add("huge-oversize-300k", "huge", "a 300 KB command (over the 256 KiB limit)", generate={"kind": "padded-description", "name": "huge-over300k", "bytes": 300000},
    expect=refused("oversize", "huge-over300k"))
add("huge-oversize-1m", "huge", "a 1,000,000-byte command", generate={"kind": "padded-description", "name": "huge-over1m", "bytes": 1000000},
    expect=refused("oversize", "huge-over1m"))
add("huge-exact-limit", "huge", f"a valid command of exactly {LIMIT} bytes", generate={"kind": "exact-size", "name": "huge-exact", "bytes": LIMIT},
    expect=accepted("huge-exact"))
add("huge-limit-plus-one", "huge", f"a valid command of {LIMIT + 1} bytes", generate={"kind": "exact-size", "name": "huge-plus-one", "bytes": LIMIT + 1},
    expect=refused("oversize", "huge-plus-one"))
add("huge-name-late", "huge", "oversize, with the resource name after the first 64 KiB (too far to be found)",
    generate={"kind": "name-after-padding", "name": "huge-late-name", "padding": 70000, "bytes": 300000}, expect=refused("oversize"))
add("huge-over-max-payload", "huge", "2 MB: more than the server's max_payload", generate={"kind": "padded-description", "name": "huge-2m", "bytes": 2000000},
    expect={"result": "not-stored"})
add("huge-tags", "huge", "10,000 tags", generate={"kind": "many-tags", "name": "huge-tags", "count": 10000}, expect=accepted("huge-tags"))
add("huge-name", "huge", "a 10,000-character resource name", dumps(envelope("n" * 10000)), expect=refused("invalidName"))
add("huge-violations", "huge", "500 properties the schema does not allow (violations are capped)", generate={"kind": "many-extra-properties", "name": "huge-violations", "count": 500},
    expect=refused("schemaViolation", "huge-violations"))
add("huge-long-key", "huge", "a 100 KB key", generate={"kind": "long-key", "name": "huge-long-key", "bytes": 100000}, expect=accepted("huge-long-key"))

# --- wrong types ---------------------------------------------------------------------------
def with_field(name, path, value, **kwargs):
    command = envelope(name, **kwargs)
    target = command
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return dumps(command)


wrong = [
    ("op-number", ["op"], 1, "wrongType", True), ("op-null", ["op"], None, "wrongType", True), ("op-bool", ["op"], True, "wrongType", True),
    ("op-array", ["op"], ["apply"], "wrongType", True), ("op-object", ["op"], {"x": 1}, "wrongType", True),
    ("workspace-number", ["workspace"], 5, "wrongType", False), ("workspace-null", ["workspace"], None, "wrongType", False),
    ("workspace-array", ["workspace"], ["public"], "wrongType", False), ("workspace-object", ["workspace"], {}, "wrongType", False),
    ("resource-string", ["resource"], "x", "wrongType", False), ("resource-array", ["resource"], [], "wrongType", False),
    ("resource-number", ["resource"], 5, "wrongType", False), ("resource-null", ["resource"], None, "wrongType", False),
    ("name-number", ["resource", "name"], 123, "wrongType", False), ("name-null", ["resource", "name"], None, "missingField", False),
    ("name-array", ["resource", "name"], ["x"], "wrongType", False), ("name-object", ["resource", "name"], {}, "wrongType", False),
    ("version-string", ["version"], "1", "wrongType", True), ("version-bool", ["version"], True, "wrongType", True),
    ("version-fraction", ["version"], 1.5, "wrongType", True), ("version-null", ["version"], None, "wrongType", True),
    ("manifest-version-number", ["resource", "version"], 1, "wrongType", True), ("manifest-type-number", ["resource", "type"], 5, "wrongType", True),
    ("tags-string", ["resource", "tags"], "x", "wrongType", True), ("tags-numbers", ["resource", "tags"], [1, 2], "wrongType", True),
    ("description-number", ["resource", "description"], 5, "wrongType", True), ("section-string", ["resource", "resource"], "x", "wrongType", True),
    ("operator-number", ["resource", "resource", "operator"], 5, "wrongType", True),
    ("spec-string", ["resource", "resource", "spec"], "x", "schemaViolation", True), ("spec-null", ["resource", "resource", "spec"], None, "missingField", True),
    ("spec-array", ["resource", "resource", "spec"], [], "schemaViolation", True),
]
for label, path, value, reason, named in wrong:
    name = f"wt-{label}"
    add(f"wrong-type-{label}", "wrong-type", f"{'/'.join(path)} is {json.dumps(value)}", with_field(name, path, value),
        expect=refused(reason, name if named else None))
add("wrong-type-delete-name", "wrong-type", "delete with a numeric name", '{"op":"delete","workspace":"public","resource":{"name":5}}', expect=refused("wrongType"))
add("wrong-type-run-section", "wrong-type", "run with a string resource section", '{"op":"run","workspace":"public","resource":{"name":"wt-run-section","resource":"x"}}',
    expect=refused("wrongType", "wt-run-section"))
add("wrong-type-run-type", "wrong-type", "run with a numeric type", '{"op":"run","workspace":"public","resource":{"name":"wt-run-type","type":5}}',
    expect=refused("wrongType", "wt-run-type"))

# --- odd Unicode ---------------------------------------------------------------------------
def described(name, description):
    command = envelope(name)
    command["resource"]["description"] = description
    return dumps(command)


add("unicode-nul-in-name", "unicode", "an escaped NUL in the name", dumps(envelope("a\u0000b")), expect=refused("invalidName"))
add("unicode-raw-nul", "unicode", "a raw NUL byte inside a string", raw=described("uc-raw-nul", "x").encode().replace(b"hostile", b"host\x00ile"),
    expect=refused("notJSON", "uc-raw-nul"))
add("unicode-nul-description", "unicode", "an escaped NUL in the description", described("uc-nul-desc", "before\u0000after"), expect=accepted("uc-nul-desc"))
for label, escape in [("lone-high", "\\ud800"), ("lone-low", "\\udc00"), ("reversed-pair", "\\udc00\\ud800"), ("high-then-text", "\\ud83dx")]:
    add(f"unicode-surrogate-{label}", "unicode", f"a lone surrogate escape {escape} in the description",
        text_with(f"uc-{label}", lambda t, e=escape: t.replace("hostile corpus", "a" + e + "b")), expect=refused("notJSON", f"uc-{label}"))
add("unicode-surrogate-pair", "unicode", "a valid surrogate pair escape (U+1F600)", text_with("uc-pair", lambda t: t.replace("hostile corpus", "\\ud83d\\ude00")),
    expect=accepted("uc-pair"))
for label, name in [("rtl", "pipe\u202eline"), ("combining", "pipe\u0301"), ("zero-width", "pipe\u200bline"), ("fullwidth", "\uff50\uff49\uff50\uff45"),
                    ("cyrillic", "\u0440ipeline"), ("emoji", "pipe\U0001F600"), ("bom", "\ufeffpipeline"), ("dotted-i", "\u0130pipeline"),
                    ("sharp-s", "stra\u00dfe"), ("nbsp", "pipe\u00a0line"), ("del", "pipe\u007fline"), ("nel", "pipe\u0085line")]:
    add(f"unicode-name-{label}", "unicode", f"a resource name with {label} characters", dumps(envelope(name)), expect=refused("invalidName"))
for label, text in [("rtl", "\u202eesrever"), ("combining", "Z\u0351\u0357\u0336a\u0337\u0358l\u035cg\u0361o"), ("emoji", "\U0001F680\U0001F525"),
                    ("line-separators", "a\u2028b\u2029c"), ("noncharacter", "\uffff\ufffe"), ("bom-inside", "x\ufeffy"),
                    ("decomposed", "e\u0301"), ("max-codepoint", "\U0010ffff")]:
    add(f"unicode-description-{label}", "unicode", f"{label} characters in the description (allowed)", described(f"uc-desc-{label}", text),
        expect=accepted(f"uc-desc-{label}"))
valid = dumps(envelope("uc-bytes")).encode()
for label, bad in [("overlong-slash", b"\xc0\xaf"), ("overlong-nul", b"\xc0\x80"), ("overlong-3byte", b"\xe0\x80\xaf"), ("five-byte", b"\xf8\x88\x80\x80\x80"),
                   ("encoded-surrogate", b"\xed\xa0\x80"), ("above-max", b"\xf4\x90\x80\x80"), ("truncated-sequence", b"\xe2\x82"),
                   ("stray-continuation", b"\x80"), ("invalid-ff", b"\xff")]:
    add(f"unicode-bytes-{label}", "unicode", f"invalid UTF-8 ({label}) inside a string", raw=valid.replace(b"hostile corpus", b"x" + bad + b"y").replace(b"uc-bytes", f"uc-{label}".encode()),
        expect=refused("notJSON", f"uc-{label}"))
add("unicode-workspace", "unicode", "a workspace with an accent", dumps(envelope("uc-workspace", workspace="p\u00fablic")), expect=refused("invalidName"))
add("unicode-op-homoglyph", "unicode", "op written with a Cyrillic a", dumps(envelope("uc-op", op="\u0430pply")), expect=refused("unknownOp", "uc-op"))
add("unicode-key-homoglyph", "unicode", "the op key written with a Cyrillic o",
    text_with("uc-key", lambda t: t.replace('"op":', '"\u043ep":')), expect=refused("missingField", "uc-key"))
add("unicode-escaped-key", "unicode", "every key escaped as \\u sequences (same keys: accepted)",
    text_with("uc-escaped-keys", lambda t: t.replace('"op":', '"\\u006f\\u0070":').replace('"workspace":', '"\\u0077orkspace":')), expect=accepted("uc-escaped-keys"))

# --- names that are not KV keys / subject tokens ---------------------------------------------
bad_names = ["a.b", "*", ">", "a b", "../x", "..", ".", "", "a/b", "a\\b", "Pipeline", "-a", "a-", "a" * 64, "a\tb", "a\nb",
             "a\r\nPUB x 1", "$KV", "status.public.x", "a*", "a>", "a_b", "%2e%2e", "a;b", "a,b", "a'b", 'a"b', "abc ", " abc",
             "a..b", "entity.public.hostile-good-1", "hostile-good-1.x", "_INBOX.x", "$JS.API.STREAM.DELETE.x"]
for index, name in enumerate(bad_names):
    # An empty required string of a manifest is refused as such before the name rule applies.
    add(f"name-apply-{index:02d}", "names", f"apply of resource {json.dumps(name)}", dumps(envelope(name)),
        expect=refused("invalidManifest" if name == "" else "invalidName"))
for index, name in enumerate(["a.b", "*", ">", "../hostile-good-1", "hostile-good-1.>", ""]):
    add(f"name-delete-{index:02d}", "names", f"delete of resource {json.dumps(name)}", dumps(envelope(name, op="delete")), expect=refused("invalidName"))
    add(f"name-run-{index:02d}", "names", f"run of resource {json.dumps(name)}", dumps(envelope(name, op="run")), expect=refused("invalidName"))
for index, workspace in enumerate(["public.x", ">", "*", "", "../public", "PUBLIC", "pub lic", "public\u0000", "w" * 64, "public.hostile-good-1"]):
    add(f"name-workspace-{index:02d}", "names", f"workspace {json.dumps(workspace)}", dumps(envelope(f"nw-{index}", workspace=workspace)), expect=refused("invalidName"))
for index, kind in enumerate(["hightouch.x", "*", "HIGHTOUCH", "", "hightouch>"]):
    add(f"name-type-{index:02d}", "names", f"resource type {json.dumps(kind)}", with_field(f"nt-{index}", ["resource", "resource", "type"], kind),
        expect=refused("invalidManifest" if kind == "" else "invalidName", f"nt-{index}"))
add("name-run-type-subject", "names", "run with a type that is a subject wildcard", '{"op":"run","workspace":"public","resource":{"name":"nt-run","type":"hightouch.>"}}',
    expect=refused("invalidName", "nt-run"))
add("name-valid-status", "names", 'a resource named "status" (a valid name; keys stay unambiguous)', dumps(envelope("status")), expect=accepted("status"))
add("name-valid-max", "names", "a 63-character name (the longest allowed)", dumps(envelope("m" * 63)), expect=accepted("m" * 63))
add("name-valid-one", "names", "a one-character name", dumps(envelope("q")), expect=accepted("q"))

# --- foreign workspaces ----------------------------------------------------------------------
for workspace in ["finance", "prod", "default", "public2", "a", "w" * 63, "publi"]:
    name = f"fw-{workspace[:20]}"
    add(f"workspace-{workspace[:20]}", "workspace", f"apply in workspace {workspace}", dumps(envelope(name, workspace=workspace)),
        expect=refused("workspaceNotEnabled", name, workspace))
add("workspace-delete-foreign", "workspace", "delete in a foreign workspace", dumps(envelope("fw-delete", op="delete", workspace="finance")),
    expect=refused("workspaceNotEnabled", "fw-delete", "finance"))
add("workspace-run-foreign", "workspace", "run in a foreign workspace", dumps(envelope("fw-run", op="run", workspace="finance")),
    expect=refused("workspaceNotEnabled", "fw-run", "finance"))
add("workspace-sandbox", "workspace", "apply in sandbox (enabled)", dumps(envelope("fw-sandbox", workspace="sandbox")), expect=accepted("fw-sandbox", "sandbox"))

# --- unknown ops -----------------------------------------------------------------------------
for index, op in enumerate(["APPLY", "Apply", "apply ", " apply", "destroy", "", "run;rm -rf /", "delete\u0000", "query", "get", "patch", "applyy", "app\u200bly", "*", ">"]):
    name = f"op-{index:02d}"
    add(f"op-{index:02d}", "op", f"op {json.dumps(op)}", dumps(envelope(name, op=op)), expect=refused("unknownOp", name))

# --- duplicate keys --------------------------------------------------------------------------
base = dumps(envelope("dk-x"))
dups = [
    ("op", lambda t: t.replace('"op":"apply"', '"op":"apply","op":"delete"'), "dk-op"),
    ("workspace", lambda t: t.replace('"workspace":"public"', '"workspace":"public","workspace":"finance"'), "dk-workspace"),
    ("resource", lambda t: t.replace('"workspace":"public",', '"workspace":"public","resource":{},'), "dk-resource"),
    ("name", lambda t: t.replace('"name":"dk-name"', '"name":"dk-name","name":"hostile-good-1"'), "dk-name"),
    ("spec-key", lambda t: t.replace('"queryType":"raw_sql"', '"queryType":"raw_sql","queryType":"table"'), "dk-spec"),
    ("escaped-key", lambda t: t.replace('"op":"apply"', '"op":"apply","\\u006fp":"delete"'), "dk-escaped"),
    ("version", lambda t: t.replace('"version":1,', '"version":1,"version":2,'), "dk-version"),
    ("empty-key", lambda t: t.replace('"op":"apply"', '"":1,"":2,"op":"apply"'), "dk-empty"),
    ("deep", lambda t: t.replace('"mode":"mirror"', '"mode":"mirror","mode":"upsert"'), "dk-deep"),
    ("trigger", lambda t: t.replace('"fullResync":false', '"fullResync":false,"fullResync":true'), "dk-trigger"),
]
for label, edit, name in dups:
    add(f"duplicate-{label}", "duplicate-keys", f"duplicate key: {label}", edit(dumps(envelope(name))), expect=refused("notJSON", name))
add("duplicate-case-differs", "duplicate-keys", 'keys that differ in case ("op" and "OP") are different keys: accepted, unknown field ignored',
    text_with("dk-case", lambda t: t.replace('"op":"apply"', '"op":"apply","OP":"delete"')), expect=accepted("dk-case"))

# --- envelope versions -----------------------------------------------------------------------
for label, version, reason in [("zero", "0", "unsupportedVersion"), ("two", "2", "unsupportedVersion"), ("large", "999", "unsupportedVersion"),
                               ("negative", "-1", "unsupportedVersion"), ("fraction", "1.5", "wrongType"), ("huge-int", "10000000000000000000000", "wrongType"),
                               ("int-max", "9223372036854775807", "unsupportedVersion")]:
    name = f"ver-{label}"
    add(f"version-{label}", "version", f"envelope version {version}", dumps(envelope(name)).replace('"version":1,', f'"version":{version},', 1),
        expect=refused(reason, name))
for label, version in [("one-point-zero", "1.0"), ("exponent", "1e0"), ("absent", None)]:
    name = f"ver-{label}"
    text = dumps(envelope(name))
    text = text.replace('"version":1,', "", 1) if version is None else text.replace('"version":1,', f'"version":{version},', 1)
    add(f"version-{label}", "version", f"envelope version {version or 'absent'} (means 1: accepted)", text, expect=accepted(name))

# --- schema violations -----------------------------------------------------------------------
def spec_edit(label, edit):
    name = f"sv-{label}"
    spec = seed_spec(name)
    edit(spec)
    add(f"schema-{label}", "schema", f"spec: {label}", dumps(envelope(name, spec=spec)), expect=refused("schemaViolation", name))


spec_edit("no-model", lambda s: s.pop("model"))
spec_edit("no-sync", lambda s: s.pop("sync"))
spec_edit("no-trigger", lambda s: s.pop("trigger"))
spec_edit("extra-top", lambda s: s.update({"extra": 1}))
spec_edit("model-extra", lambda s: s["model"].update({"colour": "red"}))
spec_edit("is-schema-string", lambda s: s["model"].update({"isSchema": "false"}))
spec_edit("source-number", lambda s: s["model"].update({"sourceId": 23474}))
spec_edit("raw-string", lambda s: s["model"].update({"raw": "SELECT 1"}))
spec_edit("destination-null", lambda s: s["sync"].update({"destinationId": None}))
spec_edit("schedule-string", lambda s: s["sync"].update({"schedule": "*/5 * * * *"}))
spec_edit("schedule-null", lambda s: s["sync"].update({"schedule": None}))
spec_edit("full-resync-string", lambda s: s["trigger"].update({"fullResync": "yes"}))
spec_edit("trigger-extra", lambda s: s["trigger"].update({"clearAndFill": True}))
spec_edit("disabled-string", lambda s: s["sync"].update({"disabled": "false"}))
spec_edit("model-name-number", lambda s: s["model"].update({"name": 5}))
spec_edit("configuration-array", lambda s: s["sync"].update({"configuration": []}))
spec_edit("model-missing-slug", lambda s: s["model"].pop("slug"))
spec_edit("sync-missing-slug", lambda s: s["sync"].pop("slug"))
spec_edit("model-array", lambda s: s.update({"model": []}))
spec_edit("trigger-sync-id-number", lambda s: s["trigger"].update({"syncId": 20001}))

# --- missing fields --------------------------------------------------------------------------
def without(name, path):
    command = envelope(name)
    target = command
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return dumps(command)


for label, path, reason, named in [("op", ["op"], "missingField", True), ("workspace", ["workspace"], "missingField", False),
                                   ("resource", ["resource"], "missingField", False), ("name", ["resource", "name"], "missingField", False),
                                   ("section", ["resource", "resource"], "missingField", True), ("spec", ["resource", "resource", "spec"], "missingField", True),
                                   ("manifest-version", ["resource", "version"], "missingField", True), ("manifest-type", ["resource", "type"], "missingField", True),
                                   ("operator", ["resource", "resource", "operator"], "missingField", True),
                                   ("resource-type", ["resource", "resource", "type"], "missingField", True)]:
    name = f"mf-{label}"
    add(f"missing-{label}", "missing", f"no {'/'.join(path)}", without(name, path), expect=refused(reason, name if named else None))
add("missing-delete-name", "missing", "delete without a name", '{"op":"delete","workspace":"public","resource":{}}', expect=refused("missingField"))
add("missing-run-name", "missing", "run without a name", '{"op":"run","workspace":"public","resource":{"type":"hightouch"}}', expect=refused("missingField"))
add("missing-manifest-kind", "missing", 'a manifest whose type is not "resource"', with_field("mf-kind", ["resource", "type"], "workflow"), expect=refused("invalidManifest", "mf-kind"))

# --- unknown resources and types -------------------------------------------------------------
add("unknown-run", "unknown-resource", "run of a resource never applied", dumps(envelope("ur-ghost", op="run")), expect=refused("notApplied", "ur-ghost"))
add("unknown-run-sandbox", "unknown-resource", "run of a resource never applied, in sandbox", dumps(envelope("ur-ghost-sandbox", op="run", workspace="sandbox")),
    expect=refused("notApplied", "ur-ghost-sandbox", "sandbox"))
add("unknown-delete", "unknown-resource", "delete of a resource never applied (nothing to do)", dumps(envelope("ur-never", op="delete")), expect={"result": "noop"})
add("unknown-type-apply", "unknown-resource", "apply of a resource type the operator does not manage",
    with_field("ur-fivetran", ["resource", "resource", "type"], "fivetran"), expect=refused("unknownResourceType", "ur-fivetran"))
add("unknown-type-run", "unknown-resource", "run of an unknown type", '{"op":"run","workspace":"public","resource":{"name":"ur-type-run","type":"dbt"}}',
    expect=refused("unknownResourceType", "ur-type-run"))
add("unknown-type-delete", "unknown-resource", "delete of an unknown type", '{"op":"delete","workspace":"public","resource":{"name":"ur-type-delete","type":"census"}}',
    expect=refused("unknownResourceType", "ur-type-delete"))

# --- the pre-existing target, attacked ----------------------------------------------------------
target_spec = seed_spec("hostile-target")
target_spec["model"]["isSchema"] = "no"
add("target-schema-violation", "target", "an update of an existing resource that breaks the schema", dumps(envelope("hostile-target", spec=target_spec)),
    expect=refused("schemaViolation", "hostile-target"))
add("target-unknown-op", "target", "an unknown op on an existing resource", dumps(envelope("hostile-target", op="explode")), expect=refused("unknownOp", "hostile-target"))
add("target-truncated", "target", "a truncated update of an existing resource", dumps(envelope("hostile-target"))[:300], expect=refused("notJSON", "hostile-target"))
add("target-foreign-twin", "target", "the same name in a foreign workspace", dumps(envelope("hostile-target", workspace="finance")),
    expect=refused("workspaceNotEnabled", "hostile-target", "finance"))

# --- vendor-side hostility (valid commands the vendor may refuse) ------------------------------
def vendor_case(label, edit, expect_factory):
    name = f"vh-{label}"
    spec = seed_spec(name)
    edit(spec, name)
    add(f"vendor-{label}", "vendor", f"valid spec, hostile to the vendor: {label}", dumps(envelope(name, spec=spec)), expect=expect_factory(name))


vendor_case("slug-query-injection", lambda s, n: s["model"].update({"slug": f"{n}-model&slug=hostile-good-1-model"}), accepted)
vendor_case("slug-path", lambda s, n: s["sync"].update({"slug": f"{n}/../../syncs"}), lambda n: {"result": "accepted", "workspace": "public", "name": n, "sync": f"{n}/../../syncs"})
vendor_case("slug-empty", lambda s, n: s["model"].update({"slug": ""}), lambda n: refused("schemaViolation", n))
vendor_case("unknown-source", lambda s, n: s["model"].update({"sourceId": "99999"}), lambda n: refused("vendorRejected", n))
vendor_case("bad-destination", lambda s, n: s["sync"].update({"destinationId": "abc"}), lambda n: refused("vendorRejected", n))
vendor_case("trigger-unknown-slug", lambda s, n: s["trigger"].update({"syncSlug": "no-such-sync"}), lambda n: refused("vendorNotFound", n))
vendor_case("sql-injection", lambda s, n: s["model"]["raw"].update({"sql": "'; DROP TABLE syncs; --"}), accepted)

# --- headers and publishing -------------------------------------------------------------------
add("header-long-msg-id", "headers", "a 4 KB message id on a broken command", "{", msg_id="L" * 4096, expect=refused("notJSON"))
add("header-unicode-msg-id", "headers", "a non-ASCII message id on a valid apply", dumps(envelope("hd-unicode-id")), msg_id="h\u00e9-\u2713-\u0645\u0631\u062d\u0628\u0627",
    expect=accepted("hd-unicode-id"))
add("header-spaces-msg-id", "headers", "a message id with spaces", dumps(envelope("hd-spaces-id")), msg_id="a message id with spaces", expect=accepted("hd-spaces-id"))
add("header-no-msg-id", "headers", "no message id (the id becomes the stream sequence)", dumps(envelope("hd-no-id")), msg_id="", expect=accepted("hd-no-id"))
add("header-duplicate-first", "headers", "a valid apply ...", dumps(envelope("hd-dup")), msg_id="hostile-dup", expect=accepted("hd-dup"))
add("header-duplicate-second", "headers", "... then other bytes under the same message id (dropped by JetStream)", "{not json", msg_id="hostile-dup",
    expect={"result": "deduplicated"})
add("header-wrong-expected-stream", "headers", "Nats-Expected-Stream names another stream", "{", headers={"Nats-Expected-Stream": "other-stream"}, expect={"result": "not-stored"})
add("header-wrong-expected-seq", "headers", "Nats-Expected-Last-Sequence that cannot hold", "{", headers={"Nats-Expected-Last-Sequence": "1"}, expect={"result": "not-stored"})
add("header-forged-dead-letter", "headers", "forged Factory-Dead-Letter-* headers on a broken command", "{",
    headers={"Factory-Dead-Letter-Reason": "forged", "Factory-Resource": "hostile-good-1", "Factory-Workspace": "public"}, expect=refused("notJSON"))
add("header-big-value", "headers", "an 8 KB custom header", dumps(envelope("hd-big-header")), headers={"X-Junk": "j" * 8192}, expect=accepted("hd-big-header"))
add("header-core-publish-valid", "headers", "a plain NATS publish (no JetStream, no id) of a valid apply", dumps(envelope("hd-core")), publish="core", expect=accepted("hd-core"))
add("header-core-publish-garbage", "headers", "a plain NATS publish of garbage", "\x01\x02garbage", publish="core", expect=refused("notJSON"))
add("header-rollup", "headers", "Nats-Rollup on the work-queue stream", "{", headers={"Nats-Rollup": "all"}, expect={"result": "not-stored"})

# --- accepted oddities (must apply and succeed) -------------------------------------------------
add("accepted-unknown-top-field", "accepted", "an unknown top-level field (forward compatibility)",
    text_with("ac-unknown-field", lambda t: t.replace('"op":"apply"', '"op":"apply","future":{"x":[1,2,3]}')), expect=accepted("ac-unknown-field"))
add("accepted-whitespace", "accepted", "lots of whitespace between tokens", json.dumps(envelope("ac-whitespace"), indent=8), expect=accepted("ac-whitespace"))
add("accepted-key-order", "accepted", "resource before op and workspace", dumps({"resource": manifest("ac-order"), "workspace": "public", "op": "apply"}),
    expect=accepted("ac-order"))

# --- status queries -------------------------------------------------------------------------------
queries = [
    ("empty", "", "error", "badQuery"), ("open-brace", "{", "error", "badQuery"), ("null", "null", "error", "badQuery"), ("array", "[]", "error", "badQuery"),
    ("workspace-gt", '{"workspace":">"}', "error", "badQuery"), ("workspace-star", '{"workspace":"*"}', "error", "badQuery"),
    ("name-star", '{"workspace":"public","name":"*"}', "error", "badQuery"), ("name-dot", '{"workspace":"public","name":"hostile-good-1.x"}', "error", "badQuery"),
    ("name-traversal", '{"workspace":"public","name":"../hostile-good-1"}', "error", "badQuery"),
    ("workspace-dot", '{"workspace":"public.hostile-good-1"}', "error", "badQuery"), ("version-future", '{"version":99,"workspace":"public"}', "error", "badQuery"),
    ("all-workspaces-string", '{"allWorkspaces":"yes"}', "error", "badQuery"), ("workspace-number", '{"workspace":5}', "error", "badQuery"),
    ("lone-surrogate", '{"workspace":"public","name":"\\ud800"}', "error", "badQuery"), ("deep", "[" * 5000 + "]" * 5000, "error", "badQuery"),
    ("unknown", '{"workspace":"public","name":"does-not-exist"}', "error", "notFound"),
    ("good", '{"workspace":"public","name":"hostile-good-1"}', "resource", None), ("list", '{"workspace":"public"}', "list", None),
]
for label, text, kind, reason in queries:
    expect = {"result": "answered", "kind": kind}
    if reason:
        expect["reason"] = reason
    add(f"query-{label}", "query", f"status query: {label}", text, subject="query", expect=expect)
add("query-huge", "query", "a 70 KB status query", generate={"kind": "huge-query", "bytes": 70000}, subject="query",
    expect={"result": "answered", "kind": "error", "reason": "badQuery"})
add("query-no-reply", "query", "a query published without a reply subject (answered on the reply subject)", '{"workspace":"public","name":"hostile-good-1"}',
    subject="query-noreply", expect={"result": "answered", "kind": "resource"})

# --- forged follow-ups (an internal subject) ------------------------------------------------------
add("followup-garbage", "followup", "garbage on the follow-up subject", "not a follow-up", subject="followup", expect={"result": "ignored"})
add("followup-bad-key", "followup", "a follow-up whose name is not a KV key", '{"version":1,"workspace":"public","name":"a b","syncID":"1","runID":"1"}',
    subject="followup", expect={"result": "ignored"})
add("followup-dotted", "followup", "a follow-up whose workspace holds a dot", '{"version":1,"workspace":"public.hostile-good-1","name":"x","syncID":"1","runID":"1"}',
    subject="followup", expect={"result": "ignored"})
add("followup-trailing-dot", "followup", "a follow-up that makes an invalid key with a trailing dot", '{"version":1,"workspace":"public","name":"","syncID":"1","runID":"1"}',
    subject="followup", expect={"result": "ignored"})
add("followup-other-run", "followup", "a follow-up pointing a bystander at another resource's run", generate={"kind": "forged-followup", "victim": "hostile-good-1", "donor": "hostile-good-2"},
    subject="followup", expect={"result": "ignored"})

ids = [entry["id"] for entry in entries]
assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
with open(os.path.join(HERE, "corpus.jsonl"), "w", encoding="utf-8") as out:
    for entry in entries:
        out.write(json.dumps(entry, ensure_ascii=True, sort_keys=False) + "\n")
commands = sum(1 for e in entries if e["subject"] == "command")
print(f"{len(entries)} messages: {commands} commands, {len(entries) - commands} queries and forged follow-ups")
