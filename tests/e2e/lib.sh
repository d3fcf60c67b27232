# Helpers for the end-to-end shell tests. Source it; set RECURRENTD first.
set -euo pipefail

WORK=$(mktemp -d)
PIDS=()
PG_DATABASES=()
PSQL=${RECURRENT_PG_BIN:-/usr/lib/postgresql/15/bin}/psql
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  for db in "${PG_DATABASES[@]}"; do
    "$PSQL" -X -q -d "$RECURRENT_PG_URI" -c "DROP DATABASE IF EXISTS $db" || true
  done
  rm -rf "$WORK"
}

# The backend a test's servers run on: RECURRENT_E2E_BACKEND=postgres runs
# them on the server of RECURRENT_PG_URI (scripts/test starts a throwaway
# one); without it the test is skipped (exit 77). Default: SQLite files.
E2E_BACKEND=${RECURRENT_E2E_BACKEND:-sqlite}
if [ "$E2E_BACKEND" = postgres ] && [ -z "${RECURRENT_PG_URI:-}" ]; then
  echo "skipped: RECURRENT_E2E_BACKEND=postgres needs RECURRENT_PG_URI" >&2
  exit 77
fi
# e2e_db NAME: prints a --db value for a new, empty database: a SQLite
# file in $WORK, or a new PostgreSQL database (dropped at the end). Call it
# in the test's own shell (not in $(...)), then use $DB.
e2e_db() {
  if [ "$E2E_BACKEND" = postgres ]; then
    local db="e2e_${1}_$$"
    "$PSQL" -X -q -d "$RECURRENT_PG_URI" -c "CREATE DATABASE $db" >/dev/null
    PG_DATABASES+=("$db")
    DB="${RECURRENT_PG_URI%/*}/$db"
  else
    DB="$WORK/$1.db"
  fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# eventually COMMAND...: runs COMMAND every 0.1 s until it succeeds, for
# at most EVENTUALLY_SECONDS (default 10) however long each run takes; fails
# if it never does.
eventually() {
  local deadline=$((SECONDS + ${EVENTUALLY_SECONDS:-10}))
  while true; do
    "$@" && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok - $what"; else fail "$what"; fi
}

# start_server NAME ARGS... : starts recurrentd in the background on an
# ephemeral port; sets PORT and PID; fails if it is not ready in 20 s.
start_server() {
  local name=$1; shift
  local log="$WORK/$name.log"
  "$RECURRENTD" --listen=127.0.0.1:0 "$@" >"$log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 200); do
    if grep -q "serving on port" "$log"; then
      PORT=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$log" | head -n1)
      return 0
    fi
    kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; fail "$name exited early"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "$name not ready after 20 s"
}
