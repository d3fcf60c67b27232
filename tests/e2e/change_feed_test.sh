#!/usr/bin/env bash
# The change feed over the network (docs/api.md "ChangeFeedService"):
#  1. a watcher (the Python client's watch_changes) receives an auto-churn
#     that falls due while it watches within 3 s of its time, in real time;
#  2. watchers that stop reading (a zero HTTP/2 flow-control window) while
#     over 10,000 changes commit do not grow the server's RSS by more than
#     50 MB, and a reader that reads gets every change.
#   change_feed_test.sh PATH_TO_RECURRENTD PATH_TO_MAKE_SYNTHETIC_DB PATH_TO_RECURRENTCTL
RECURRENTD=$1
MAKE_DB=$2
RECURRENTCTL=$3
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLIENT="$ROOT/clients/python"
PYTHON=${RECURRENT_PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
command -v h2load >/dev/null || fail "h2load not found (run scripts/install-deps --tools)"
bash "$CLIENT/generate.sh"

# 1. A due auto-churn, live.
e2e_db live
start_server live --db="$DB"
"$PYTHON" - "127.0.0.1:$PORT" "$CLIENT" >"$WORK/live.out" <<'PY'
import datetime as dt, signal, sys, time
sys.path.insert(0, sys.argv[2])
import recurrent
from recurrent import Invoice, LineItem
signal.alarm(30)
client = recurrent.RecurrentClient(sys.argv[1])
source = client.create_data_source("feed-e2e")
client.update_settings(source.uuid, auto_churn_after_days=1)
customer = client.create_customer(source.uuid, "late-payer")
# An unpaid invoice due a day ago, less 3 s: it auto-churns 3 s from now.
due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1) + dt.timedelta(seconds=3)
watch = client.watch_changes(source=source.uuid)
client.import_invoices(customer.uuid, [Invoice(
    external_id="INV-1", date=due, due_date=due, currency="EUR",
    line_items=[LineItem("LI-1", 4900, "sub-1", due, due + dt.timedelta(days=30))])])
seen = []
for change in watch:
    seen.append(change.type + ":" + (change.event.type if change.event else ""))
    if change.type == "EVENT_PUBLISHED" and change.event.type == "AUTO_CHURNED":
        delay = dt.datetime.now(dt.timezone.utc) - change.event.occurred_at
        print("%.3f" % delay.total_seconds(), " ".join(seen))
        break
PY
read -r delay seen <"$WORK/live.out"
check "the auto-churn reached the watcher ${delay}s after its time (≤ 3 s; saw $seen)" \
  "$PYTHON" -c "import sys; sys.exit(0 if 0 <= float('$delay') <= 3 else 1)"

# 2. Watchers that do not read while the log grows: a measure of this
# server's memory on a SQLite file of synthetic data, the same whatever the
# backend; run once, on SQLite.
if [ "$E2E_BACKEND" = postgres ]; then
  echo "(part 2, memory of non-reading watchers, runs on SQLite only)"
  exit 0
fi
"$MAKE_DB" "$WORK/big.db" 5000 >/dev/null
start_server big --db="$WORK/big.db"
SOURCE=$("$PYTHON" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "select uuid from data_sources where name = ?", ("bench",)).fetchone()[0])' "$WORK/big.db")
LAST=$("$RECURRENTCTL" --addr="127.0.0.1:$PORT" changes list --output=json \
  | tail -n 1 | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["cursor"])')
rss_mb() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$PID/status"; }
sleep 6  # let the start's own allocations settle
BEFORE=$(rss_mb)
# WatchChangesRequest{after_cursor: LAST} as one gRPC message.
"$PYTHON" -c 'import sys
m = b"\x1a" + bytes([len(sys.argv[1])]) + sys.argv[1].encode()
sys.stdout.buffer.write(b"\x00" + len(m).to_bytes(4, "big") + m)' "$LAST" >"$WORK/watch.grpc"
timeout 40 h2load -c 2 -m 10 -n 20 -w 0 -d "$WORK/watch.grpc" \
  -H content-type:application/grpc -H te:trailers \
  "http://127.0.0.1:$PORT/recurrent.v1.ChangeFeedService/WatchChanges" >/dev/null 2>&1 &
H2LOAD=$!
sleep 2
"$RECURRENTCTL" --addr="127.0.0.1:$PORT" settings set "$SOURCE" --auto-churn-after=10 >/dev/null
"$RECURRENTCTL" --addr="127.0.0.1:$PORT" settings set "$SOURCE" --keep >/dev/null
COMMITTED=$("$RECURRENTCTL" --addr="127.0.0.1:$PORT" changes list --after="$LAST" --output=json | wc -l)
check "over 10,000 changes committed ($COMMITTED)" test "$COMMITTED" -gt 10000
sleep 10
AFTER=$(rss_mb)
check "20 watchers that do not read: RSS ${BEFORE} -> ${AFTER} MB (≤ +50)" \
  test "$AFTER" -le $((BEFORE + 50))
kill "$H2LOAD" 2>/dev/null || true
# A reader that reads gets all of them, in order.
timeout 60 "$RECURRENTCTL" --addr="127.0.0.1:$PORT" changes watch --after="$LAST" \
  >"$WORK/watch.out" 2>/dev/null &
WATCHER=$!
for _ in $(seq 1 100); do
  [ "$(wc -l <"$WORK/watch.out")" -ge "$COMMITTED" ] && break
  sleep 0.2
done
kill "$WATCHER" 2>/dev/null || true
check "a watcher that reads receives all $COMMITTED changes, in cursor order" \
  bash -c '[ "$(wc -l <"$1")" -eq "$2" ] && cut -d" " -f1 "$1" | sort -c' _ "$WORK/watch.out" "$COMMITTED"
echo "change_feed_test: all checks passed"
