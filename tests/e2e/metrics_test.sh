#!/usr/bin/env bash
# --metrics_listen: /metrics in the Prometheus text format. Counters move
# with the calls made (by method and code, latency histogram, the
# GetCustomer cache, reprocesses), the storage and process series are
# there, other paths are 404, and promtool (Debian's prometheus) accepts
# the page.
#   metrics_test.sh RECURRENTD RECURRENTCTL
RECURRENTD=$1 RECURRENTCTL=$2
source "$(dirname "$0")/lib.sh"

start_server metrics --db="$WORK/metrics.db" --metrics_listen=127.0.0.1:0
METRICS_PORT=$(sed -n 's/.*metrics at .*(port \([0-9]*\)).*/\1/p' "$WORK/metrics.log")
check "the ready output names the metrics port" test -n "$METRICS_PORT"
scrape() {  # scrape [PATH]: prints the page; fails on a non-200 answer
  python3 - "http://127.0.0.1:$METRICS_PORT${1:-/metrics}" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as answer:
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4"), answer.headers["Content-Type"]
    sys.stdout.write(answer.read().decode())
PY
}
# value PAGE SERIES: the sample value of the series (name with labels).
value() { awk -v s="$2" '$1 == s {print $2}' <<<"$1"; }
ctl() { "$RECURRENTCTL" --addr="127.0.0.1:$PORT" "$@"; }
json_uuid() { python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])'; }

before=$(scrape)
check "a fresh server has made no reprocess" \
  test "$(value "$before" recurrent_reprocess_runs_total)" = 0

DS=$(ctl sources create --name=Stripe -o json | json_uuid)
CUS=$(ctl customers create --source="$DS" --external-id=c1 -o json | json_uuid)
ctl customers get "$CUS" >/dev/null
ctl customers get "$CUS" >/dev/null
ctl customers get "$CUS" >/dev/null
ctl sources get ds_aaaaaaaaaaaaaaaaaaaa >/dev/null 2>&1 || true
ctl settings set "$DS" --auto-churn-after=14 >/dev/null
sleep 1.2  # the storage figures are read from the database once a second
after=$(scrape)

create='recurrent_grpc_calls_total{method="/recurrent.v1.SourceSettingsService/CreateDataSource",code="OK"}'
check "calls are counted by method and code" test "$(value "$after" "$create")" = 1
missing='recurrent_grpc_calls_total{method="/recurrent.v1.SourceSettingsService/GetDataSource",code="NOT_FOUND"}'
check "errors are counted by code" test "$(value "$after" "$missing")" = 1
gets='recurrent_grpc_call_duration_seconds_count{method="/recurrent.v1.CustomerService/GetCustomer"}'
check "the latency histogram counts every GetCustomer" test "$(value "$after" "$gets")" = 3
inf='recurrent_grpc_call_duration_seconds_bucket{method="/recurrent.v1.CustomerService/GetCustomer",le="+Inf"}'
check "its +Inf bucket holds them all" test "$(value "$after" "$inf")" = 3
check "the GetCustomer cache answered some" \
  python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= 1)' \
  "$(value "$after" recurrent_customer_cache_hits_total)"
check "the settings change is a reprocess" \
  test "$(value "$after" recurrent_reprocess_runs_total)" = 1
check "the change log has rows" \
  python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= 1)' \
  "$(value "$after" recurrent_change_log_rows)"
for series in 'recurrent_executor_queued_calls{executor="reads"}' \
    'recurrent_executor_queued_calls{executor="writes"}' \
    recurrent_reevaluation_lag_seconds recurrent_change_log_oldest_age_seconds \
    recurrent_customer_cache_bytes recurrent_calls_held recurrent_database_serving \
    'recurrent_database_file_bytes{file="database"}' 'recurrent_database_file_bytes{file="wal"}' \
    'recurrent_change_feed_log_reads_total{reader="tail"}' \
    'recurrent_change_feed_log_reads_total{reader="watch"}' \
    process_resident_memory_bytes process_cpu_seconds_total process_open_fds \
    process_start_time_seconds; do
  check "the page has $series" test -n "$(value "$after" "$series")"
done
check "the storage figures are fresh" \
  python3 -c 'import sys; sys.exit(not 0 <= float(sys.argv[1]) < 5)' \
  "$(value "$after" recurrent_storage_stats_age_seconds)"
check "the database file has a size" \
  python3 -c 'import sys; sys.exit(not float(sys.argv[1]) > 0)' \
  "$(value "$after" 'recurrent_database_file_bytes{file="database"}')"
check "and so has the database, as it reports it" \
  python3 -c 'import sys; sys.exit(not float(sys.argv[1]) > 0)' \
  "$(value "$after" recurrent_database_size_bytes)"
check "other paths are 404" \
  bash -c '! python3 -c "import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$0/other\", timeout=10)" 2>/dev/null' "$METRICS_PORT"
if command -v promtool >/dev/null; then
  check "promtool check metrics accepts the page" \
    bash -c 'promtool check metrics <<<"$0"' "$after"
else
  fail "promtool is missing (scripts/install-deps --tools installs prometheus)"
fi
