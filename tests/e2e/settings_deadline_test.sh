#!/usr/bin/env bash
# A settings change, then a source delete, that outlive the caller's
# deadline: recurrentctl says whether each was applied (from the settings
# history; by looking the source up), and what the server started commits
# all the same.
#   settings_deadline_test.sh RECURRENTD RECURRENTCTL MAKE_SYNTHETIC_DB
RECURRENTD=$1 CTL=$2 MAKE_DB=$3
source "$(dirname "$0")/lib.sh"

# A source large enough that its reprocess takes far longer than 50 ms.
DB="$WORK/big.db"
"$MAKE_DB" "$DB" "${DEADLINE_TEST_CUSTOMERS:-5000}" >/dev/null
start_server deadline --db="$DB"
export RECURRENT_ADDR="127.0.0.1:$PORT"
DS=$("$CTL" sources list -o json |
  python3 -c 'import json,sys; print([d["uuid"] for d in json.load(sys.stdin)["dataSources"] if d["name"] == "bench"][0])')
versions() { "$CTL" settings history "$DS" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))'; }
check "the source starts at version 1" test "$(versions)" = 1

rc=0
"$CTL" settings set "$DS" --auto-churn-after=14 --timeout=50ms >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err"
check "settings set --timeout=50ms exceeds its deadline" \
  grep -q "^recurrentctl: DEADLINE_EXCEEDED: " "$WORK/err"
if grep -q "applied all the same: settings version 2" "$WORK/err"; then
  check "  said applied: exit 0" test "$rc" = 0
  check "  and the history has it" test "$(versions)" = 2
else
  check "  said not applied yet, still at version 1" \
    grep -q "the change is not applied yet (the current version is still 1)" "$WORK/err"
  check "  with the worth-retrying exit code" test "$rc" = 7
fi
# The reprocess the server started commits although the caller gave up.
committed() {
  for _ in $(seq 1 300); do [ "$(versions)" = 2 ] && return 0; sleep 0.1; done
  return 1
}
check "the started change commits as version 2" committed
check "  with the settings asked for" \
  bash -c "'$CTL' settings get '$DS' | grep -q 'auto-churn after 14 days'"

# Without --timeout the settings calls have 10 minutes: the same kind of
# change completes.
check "settings set without --timeout completes" \
  bash -c "'$CTL' settings set '$DS' --keep | grep -q ' applied '"
check "settings reprocess without --timeout completes" \
  bash -c "'$CTL' settings reprocess '$DS' >/dev/null"
# A source delete that outlives its deadline: recurrentctl looks the source
# up, and the delete the server started commits all the same.
rc=0
"$CTL" sources delete "$DS" --timeout=50ms >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err"
check "sources delete --timeout=50ms exceeds its deadline" \
  grep -q "^recurrentctl: DEADLINE_EXCEEDED: " "$WORK/err"
if grep -q "was deleted all the same" "$WORK/err"; then
  check "  said deleted: exit 0" test "$rc" = 0
else
  # Not yet, or the look-up itself ran out of its 50 ms on a busy machine.
  check "  said not deleted yet (or could not tell)" \
    grep -Eq "is not deleted yet|could not look the data source up" "$WORK/err"
  check "  with the worth-retrying exit code" test "$rc" = 7
fi
gone() {
  for _ in $(seq 1 600); do
    "$CTL" sources get "$DS" >/dev/null 2>&1 || [ $? != 4 ] || return 0
    sleep 0.1
  done
  return 1
}
check "the started delete commits" gone
echo "settings_deadline_test: all checks passed"
