#!/usr/bin/env bash
# The README's first run: examples/first-run.sh, run as it is against a
# fresh server, succeeds, and its output shows what the README says it
# shows.
#   first_run_test.sh RECURRENTD RECURRENTCTL SOURCE_DIR
RECURRENTD=$1 RECURRENTCTL=$2 SOURCE_DIR=$3
source "$(dirname "$0")/lib.sh"

start_server first-run --db="$WORK/first-run.db"
out="$WORK/first-run.out"
RECURRENT_ADDR="127.0.0.1:$PORT" RECURRENTCTL="$RECURRENTCTL" \
  "$SOURCE_DIR/examples/first-run.sh" >"$out" 2>&1 ||
  { cat "$out" >&2; fail "examples/first-run.sh exited with an error"; }
cat "$out"

# section N: the lines of step N of the output.
section() { awk -v n="== $1." 'index($0, n) == 1 {on = 1; next} /^== / {on = 0} on' "$out"; }
check "four customers listed now" test "$(section 3 | grep -c '^cus_')" -eq 4
check "now, none is active (their histories ended in 2025)" \
  bash -c '! grep -q " active " <<<"$0"' "$(section 3)"
check "the list on 2025-04-15 says so" grep -q "^As of 2025-04-15$" <<<"$(section 4)"
check "on 2025-04-15 ada is active" grep -Eq " ada .* active " <<<"$(section 4)"
check "on 2025-04-15 cleo is past due (no April renewal)" \
  grep -Eq " cleo .* past-due " <<<"$(section 4)"
check "cleo's description gives the reason" \
  grep -Eq "^Reason +Subscription cleo-sub: Past due since 2025-04-01" <<<"$(section 4)"
check "the dry run changes nothing" grep -q "dry run (not saved)" <<<"$(section 5)"
check "  and shows the MRR it would take off now" \
  grep -Eq " -196.00 EUR +196.00 EUR$" <<<"$(section 5)"
check "  and lists the four subscriptions it would churn" \
  test "$(section 5 | grep -Ec '^cus_[a-z0-9]+ +(ada|ben|cleo|dan) +sub_')" -eq 4
check "auto-churn cancels the four customers" \
  test "$(section 6 | grep -c ' cancelled ')" -ge 4
check "cleo's churn is an event on 2025-04-15" \
  grep -Eq "^2025-04-15 +auto-churned " <<<"$(section 6)"
check "each automatic cancellation is an MRR churn (dan's on 2025-01-15)" \
  test "$(section 6 | grep -Ec '^2025-0[1347]-15 +churn +cus_')" -eq 5
check "  ben's April renewal a reactivation" \
  grep -Eq "^2025-04-01 +reactivation +cus_" <<<"$(section 6)"
check "the monthly series starts at EUR 147.00 after dan's churn" \
  grep -Eq "^2025-01-01 +147.00 EUR +196.00 EUR " <<<"$(section 6)"
check "  and ends at 0 after July's churns" \
  grep -Eq "^2025-07-01 +0.00 EUR .* -98.00 EUR " <<<"$(section 6)"
check "  with its chart" grep -q "^MRR EUR$" <<<"$(section 6)"
check "switching back retracts it" \
  bash -c '! grep -q "auto-churned" <<<"$0"' "$(section 7)"
check "ben's late payment is an event" grep -Eq "^2025-03-21 +recovered " <<<"$(section 8)"
check "the history lists three versions" \
  test "$(section 9 | grep -Ec '^[123] ')" -eq 3
