#!/usr/bin/env bash
# A reprocess killed part-way (SIGKILL) leaves the old settings and statuses
# intact, and a new UpdateSettings succeeds after a restart.
#   reprocess_crash_test.sh RECURRENTD BUF MAKE_SYNTHETIC_DB
RECURRENTD=$1
BUF=$2
MAKE_DB=$3
source "$(dirname "$0")/lib.sh"
[ -x "$BUF" ] || fail "buf not found at $BUF (run scripts/install-deps --tools)"

DB="$WORK/big.db"
"$MAKE_DB" "$DB" "${CRASH_TEST_CUSTOMERS:-20000}" >/dev/null
# Everything a reader can see that a reprocess writes.
digest() {
  python3 - "$DB" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
h = hashlib.sha256()
for query in ("SELECT * FROM settings_versions ORDER BY 1, 2",
              "SELECT * FROM customers ORDER BY id",
              "SELECT * FROM subscriptions ORDER BY id",
              "SELECT * FROM subscription_events ORDER BY id",
              "SELECT * FROM change_log ORDER BY sequence"):
    for row in db.execute(query):
        h.update(repr(row).encode())
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
print(h.hexdigest())
PY
}
before=$(digest)

# The data ends on 2026-01-01, so customers are due for re-evaluation: the
# victim must not re-evaluate them (its commits would be legitimate changes
# the digest cannot tell from the reprocess's).
start_server victim --db="$DB" --reevaluate_interval=1000h
ADDR="http://127.0.0.1:$PORT"
call() { "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$2" "$ADDR/recurrent.v1.$1"; }
ds=$(call SourceSettingsService/ListDataSources '{}' |
  python3 -c 'import json,sys; print([d["uuid"] for d in json.load(sys.stdin)["dataSources"] if d["name"] == "bench"][0])')

update='{"dataSourceUuid": "'$ds'", "pastDueHandling": {"mode": "PAST_DUE_MODE_AUTO_CHURN", "autoChurnAfterDays": 14}}'
wal_size() { stat -c %s "$DB-wal" 2>/dev/null || echo 0; }
wal_before=$(wal_size)
call SourceSettingsService/UpdateSettings "$update" >"$WORK/update.out" 2>&1 &
UPDATE=$!
# Kill the server once the reprocess is under way: its transaction has
# written a megabyte to the WAL.
grew=""
# Up to 60 s: the reprocess's threads run at idle priority, so on a busy
# machine (a parallel build, ctest -j) its scan can take a while to begin.
for _ in $(seq 1 6000); do
  if [ "$(wal_size)" -gt $((wal_before + 1000000)) ]; then grew=yes; break; fi
  sleep 0.01
done
check "the reprocess was writing when killed" test -n "$grew"
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
wait "$UPDATE" 2>/dev/null || true
check "the reprocess did not finish before the kill" \
  bash -c "! grep -q '\"applied\": true' '$WORK/update.out'"

check "after the crash: old settings and statuses, database intact" \
  test "$(digest)" = "$before"

start_server survivor --db="$DB"
ADDR="http://127.0.0.1:$PORT"
out=$(call SourceSettingsService/UpdateSettings "$update")
check "a new UpdateSettings succeeds after the restart" grep -q '"applied": true' <<<"$out"
check "it is version 2" grep -q '"version": "2"' <<<"$out"
echo "reprocess_crash_test: all checks passed"
