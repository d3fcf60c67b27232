# Helpers for the end-to-end shell tests. Source it; set RECURRENTD first.
set -euo pipefail

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
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
