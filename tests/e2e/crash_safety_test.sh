#!/usr/bin/env bash
# Crash safety under load. ROUNDS times (default 20): start recurrentd on the
# same database, let crash_driver.py import and pay invoices continuously
# from two threads, kill the server with SIGKILL at a random moment, and
# check the database: every acknowledged batch and payment is stored, no
# batch is partly stored, PRAGMA integrity_check passes. Then SIGTERM under
# load: in-flight calls finish OK, later ones are refused (UNAVAILABLE), the
# server exits 0, and the same checks pass.
#   crash_safety_test.sh RECURRENTD
# ROUNDS, BATCH (invoices per import) and THREADS may be set in the
# environment (docs/operations.md has the long soak).
RECURRENTD=$1
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${RECURRENT_PYTHON:-/usr/bin/python3}
DRIVER="$ROOT/tests/e2e/crash_driver.py"
export PYTHONDONTWRITEBYTECODE=1
ROUNDS=${ROUNDS:-20}

"$PYTHON" -c 'import grpc, google.protobuf' 2>/dev/null ||
  fail "$PYTHON cannot import grpc (run scripts/install-deps --tools)"
bash "$ROOT/clients/python/generate.sh"

DB="$WORK/crash.db"
STATE="$WORK/state"
mkdir -p "$STATE"
start_server setup --db="$DB"
"$PYTHON" "$DRIVER" setup "127.0.0.1:$PORT" "$STATE"
kill -KILL "$PID"; wait "$PID" 2>/dev/null || true

for round in $(seq 1 "$ROUNDS"); do
  start_server "round$round" --db="$DB"
  "$PYTHON" "$DRIVER" load "127.0.0.1:$PORT" "$STATE" "$round" &
  LOAD=$!
  # 0.2 to 0.8 s of load, then SIGKILL.
  sleep "0.$((RANDOM % 7 + 2))"
  kill -KILL "$PID"
  wait "$PID" 2>/dev/null || true
  wait "$LOAD" || fail "round $round: the driver failed"
  out=$("$PYTHON" "$DRIVER" check "$DB" "$STATE") || { echo "$out" >&2; fail "round $round: $out"; }
  echo "ok - round $round: $out"
done

# Group commit (on by default): 64 threads importing two invoices each call
# share transactions; SIGKILL at random moments; every acknowledged write is
# stored, none half-stored. The metrics show that writes did share.
DB="$WORK/group.db"
GROUP_STATE="$WORK/group"
mkdir -p "$GROUP_STATE"
start_server group-setup --db="$DB"
THREADS=64 "$PYTHON" "$DRIVER" setup "127.0.0.1:$PORT" "$GROUP_STATE"
kill -KILL "$PID"; wait "$PID" 2>/dev/null || true
largest=0
for round in $(seq 1 "${GROUP_ROUNDS:-5}"); do
  start_server "group$round" --db="$DB" --metrics_listen=127.0.0.1:0
  metrics_port=$(sed -n 's/.*metrics at .*(port \([0-9]*\)).*/\1/p' "$WORK/group$round.log")
  THREADS=64 BATCH=2 "$PYTHON" "$DRIVER" load "127.0.0.1:$PORT" "$GROUP_STATE" "g$round" &
  LOAD=$!
  sleep "1.$((RANDOM % 10))"
  now=$("$PYTHON" -c 'import sys, urllib.request; print(max([0] + [int(float(l.split()[1])) for l in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode().splitlines() if l.startswith("recurrent_group_commit_largest_group ")]))' "$metrics_port" || echo 0)
  [[ $now -gt $largest ]] && largest=$now
  kill -KILL "$PID"
  wait "$PID" 2>/dev/null || true
  wait "$LOAD" || fail "group round $round: the driver failed"
  out=$(BATCH=2 "$PYTHON" "$DRIVER" check "$DB" "$GROUP_STATE") || { echo "$out" >&2; fail "group round $round: $out"; }
  echo "ok - group commit round $round: $out"
done
check "writes shared transactions (largest group $largest)" test "$largest" -gt 1

# SIGTERM under load, on a new database, with larger batches so that calls
# are in flight.
DB="$WORK/term.db"
TERM_STATE="$WORK/term"
mkdir -p "$TERM_STATE"
start_server term --db="$DB"
"$PYTHON" "$DRIVER" setup "127.0.0.1:$PORT" "$TERM_STATE"
BATCH=200 "$PYTHON" "$DRIVER" load "127.0.0.1:$PORT" "$TERM_STATE" term &
LOAD=$!
sleep 0.7
signalled=$(date +%s.%N)
kill -TERM "$PID"
code=0
wait "$PID" || code=$?
check "SIGTERM under load: recurrentd exits 0" test "$code" -eq 0
check "its log says it stopped" grep -q "recurrentd: stopped" "$WORK/term.log"
wait "$LOAD" || fail "the driver failed"
check "in-flight calls finished OK, later ones UNAVAILABLE" \
  "$PYTHON" "$DRIVER" sigterm-check "$TERM_STATE" "$signalled"
check "after SIGTERM: acknowledged writes stored, batches whole, integrity ok" \
  env BATCH=200 "$PYTHON" "$DRIVER" check "$DB" "$TERM_STATE"

# An online backup while a server serves the database.
start_server backup --db="$DB" --max_message_bytes=65536
check "recurrentd --backup_to copies a served database" \
  "$RECURRENTD" --db="$DB" --backup_to="$WORK/backup.db"
count() { "$PYTHON" -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); assert d.execute("PRAGMA integrity_check").fetchone()[0]=="ok"; print(d.execute("SELECT COUNT(*) FROM invoices").fetchone()[0])' "$1"; }
check "the backup is intact and holds every invoice" test "$(count "$WORK/backup.db")" = "$(count "$DB")"
check "a backup into a missing folder fails with exit 1" \
  bash -c "! '$RECURRENTD' --db='$DB' --backup_to='$WORK/no/such/b.db' 2>/dev/null"
echo "crash_safety_test: all checks passed"
