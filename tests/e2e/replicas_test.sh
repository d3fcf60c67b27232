#!/usr/bin/env bash
# Three recurrentd replicas on one PostgreSQL database (docs/deployment.md):
#  1. three replicas (--log_reevaluations --reevaluate_interval=200ms), each
#     on a fixed port, share a fresh database;
#  2. replicas_driver.py writes for LOAD_SECONDS (32) from several threads,
#     each call to the next replica: invoice batches (some falling due and
#     churning while the load runs, so the re-evaluators have work),
#     payments, explicit cancellations, merges, settings changes;
#  3. meanwhile replica 1 is killed with SIGKILL at ~8 s and ~20 s and
#     restarted on its port ~2 s later;
#  4. then, through the API: every acknowledged write is stored, no batch
#     partly; ReprocessDataSource changes nothing; the change feed chains
#     each customer's statuses up to its current one and alternates each
#     event's publications and retractions; no (customer, due time) was
#     re-evaluated twice across replicas and restarts (their logs);
#  5. the database stops: replica 0 reports NOT_SERVING within 5 s and
#     refuses calls with UNAVAILABLE; it starts again: replica 0, never
#     restarted, serves reads and writes within 15 s;
#  6. API keys: the first key, made on replica 0, switches authentication on
#     at the others; a key made on one replica works on another; revoked on
#     one, it is refused by all and ends the watch it opened elsewhere, each
#     within 5 s.
#   replicas_test.sh PATH_TO_RECURRENTD
# Needs RECURRENT_PG_URI and RECURRENT_PG_CTL (scripts/with-postgres sets
# both); without them the test is skipped (exit 77). KEEP_WORK=DIR keeps
# the logs there.
RECURRENTD=$1
if [ -z "${RECURRENT_PG_URI:-}" ] || [ -z "${RECURRENT_PG_CTL:-}" ]; then
  echo "SKIP: RECURRENT_PG_URI/RECURRENT_PG_CTL not set (run under scripts/with-postgres)"
  exit 77
fi
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${RECURRENT_PYTHON:-/usr/bin/python3}
PSQL=${RECURRENT_PSQL:-/usr/lib/postgresql/15/bin/psql}
DRIVER="$ROOT/tests/e2e/replicas_driver.py"
export PYTHONDONTWRITEBYTECODE=1
LOAD_SECONDS=${LOAD_SECONDS:-32}
KILLED=1   # the replica killed during the load
STEADY=0   # the replica watched through the database outage

"$PYTHON" -c 'import grpc, google.protobuf' 2>/dev/null ||
  fail "$PYTHON cannot import grpc (run scripts/install-deps --tools)"
[ -x "$PSQL" ] || PSQL=$(command -v psql) || fail "psql not found"
HELP=$("$RECURRENTD" --helpfull 2>&1 || true)
grep -q -- --log_reevaluations <<<"$HELP" ||
  fail "$RECURRENTD has no --log_reevaluations flag (rebuild it)"
bash "$ROOT/clients/python/generate.sh"

# A fresh database on the server, dropped at the end.
DBNAME="replicas_$$"
URI="${RECURRENT_PG_URI%/*}/$DBNAME"
"$PSQL" "$RECURRENT_PG_URI" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $DBNAME" >/dev/null ||
  fail "cannot create database $DBNAME"
PG_DOWN=0
finish() {
  local code=$?
  if [ "$PG_DOWN" = 1 ]; then "$RECURRENT_PG_CTL" start >/dev/null 2>&1 || true; fi
  if [ -n "${KEEP_WORK:-}" ]; then mkdir -p "$KEEP_WORK" && cp -r "$WORK"/. "$KEEP_WORK"/; fi
  cleanup  # lib.sh: stops the replicas, removes $WORK
  "$PSQL" "$RECURRENT_PG_URI" -qc "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" \
    >/dev/null 2>&1 || true
  exit "$code"
}
trap finish EXIT

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
RPORT=() RPID=() GEN=()
for i in 0 1 2; do
  while :; do
    p=$(free_port)
    case " ${RPORT[*]} " in *" $p "*) ;; *) break ;; esac
  done
  RPORT[$i]=$p
  GEN[$i]=0
done
ADDRS="127.0.0.1:${RPORT[0]},127.0.0.1:${RPORT[1]},127.0.0.1:${RPORT[2]}"

# Prefixes each line with the time it was written (Unix seconds), so that
# a re-evaluation can be compared with the time it was due.
STAMP='import sys, time
for line in sys.stdin:
    sys.stdout.write("%.6f %s" % (time.time(), line))
    sys.stdout.flush()'
# start_replica I: starts replica I on its port with a new log
# ($WORK/replicaI.GEN.log, time-stamped); fails if it is not ready in 20 s.
start_replica() {
  local i=$1
  GEN[$i]=$((GEN[$i] + 1))
  local log="$WORK/replica$i.${GEN[$i]}.log"
  "$RECURRENTD" --listen="127.0.0.1:${RPORT[$i]}" --db="$URI" --log_reevaluations \
    --reevaluate_interval=200ms > >(exec "$PYTHON" -u -c "$STAMP" >"$log") 2>&1 &
  RPID[$i]=$!
  PIDS+=("${RPID[$i]}")
  for _ in $(seq 1 200); do
    grep -q "serving on port" "$log" && return 0
    kill -0 "${RPID[$i]}" 2>/dev/null || { cat "$log" >&2; fail "replica $i exited early"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "replica $i not ready after 20 s"
}
now() { date +%s.%N; }
# sleep_until SECONDS: sleeps until SECONDS after $T0.
sleep_until() {
  sleep "$(awk -v t0="$T0" -v at="$1" -v now="$(now)" 'BEGIN { d = t0 + at - now; print (d > 0 ? d : 0) }')"
}

STARTED=$(now)
STATE="$WORK/state"
mkdir -p "$STATE"
start_replica 0  # the first one creates the schema
start_replica 1
start_replica 2
check "three replicas serve one database (ports ${RPORT[*]}); the first created its schema, the others found it" \
  bash -c 'grep -q "a new database created" "$1" && ! grep -q "a new database created" "$2" "$3"' \
  _ "$WORK/replica0.1.log" "$WORK/replica1.1.log" "$WORK/replica2.1.log"
"$PYTHON" "$DRIVER" setup "$ADDRS" "$STATE"

# The load, with replica $KILLED killed twice and restarted on its port.
"$PYTHON" "$DRIVER" load "$ADDRS" "$STATE" "$LOAD_SECONDS" >"$WORK/load.out" 2>&1 &
LOAD=$!
T0=$(now)
for at in 8 20; do
  sleep_until "$at"
  kill -KILL "${RPID[$KILLED]}"
  wait "${RPID[$KILLED]}" 2>/dev/null || true
  echo "kill $KILLED $(now)" >>"$STATE/kills"
  sleep_until $((at + 2))
  start_replica "$KILLED"
  echo "restart $KILLED $(now)" >>"$STATE/kills"
  echo "ok - replica $KILLED killed at ${at} s and serving again on port ${RPORT[$KILLED]}"
done
code=0
wait "$LOAD" || code=$?
cat "$WORK/load.out"
[ "$code" -eq 0 ] || fail "the load driver failed"
for i in 0 1 2; do
  kill -0 "${RPID[$i]}" 2>/dev/null || { tail -n 20 "$WORK/replica$i.${GEN[$i]}.log" >&2; fail "replica $i died"; }
done

# The checks (the driver prints an "ok - …" or "not ok - …" line for each).
# A failure is reported at the end, after the outage's checks.
FAILED=()
code=0
"$PYTHON" "$DRIVER" check "$ADDRS" "$STATE" "$WORK"/replica*.log >"$WORK/check.out" 2>&1 || code=$?
cat "$WORK/check.out"
[ "$code" -eq 0 ] || FAILED+=("checks after the load")
SUMMARY=$(grep '^summary:' "$WORK/check.out" || echo "summary: none (the checks stopped early)")

# The database goes away and comes back.
PG_DOWN=1
"$RECURRENT_PG_CTL" stop >/dev/null
check "database stopped: replica $STEADY reports NOT_SERVING within 5 s, and refuses calls with UNAVAILABLE" \
  "$PYTHON" "$DRIVER" outage-down "$ADDRS" "$STATE" "$STEADY"
"$RECURRENT_PG_CTL" start >/dev/null
PG_DOWN=0
check "database back: replica $STEADY reports SERVING and answers a read and a write within 15 s" \
  "$PYTHON" "$DRIVER" outage-up "$ADDRS" "$STATE" "$STEADY" 15
check "replica $STEADY was never restarted (pid ${RPID[$STEADY]}) and logged the outage and the recovery" \
  bash -c 'kill -0 "$1" && grep -q "health NOT_SERVING" "$2" && grep -q "the database is back; SERVING" "$2"' \
  _ "${RPID[$STEADY]}" "$WORK/replica$STEADY.1.log"
code=0
"$PYTHON" "$DRIVER" check-feed "$ADDRS" "$STATE" >"$WORK/feed.out" 2>&1 || code=$?
sed -E 's/^(not )?ok - /&after the outage: /' "$WORK/feed.out"
[ "$code" -eq 0 ] || FAILED+=("change-feed checks after the outage")

# Last, since from then on every call needs a key: keys made or revoked on
# one replica take effect on the others.
code=0
"$PYTHON" "$DRIVER" keys "$ADDRS" >"$WORK/keys.out" 2>&1 || code=$?
cat "$WORK/keys.out"
[ "$code" -eq 0 ] || FAILED+=("API keys across replicas")

[ "${#FAILED[@]}" -eq 0 ] || fail "$(IFS=';'; echo "${FAILED[*]}") failed (see 'not ok' above); $SUMMARY"
echo "replicas_test: all checks passed in $(awk -v a="$STARTED" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s; $SUMMARY"
