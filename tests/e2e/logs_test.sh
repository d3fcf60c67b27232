#!/usr/bin/env bash
# Logs: --log_format=json gives one JSON object per line (time, level, msg,
# fields); --log_requests adds a line per call with the method, peer, the
# API key's name (never the key), code, duration and sizes; text lines
# carry the same; a bad --log_format is refused.
#   logs_test.sh RECURRENTD RECURRENTCTL
RECURRENTD=$1 RECURRENTCTL=$2
source "$(dirname "$0")/lib.sh"

out=$("$RECURRENTD" --log_format=xml --db="$WORK/x.db" 2>&1) && fail "--log_format=xml was accepted"
check "a bad --log_format is refused" grep -q "log_format must be text or json" <<<"$out"

SECRET=$("$RECURRENTD" --db="$WORK/logs.db" --create_api_key=ops:admin 2>/dev/null)
start_server logs --db="$WORK/logs.db" --log_format=json --log_requests
ctl() { RECURRENT_API_KEY=$SECRET "$RECURRENTCTL" --addr="127.0.0.1:$PORT" "$@"; }
ctl sources create --name=Stripe >/dev/null
ctl sources get ds_aaaaaaaaaaaaaaaaaaaa >/dev/null 2>&1 || true
"$RECURRENTCTL" --addr="127.0.0.1:$PORT" sources list >/dev/null 2>&1 || true  # no key
sleep 0.2
log="$WORK/logs.log"
check "every log line is a JSON object with time, level and msg" python3 - "$log" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if not l.startswith("recurrentd: ")]
assert lines, "no log line"
for line in lines:
    record = json.loads(line)
    assert {"time", "level", "msg"} <= record.keys(), record
    assert record["time"].endswith("Z"), record
PY
calls=$(grep '"msg":"call"' "$log")
check "a created source is one call line with the key's name" \
  grep -q '"method":"/recurrent.v1.SourceSettingsService/CreateDataSource","peer":"ipv4:127.0.0.1:[0-9]*","key":"ops","code":"OK"' <<<"$calls"
check "an error's code is logged" grep -q '"code":"NOT_FOUND"' <<<"$calls"
check "a call without a key is logged with key -" grep -q '"key":"-","code":"UNAUTHENTICATED"' <<<"$calls"
check "durations and sizes are logged" grep -Eq '"duration_ms":"[0-9]+\.[0-9]{3}","request_bytes":"[0-9]+","response_bytes":"[0-9]+"' <<<"$calls"
check "the key itself is never logged" bash -c '! grep -qF "$0" "$1"' "$SECRET" "$log"

start_server text --db="$WORK/text.db"
check "text lines have time, level and message" \
  grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z warning no API key exists' "$WORK/text.log"
