"""Sends the hostile-input corpus (corpus.jsonl) to running FactoryOperator replicas with nats-py
only (no project code), then checks what became of every message:

  - each command is terminated: none left in the stream or unacknowledged, none redelivered forever;
  - each refused command is reported: one dead letter with the expected reason, and the status of
    the resource it names (when it names a valid one) says why;
  - each valid oddity is applied and its run succeeds;
  - every status query is answered, also while the corpus is processed;
  - bystanders applied before the corpus are untouched (same KV revisions), and a good apply sent
    after the corpus succeeds.

Usage: python hostile_client.py NATS_URL [CORPUS]
Prints one JSON line (the summary) last; exits 1 if anything failed.
"""
import asyncio
import base64
import json
import os
import sys
import time

import nats
from nats.errors import Error as NATSError

COMMAND_SUBJECT = "hightouch.pipeline.run"
QUERY_SUBJECT = "hightouch.pipeline.run.query"
REPLY_SUBJECT = "dataos.operator.hightouch.reply"
FOLLOWUP_SUBJECT = "hightouch.pipeline.run.followup"
COMMAND_STREAM = "dataos-hightouch-entities"
COMMAND_CONSUMER = "hightouch-entities-12121"
FOLLOWUP_STREAM = "dataos-hightouch-followups"
FOLLOWUP_CONSUMER = "hightouch-followers"
DEAD_LETTER_STREAM = "dataos-hightouch-deadletter"
STATE_BUCKET = "hightouch-operator-state"
BYSTANDERS = ["hostile-good-1", "hostile-good-2", "hostile-good-3"]
TARGET = "hostile-target"


def seed_spec(name):
    return {
        "model": {"name": f"{name}-model", "slug": f"{name}-model", "queryType": "raw_sql", "sourceId": "23474", "isSchema": False,
                  "primaryKey": "__metadata", "raw": {"sql": "SELECT * FROM icebase.retail.city LIMIT 10000"}},
        "sync": {"slug": f"{name}-sync", "configuration": {"mode": "mirror", "driveId": "me/drive", "mappings": []}, "destinationId": "80565",
                 "schedule": {"type": "cron", "schedule": {"expression": "*/5 * * * *"}}, "disabled": False},
        "trigger": {"resetCDC": False, "fullResync": False},
    }


def apply_command(name, spec=None, workspace="public"):
    return {"version": 1, "op": "apply", "workspace": workspace,
            "resource": {"version": "v1beta", "name": name, "type": "resource", "tags": ["hostile"], "description": "hostile corpus",
                         "resource": {"operator": "hightouch-factory", "type": "hightouch", "spec": spec if spec is not None else seed_spec(name)}}}


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def generate(spec):
    """The bytes of a generated (large) corpus entry."""
    kind = spec["kind"]
    if kind == "nested-arrays":
        return ("[" * spec["depth"] + "]" * spec["depth"]).encode()
    if kind == "nested-objects":
        return ('{"a":' * spec["depth"] + "1" + "}" * spec["depth"]).encode()
    if kind == "deep-config":
        command = apply_command(spec["name"])
        nested = {}
        for _ in range(spec["depth"] - 1):
            nested = {"n": nested}
        command["resource"]["resource"]["spec"]["sync"]["configuration"]["deep"] = nested
        return dumps(command).encode()
    if kind == "wide-config":
        command = apply_command(spec["name"])
        configuration = command["resource"]["resource"]["spec"]["sync"]["configuration"]
        for index in range(spec["keys"]):
            configuration[f"k{index}"] = index
        return dumps(command).encode()
    if kind in ("padded-description", "exact-size"):
        command = apply_command(spec["name"])
        command["resource"]["description"] = ""
        base = len(dumps(command).encode())
        command["resource"]["description"] = "d" * max(0, spec["bytes"] - base)
        data = dumps(command).encode()
        assert kind == "padded-description" or len(data) == spec["bytes"], (len(data), spec)
        return data
    if kind == "name-after-padding":
        command = {"version": 1, "op": "apply", "padding": "p" * spec["padding"], "workspace": "public",
                   "resource": apply_command(spec["name"])["resource"]}
        command["resource"]["description"] = "d" * (spec["bytes"] - spec["padding"])
        return dumps(command).encode()
    if kind == "many-tags":
        command = apply_command(spec["name"])
        command["resource"]["tags"] = [f"tag-{index}" for index in range(spec["count"])]
        return dumps(command).encode()
    if kind == "many-extra-properties":
        command = apply_command(spec["name"])
        model = command["resource"]["resource"]["spec"]["model"]
        for index in range(spec["count"]):
            model[f"extra{index}"] = index
        return dumps(command).encode()
    if kind == "long-key":
        command = apply_command(spec["name"])
        command["resource"]["resource"]["spec"]["sync"]["configuration"]["k" * spec["bytes"]] = 1
        return dumps(command).encode()
    if kind == "huge-query":
        return dumps({"workspace": "public", "name": "hostile-good-1", "padding": "q" * spec["bytes"]}).encode()
    raise ValueError(f"unknown generator {kind}")


def payload_of(entry):
    if "payload_b64" in entry:
        return base64.b64decode(entry["payload_b64"])
    if "generate" in entry and entry["generate"]["kind"] != "forged-followup":
        return generate(entry["generate"])
    return entry.get("payload", "").encode()


class Client:
    def __init__(self, url):
        self.url = url
        self.failures = []
        self.notes = []

    def fail(self, entry_id, message):
        self.failures.append({"id": entry_id, "problem": message})

    async def connect(self):
        self.nc = await nats.connect(self.url, max_reconnect_attempts=5, connect_timeout=5)
        self.js = self.nc.jetstream(timeout=10)

    async def query(self, body, timeout=3.0):
        reply = await self.nc.request(QUERY_SUBJECT, body if isinstance(body, bytes) else dumps(body).encode(), timeout=timeout)
        return json.loads(reply.data)

    async def status(self, name, workspace="public"):
        try:
            answer = await self.query({"workspace": workspace, "name": name})
        except Exception as error:  # a timeout is reported by the caller's check
            return {"kind": "error", "error": {"reason": f"no answer: {error!r}"}}
        return answer

    async def wait_for_runtime(self, name, workspace="public", timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = await self.status(name, workspace)
            resource = last.get("resource") if last.get("kind") == "resource" else None
            if resource and resource.get("runtime") == "succeeded" and not resource.get("activeCommand"):
                return resource
            await asyncio.sleep(0.25)
        return {"timedOut": True, "last": last}

    async def kv_revisions(self, names):
        kv = await self.js.key_value(STATE_BUCKET)
        revisions = {}
        for name in names:
            for kind in ("entity", "status"):
                key = f"{kind}.public.{name}"
                try:
                    revisions[key] = (await kv.get(key)).revision
                except Exception as error:
                    revisions[key] = f"missing: {error!r}"
        return revisions

    async def drained(self, timeout=90):
        """Waits until no command or follow-up is left (stored, pending or unacknowledged)."""
        deadline = time.monotonic() + timeout
        state = {}
        while time.monotonic() < deadline:
            commands = await self.js.stream_info(COMMAND_STREAM)
            consumer = await self.js.consumer_info(COMMAND_STREAM, COMMAND_CONSUMER)
            followups = await self.js.stream_info(FOLLOWUP_STREAM)
            followers = await self.js.consumer_info(FOLLOWUP_STREAM, FOLLOWUP_CONSUMER)
            state = {"commands": commands.state.messages, "commandAckPending": consumer.num_ack_pending, "commandPending": consumer.num_pending,
                     "commandRedelivered": consumer.num_redelivered, "followUps": followups.state.messages,
                     "followUpAckPending": followers.num_ack_pending}
            if state["commands"] == 0 and state["commandAckPending"] == 0 and state["commandPending"] == 0 and state["followUps"] == 0:
                return True, state
            await asyncio.sleep(0.25)
        return False, state

    async def dead_letters(self):
        info = await self.js.stream_info(DEAD_LETTER_STREAM)
        letters = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            try:
                message = await self.js.get_msg(DEAD_LETTER_STREAM, sequence)
            except Exception:
                continue
            letters.append({"headers": dict(message.headers or {}), "payload": message.data or b""})
        return letters


async def pinger(client, stop, stats):
    """Status queries every 50 ms while the corpus is processed: all must be answered."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            answer = await client.query({"workspace": "public", "name": BYSTANDERS[0]}, timeout=2.0)
            if answer.get("kind") != "resource":
                stats["wrong"] += 1
        except Exception:
            stats["unanswered"] += 1
        stats["sent"] += 1
        stats["maxMs"] = max(stats["maxMs"], round((time.monotonic() - started) * 1000, 1))
        await asyncio.sleep(0.05)


async def send_all(client, corpus, outcomes):
    reply_messages = []

    async def on_reply(message):
        reply_messages.append(message.data)

    reply_sub = await client.nc.subscribe(REPLY_SUBJECT, cb=on_reply)
    for entry in corpus:
        subject = entry["subject"]
        outcome = {"id": entry["id"]}
        outcomes[entry["id"]] = outcome
        if subject == "command" or subject == "followup":
            target = COMMAND_SUBJECT if subject == "command" else FOLLOWUP_SUBJECT
            if entry.get("generate", {}).get("kind") == "forged-followup":
                donor = (await client.status(entry["generate"]["donor"])).get("resource", {})
                payload = dumps({"version": 1, "workspace": "public", "name": entry["generate"]["victim"],
                                 "syncID": (donor.get("vendor") or {}).get("syncId", "0"), "runID": (donor.get("lastRun") or {}).get("id", "0"),
                                 "commandID": "forged"}).encode()
            else:
                payload = payload_of(entry)
            outcome["payload"] = payload
            headers = dict(entry.get("headers", {}))
            msg_id = entry.get("msg_id", entry["id"])
            if msg_id:
                headers["Nats-Msg-Id"] = msg_id
            try:
                if entry.get("publish") == "core":
                    await client.nc.publish(target, payload, headers=headers or None)
                    await client.nc.flush(timeout=5)
                    outcome["stored"] = True
                else:
                    ack = await client.js.publish(target, payload, headers=headers or None, timeout=5)
                    outcome["stored"] = True
                    outcome["duplicate"] = bool(getattr(ack, "duplicate", False))
                    outcome["sequence"] = ack.seq
            except Exception as error:
                outcome["stored"] = False
                outcome["error"] = repr(error)[:300]
        elif subject == "query":
            try:
                answer = await client.query(payload_of(entry), timeout=3.0)
                outcome["answer"] = answer
            except Exception as error:
                outcome["answer"] = None
                outcome["error"] = repr(error)[:300]
        elif subject == "query-noreply":
            before = len(reply_messages)
            await client.nc.publish(QUERY_SUBJECT, payload_of(entry))
            deadline = time.monotonic() + 3
            while len(reply_messages) == before and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            outcome["answer"] = json.loads(reply_messages[before]) if len(reply_messages) > before else None
    await reply_sub.unsubscribe()


async def main(url, corpus_path):
    corpus = [json.loads(line) for line in open(corpus_path, encoding="utf-8") if line.strip()]
    client = Client(url)
    await client.connect()
    started = time.monotonic()

    # Someone answers status queries.
    deadline = time.monotonic() + 60
    while True:
        try:
            await client.query({"workspace": "public"}, timeout=1.0)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)

    # Bystanders and a target, applied and finished before the corpus.
    for name in BYSTANDERS + [TARGET]:
        payload = dumps(apply_command(name)).encode()
        await client.js.publish(COMMAND_SUBJECT, payload, headers={"Nats-Msg-Id": f"setup-{name}"}, timeout=5)
    for name in BYSTANDERS + [TARGET]:
        resource = await client.wait_for_runtime(name)
        if resource.get("timedOut"):
            client.fail(name, f"set-up apply did not succeed: {resource}")
    before = await client.kv_revisions(BYSTANDERS + [TARGET])

    stats = {"sent": 0, "unanswered": 0, "wrong": 0, "maxMs": 0.0}
    stop = asyncio.Event()
    ping = asyncio.create_task(pinger(client, stop, stats))

    outcomes = {}
    send_started = time.monotonic()
    await send_all(client, corpus, outcomes)
    sent_in = time.monotonic() - send_started

    ok, queue_state = await client.drained()
    if not ok:
        client.fail("*", f"commands or follow-ups left after 90 s: {queue_state}")

    # The replicas keep serving: a good apply after the corpus succeeds.
    await client.js.publish(COMMAND_SUBJECT, dumps(apply_command("hostile-after")).encode(), headers={"Nats-Msg-Id": "after-corpus"}, timeout=5)
    after = await client.wait_for_runtime("hostile-after")
    if after.get("timedOut"):
        client.fail("hostile-after", f"the apply after the corpus did not succeed: {after}")

    # Accepted oddities ran to success.
    accepted_syncs = []
    for entry in corpus:
        expect = entry["expect"]
        if expect["result"] != "accepted":
            continue
        accepted_syncs.append(expect["sync"])
        resource = await client.wait_for_runtime(expect["name"], expect["workspace"], timeout=60)
        if resource.get("timedOut"):
            client.fail(entry["id"], f"accepted command did not succeed: {json.dumps(resource)[:400]}")
        elif (resource.get("vendor") or {}).get("syncSlug") != expect["sync"]:
            client.fail(entry["id"], f"status names sync {(resource.get('vendor') or {}).get('syncSlug')}, expected {expect['sync']}")

    stop.set()
    await ping
    if stats["unanswered"] or stats["wrong"]:
        client.fail("*", f"status queries during the corpus went unanswered or wrong: {stats}")

    # Dead letters: one per refused command, with the expected reason; none unexpected.
    letters = await client.dead_letters()
    used = set()

    def find_letter(entry, outcome):
        msg_id = entry.get("msg_id", entry["id"])
        for index, letter in enumerate(letters):
            if index in used:
                continue
            if msg_id and letter["headers"].get("Factory-Command-Id") == msg_id[:256]:
                return index
            if not msg_id and letter["payload"] == outcome.get("payload"):
                return index
        return None

    statuses_expected = {}
    for entry in corpus:
        expect = entry["expect"]
        status = expect.get("status")
        if status:
            statuses_expected.setdefault((status["workspace"], status["name"]), set()).add(expect["reason"])

    counts = {}
    for entry in corpus:
        expect, outcome = entry["expect"], outcomes[entry["id"]]
        result = expect["result"]
        counts[result] = counts.get(result, 0) + 1
        if entry["subject"] in ("command", "followup"):
            if result == "not-stored":
                if outcome.get("stored"):
                    client.fail(entry["id"], "JetStream stored a publish it should have refused")
                continue
            if not outcome.get("stored"):
                client.fail(entry["id"], f"the publish failed: {outcome.get('error')}")
                continue
            if result == "deduplicated":
                if not outcome.get("duplicate"):
                    client.fail(entry["id"], "JetStream did not drop the repeated message id")
                continue
            index = find_letter(entry, outcome)
            if result == "refused":
                if index is None:
                    client.fail(entry["id"], f"no dead letter (expected {expect['reason']})")
                    continue
                used.add(index)
                reason = letters[index]["headers"].get("Factory-Dead-Letter-Reason")
                if reason != expect["reason"]:
                    client.fail(entry["id"], f"dead-letter reason {reason}, expected {expect['reason']}")
                if letters[index]["payload"] != outcome["payload"]:
                    client.fail(entry["id"], "the dead letter does not carry the original bytes")
            elif index is not None:
                used.add(index)
                client.fail(entry["id"], f"unexpected dead letter: {letters[index]['headers'].get('Factory-Dead-Letter-Reason')}")
            if result == "noop":
                answer = await client.status(entry_name(entry))
                if answer.get("kind") != "error":
                    client.fail(entry["id"], f"a no-op left a status: {json.dumps(answer)[:300]}")
        else:
            answer = outcome.get("answer")
            if answer is None:
                client.fail(entry["id"], f"query not answered: {outcome.get('error')}")
            elif answer.get("kind") != expect["kind"] or (expect.get("reason") and (answer.get("error") or {}).get("reason") != expect["reason"]):
                client.fail(entry["id"], f"answer {json.dumps(answer)[:300]}, expected kind {expect['kind']} reason {expect.get('reason')}")
    for index, letter in enumerate(letters):
        if index not in used:
            client.fail("*", f"dead letter matching no corpus entry: {letter['headers']}")

    # Reported on the named resource's status.
    for (workspace, name), reasons in sorted(statuses_expected.items()):
        answer = await client.status(name, workspace)
        resource = answer.get("resource") if answer.get("kind") == "resource" else None
        reason = ((resource or {}).get("lastError") or {}).get("reason")
        if reason not in reasons:
            client.fail(f"status {workspace}/{name}", f"lastError {reason}, expected one of {sorted(reasons)}: {json.dumps(answer)[:300]}")
        elif resource.get("status") != "error":
            client.fail(f"status {workspace}/{name}", f"STATUS {resource.get('status')}, expected error")

    # Nothing else disturbed: the bystanders' entries are at the same revisions; the target's
    # desired state too (only its status reports the refusals).
    after_revisions = await client.kv_revisions(BYSTANDERS + [TARGET])
    for key, revision in before.items():
        if key == f"status.public.{TARGET}":
            continue
        if after_revisions.get(key) != revision:
            client.fail(key, f"changed from revision {revision} to {after_revisions.get(key)}")
    for name in BYSTANDERS:
        resource = (await client.status(name)).get("resource") or {}
        if resource.get("status") != "active" or resource.get("runtime") != "succeeded" or resource.get("lastError"):
            client.fail(name, f"bystander disturbed: {json.dumps(resource)[:300]}")

    categories = {}
    for entry in corpus:
        categories[entry["category"]] = categories.get(entry["category"], 0) + 1
    summary = {
        "messages": len(corpus), "commands": sum(1 for e in corpus if e["subject"] == "command"), "categories": categories, "expected": counts,
        "deadLetters": len(letters), "sentInSeconds": round(sent_in, 2), "totalSeconds": round(time.monotonic() - started, 2), "queues": queue_state,
        "pings": stats, "acceptedSyncs": accepted_syncs, "bystanderSyncs": [f"{name}-sync" for name in BYSTANDERS + [TARGET, "hostile-after"]],
        "failures": client.failures,
    }
    await client.nc.close()
    print(json.dumps(summary))
    return 0 if not client.failures else 1


def entry_name(entry):
    try:
        return json.loads(entry["payload"])["resource"]["name"]
    except Exception:
        return "unknown"


if __name__ == "__main__":
    corpus_file = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.jsonl")
    sys.exit(asyncio.run(main(sys.argv[1], corpus_file)))
