"""An independent client for FactoryOperator, written with nats-py only (no project code):
publishes an apply of the seed resource on the command subject with a Nats-Msg-Id, then asks for
its status by request-reply until the run succeeds. Prints one JSON line with what it saw.

Usage: python nats_py_client.py NATS_URL [NAME]
"""
import asyncio
import hashlib
import json
import sys
import time

import nats


def seed_command(name):
    return {
        "version": 1,
        "op": "apply",
        "workspace": "public",
        "resource": {
            "version": "v1beta",
            "name": name,
            "type": "resource",
            "tags": ["hightouch-pipeline", "hightouch-operator"],
            "description": "hightouch-pipeline resource",
            "resource": {
                "operator": "hightouch-factory",
                "type": "hightouch",
                "spec": {
                    "model": {
                        "name": "city-retail-py",
                        "slug": "city-retail-py",
                        "queryType": "raw_sql",
                        "sourceId": "23474",
                        "isSchema": False,
                        "primaryKey": "__metadata",
                        "raw": {"sql": "SELECT * FROM icebase.retail.city LIMIT 10000"},
                    },
                    "sync": {
                        "slug": "icebase-excel-py",
                        "configuration": {"mode": "mirror", "driveId": "me/drive", "mappings": []},
                        "destinationId": "80565",
                        "schedule": {"type": "cron", "schedule": {"expression": "*/5 * * * *"}},
                        "disabled": False,
                    },
                    "trigger": {"resetCDC": False, "fullResync": False},
                },
            },
        },
    }


async def main(url, name):
    nc = await nats.connect(url)
    js = nc.jetstream()
    payload = json.dumps(seed_command(name), sort_keys=True).encode()
    ack = await js.publish("hightouch.pipeline.run", payload, headers={"Nats-Msg-Id": hashlib.sha256(payload).hexdigest()})
    result = {"published": {"stream": ack.stream, "seq": ack.seq}}
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        try:
            reply = await nc.request("hightouch.pipeline.run.query", json.dumps({"workspace": "public", "name": name}).encode(), timeout=2)
            status = json.loads(reply.data)
            if status.get("kind") == "resource" and status["resource"]["runtime"] == "succeeded":
                break
        except Exception as error:  # no responders yet, timeouts
            status = {"error": repr(error)}
        await asyncio.sleep(0.2)
    result["status"] = status
    listing = await nc.request("hightouch.pipeline.run.query", json.dumps({"workspace": "public"}).encode(), timeout=2)
    result["list"] = json.loads(listing.data)
    missing = await nc.request("hightouch.pipeline.run.query", json.dumps({"workspace": "public", "name": "does-not-exist"}).encode(), timeout=2)
    result["missing"] = json.loads(missing.data)
    print(json.dumps(result))
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "pipeline-py"))
