#!/usr/bin/env bash
# Smoke test of recurrent-loadgen (a few seconds): seeds a small database,
# starts recurrentd on it and runs each scenario briefly; every call must
# succeed.
#   smoke_test.sh RECURRENTD LOADGEN SEED_DATABASE
set -euo pipefail
recurrentd=$1 loadgen=$2 seed=$3
work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$seed" --db="$work/db" --customers=200 >"$work/seed.log"
# Created here: the background shell may not have opened it when sed reads.
: >"$work/server.log"
"$recurrentd" --listen=127.0.0.1:0 --db="$work/db" --worker_threads=2 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$work/server.log")
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { echo "recurrentd did not start"; cat "$work/server.log"; exit 1; }

run() {
  "$loadgen" --target="127.0.0.1:$port" --warmup=0.2s --duration=0.5s \
    --channels=2 --depth=2 --server_pid="$server_pid" "$@" | tee -a "$work/out"
}
run --scenario=get
run --scenario=list
run --scenario=import --import_invoices=5
run --scenario=mix
run --scenario=get --rate=200
run --scenario=mrr
run --scenario=mrr_series

results=$(grep -c '^RESULT' "$work/out")
[[ $results -ge 8 ]] || { echo "expected at least 8 RESULT lines, got $results"; exit 1; }
if grep '^RESULT' "$work/out" | grep -v ' errors=0 ' | grep -q .; then
  echo "some calls failed"; exit 1
fi
if grep '^RESULT' "$work/out" | grep -q ' ok=0 '; then
  echo "a scenario made no successful call"; exit 1
fi
grep -q 'server_hwm_mb=' "$work/out" || { echo "no server memory reported"; exit 1; }
echo "loadgen smoke test passed"
