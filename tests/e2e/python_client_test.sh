#!/usr/bin/env bash
# The Python client (clients/python) against a live recurrentd: generates the
# stubs with Debian's protoc and grpc_python_plugin, runs example.py and checks
# the statuses it prints, then runs the client's unittest file.
#   python_client_test.sh PATH_TO_RECURRENTD
# Python is /usr/bin/python3 (Debian's python3-grpcio and python3-protobuf;
# scripts/install-deps --tools installs them), or $RECURRENT_PYTHON.
RECURRENTD=$1
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLIENT="$ROOT/clients/python"
PYTHON=${RECURRENT_PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1

"$PYTHON" -c 'import grpc, google.protobuf' 2>/dev/null ||
  fail "$PYTHON cannot import grpc and google.protobuf (run scripts/install-deps --tools)"

check "generate.sh generates the stubs" bash "$CLIENT/generate.sh"
for f in customer invoice source_settings; do
  for suffix in _pb2.py _pb2_grpc.py; do
    check "generated $f$suffix" test -s "$CLIENT/recurrent/_gen/recurrent/v1/$f$suffix"
  done
done
check "the package imports with the generated stubs" \
  "$PYTHON" -c "import sys; sys.path.insert(0, '$CLIENT'); import recurrent; from recurrent.v1 import customer_pb2_grpc"

e2e_db recurrent
start_server python --db="$DB"
ADDR="127.0.0.1:$PORT"

# The example, end to end.
if ! "$PYTHON" "$CLIENT/example.py" --addr="$ADDR" >"$WORK/example.out" 2>"$WORK/example.err"; then
  cat "$WORK/example.out" "$WORK/example.err" >&2
  fail "example.py exited with an error"
fi
cat "$WORK/example.out"
has_line() { grep -qxF -- "$1" "$WORK/example.out"; }
expect() { check "example prints: $1" has_line "$1"; }
# A past-due sentence may end in "." or go on with "; …" (e.g. when the
# subscription auto-churns): the line is PREFIX. or starts with PREFIX; .
has_sentence() {
  has_line "$1." || awk -v p="$1; " 'index($0, p) == 1 { found = 1 } END { exit !found }' "$WORK/example.out"
}
expect_sentence() { check "example prints: $1(. or ; …)" has_sentence "$1"; }

expect "imported 12 invoices INV-2024-01..INV-2024-12, INV-2024-06 unpaid"
expect "settings: version 1, KEEP"
# KEEP (the default): the unpaid June invoice keeps the subscription past due.
expect "status[keep] 2024-03-15 sub-ada-pro: ACTIVE - Active since 2024-01-01: nothing is past due."
expect "status[keep] 2024-06-10 sub-ada-pro: PAST_DUE - Past due since 2024-06-01: invoice INV-2024-06 (EUR 49.00) is not paid in full."
expect "status[keep] 2024-06-20 sub-ada-pro: PAST_DUE - Past due since 2024-06-01: invoice INV-2024-06 (EUR 49.00) is not paid in full."
expect "status[keep] 2024-08-15 sub-ada-pro: PAST_DUE - Past due since 2024-06-01: invoice INV-2024-06 (EUR 49.00) is not paid in full."
expect "status[keep] 2025-01-10 sub-ada-pro: PAST_DUE - Past due since 2024-06-01: invoice INV-2024-06 (EUR 49.00) is not paid in full."
expect "status[keep] 2025-02-01 sub-ada-pro: PAST_DUE - Past due since 2024-06-01: invoice INV-2024-06 (EUR 49.00) is not paid in full."
expect "customer[keep] 2024-03-15: ACTIVE"
for day in 2024-06-10 2024-06-20 2024-08-15 2025-01-10 2025-02-01; do
  expect "customer[keep] $day: PAST_DUE"
done
# The change: previewed, then applied with the same impact.
expect "dry run, auto-churn after 14 days: applied=False, customers_reprocessed=1 auto_churns_reversed=0 auto_churns_applied=2 customers_status_changed=1"
expect "update, auto-churn after 14 days: applied=True, customers_reprocessed=1 auto_churns_reversed=0 auto_churns_applied=2 customers_status_changed=1"
expect "settings: version 2, AUTO_CHURN after 14 days; impact as previewed: yes"
# AUTO_CHURN after 14 days: churned on June 15, reactivated by July's period,
# past due again when the plan is not renewed, churned again on January 15.
expect "status[auto-churn] 2024-03-15 sub-ada-pro: ACTIVE - Active since 2024-01-01: nothing is past due."
expect_sentence "status[auto-churn] 2024-06-10 sub-ada-pro: PAST_DUE - Past due since 2024-06-01: invoice INV-2024-06 (EUR 49.00) is not paid in full"
expect "status[auto-churn] 2024-06-20 sub-ada-pro: CANCELLED - Automatically cancelled on 2024-06-15 after 14 days past due (source setting)."
expect "status[auto-churn] 2024-08-15 sub-ada-pro: ACTIVE - Active since 2024-07-01: nothing is past due."
expect_sentence "status[auto-churn] 2025-01-10 sub-ada-pro: PAST_DUE - Past due since 2025-01-01: the service period that ended 2025-01-01 was not renewed"
expect "status[auto-churn] 2025-02-01 sub-ada-pro: CANCELLED - Automatically cancelled on 2025-01-15 after 14 days past due (source setting)."
expect "customer[auto-churn] 2024-03-15: ACTIVE"
expect "customer[auto-churn] 2024-06-10: PAST_DUE"
expect "customer[auto-churn] 2024-06-20: CANCELLED"
expect "customer[auto-churn] 2024-08-15: ACTIVE"
expect "customer[auto-churn] 2025-01-10: PAST_DUE"
expect "customer[auto-churn] 2025-02-01: CANCELLED"
check "example prints a status and a customer line for each of the 6 instants, twice" \
  test "$(grep -c '^status\[' "$WORK/example.out"):$(grep -c '^customer\[' "$WORK/example.out")" = "12:12"
events=$(grep '^event ' "$WORK/example.out" || true)
expected_events="event 2024-01-01T00:00:00Z sub-ada-pro STARTED
event 2024-06-01T00:00:00Z sub-ada-pro PAST_DUE
event 2024-06-15T00:00:00Z sub-ada-pro AUTO_CHURNED
event 2024-07-01T00:00:00Z sub-ada-pro REACTIVATED
event 2025-01-01T00:00:00Z sub-ada-pro PAST_DUE
event 2025-01-15T00:00:00Z sub-ada-pro AUTO_CHURNED"
check "example prints exactly the six events, in order, with both churns" \
  test "$events" = "$expected_events"
expect "customer status: CANCELLED"
expect "customer tags: auto-churned-delinquent-subscription"
check "every line the example prints is of a known kind" \
  test "$(grep -cvE '^(ids|imported|settings|status\[|customer\[|dry run|update|event|customer status|customer tags)' "$WORK/example.out")" = 0

# Again on the same server: a free source name is picked and, apart from the
# ids line, the output is the same.
run_again() { "$PYTHON" "$CLIENT/example.py" --addr="$ADDR" >"$WORK/again.out"; }
check "example runs again on the same server" run_again
check "the second run prints the same apart from the ids" \
  diff <(grep -v '^ids: ' "$WORK/example.out") <(grep -v '^ids: ' "$WORK/again.out")

# Errors are one line with the gRPC code and a non-zero exit.
if "$PYTHON" "$CLIENT/example.py" --addr=127.0.0.1:1 >/dev/null 2>"$WORK/down.err"; then
  fail "example.py succeeded with no server"
fi
check "example without a server exits 1 with UNAVAILABLE" grep -q "^example: UNAVAILABLE: " "$WORK/down.err"

# The client's unit tests, live; the API key test on a server of its own
# (its first key turns authentication on).
e2e_db keys
start_server keys --db="$DB"
KEYS_ADDR="127.0.0.1:$PORT"
run_unittests() {
  env RECURRENT_ADDR="$ADDR" RECURRENT_KEYS_ADDR="$KEYS_ADDR" \
    "$PYTHON" -m unittest discover -s "$CLIENT/tests" -t "$CLIENT/tests" -v 2>&1 |
    tee "$WORK/unittest.out"
  return "${PIPESTATUS[0]}"
}
check "clients/python/tests/test_client.py passes against the server" run_unittests
check "  including the API key test (not skipped)" \
  grep -q "^test_api_keys .* ok$" "$WORK/unittest.out"
echo "python_client_test: all checks passed"
