#!/usr/bin/env bash
# Makes state-v1.json: the state a release before drivers (state version 1) leaves behind.
#
#   make-v1-fixture.sh OLD_BUILD_DIR > state-v1.json
#
# OLD_BUILD_DIR holds that release's debug build (hightouch-operator and factoryctl), e.g. a
# worktree of commit 584bb4e built with `swift build`. It runs nats-server, the simulator and one
# replica on ports 14222, 18080 and 13001, and writes only to a temporary directory.
set -euo pipefail
OLD="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
VENV="$ROOT/.venv"
W="$(mktemp -d)"
trap 'kill $(cat $W/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$W"' EXIT
NPORT=14222; SPORT=18080; MPORT=13001
$VENV/bin/nats-server -js -p $NPORT -sd $W/store > $W/nats.log 2>&1 & echo $! > $W/nats.pid
$OLD/factoryctl sim hightouch --port $SPORT --run-duration 2s --token tok > $W/sim.log 2>&1 & echo $! > $W/sim.pid
sleep 1
export NATS_URL=nats://127.0.0.1:$NPORT HIGHTOUCH_SERVICE_URL=http://127.0.0.1:$SPORT HIGHTOUCH_SERVICE_SECRET=tok METRIC_PORT=$MPORT \
  OPERATOR_RECONCILE_WORKERS_INTERVAL=500ms OPERATOR_INSTANCE_ID=release-1 OPERATOR_PURGE_STATE_STORE_BEFORE=1h
$OLD/hightouch-operator operator sync > $W/op.log 2>&1 & echo $! > $W/op.pid
sleep 3
mk() { sed -e "s/name: pipeline-01/name: $1/" -e "s/slug: \"city-retail-01\"/slug: \"$2\"/" -e "s/slug: \"icebase-excel-01\"/slug: \"$3\"/" "$ROOT/examples/resource.yaml" > $W/$1.yaml; }
mk pipeline-01 model-01 sync-01
mk pipeline-02 model-02 sync-02
mk pipeline-04 model-04 sync-04
# pipeline-03: a schema violation (isSchema as a string): refused, its status says why.
sed -e 's/name: pipeline-01/name: pipeline-03/' -e 's/isSchema: false/isSchema: "no"/' "$ROOT/examples/resource.yaml" > $W/pipeline-03.yaml
CTL="$OLD/factoryctl"
$CTL apply -f $W/pipeline-01.yaml -w public --owner iamgroot --watch >&2
$CTL apply -f $W/pipeline-02.yaml -w public --owner iamgroot --watch >&2
$CTL delete pipeline-02 -w public --watch >&2 || true
$CTL run pipeline-01 -w public --watch >&2
# Refused before publishing by factoryctl's own validation: publish the raw command instead.
$VENV/bin/python - <<'PY'
import asyncio, json, nats
async def main():
    nc = await nats.connect("nats://127.0.0.1:14222")
    js = nc.jetstream()
    cmd = {"version":1,"op":"apply","workspace":"public","resource":{"version":"v1beta","name":"pipeline-03","type":"resource","resource":{"operator":"hightouch-factory","type":"hightouch","spec":{"model":{"name":"x","slug":"x","queryType":"raw_sql","sourceId":"1","isSchema":"no","primaryKey":"id"},"sync":{"slug":"y","configuration":{},"destinationId":"2","disabled":False},"trigger":{}}}}}
    await js.publish("hightouch.pipeline.run", json.dumps(cmd).encode(), headers={"Nats-Msg-Id": "refused-03"})
    await nc.close()
asyncio.run(main())
PY
sleep 2
# pipeline-04: a run that stays in progress (the simulator's runs now take an hour).
curl -s -X PATCH -H 'Content-Type: application/json' http://127.0.0.1:$SPORT/_admin/knobs -d '{"runDurationMs":3600000}' >&2
$CTL apply -f $W/pipeline-04.yaml -w public --owner iamgroot >&2
sleep 4
kill -TERM $(cat $W/op.pid); sleep 3
"$VENV/bin/python" - <<'PY'
import asyncio, json, base64, nats
async def main():
    nc = await nats.connect("nats://127.0.0.1:14222")
    js = nc.jetstream()
    kv = await js.key_value("hightouch-operator-state")
    keys = sorted(await kv.keys())
    entries = []
    for k in keys:
        e = await kv.get(k)
        entries.append({"key": k, "value": json.loads(e.value)})
    info = await js.stream_info("dataos-hightouch-followups")
    followups = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            m = await js.get_msg("dataos-hightouch-followups", seq)
            followups.append({"subject": m.subject, "messageID": (m.headers or {}).get("Nats-Msg-Id"), "payload": json.loads(m.data)})
        except Exception as ex:
            pass
    out = {"comment": "State written by the release before drivers (state version 1, commit 584bb4e): the hightouch-operator-state bucket and the follow-ups left in dataos-hightouch-followups after: apply pipeline-01 (run 500001), apply and delete pipeline-02 (run 500002), run pipeline-01 (run 500003), a refused apply of pipeline-03, and apply pipeline-04 whose run 500004 was still going when the operator stopped. Made by Tests/EngineTests/Resources/make-v1-fixture.sh.",
           "entries": entries, "followUps": followups}
    print(json.dumps(out, indent=1, sort_keys=True))
    await nc.close()
asyncio.run(main())
PY
