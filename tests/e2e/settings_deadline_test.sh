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

# past_deadline WHAT DONE NOT_YET ARGS...: recurrentctl ARGS with
# --timeout=50ms, which must exceed its deadline and then say either that
# the call was done all the same (DONE, exit 0; returns 0) or that it is
# not done yet (NOT_YET, the worth-retrying exit code 7; returns 1).
past_deadline() {
  local what=$1 done=$2 not_yet=$3 rc=0
  shift 3
  "$CTL" "$@" --timeout=50ms >"$WORK/out" 2>"$WORK/err" || rc=$?
  cat "$WORK/err"
  check "$what --timeout=50ms exceeds its deadline" \
    grep -q "^recurrentctl: DEADLINE_EXCEEDED: " "$WORK/err"
  if grep -Eq "$done" "$WORK/err"; then
    check "  said done: exit 0" test "$rc" = 0
    return 0
  fi
  check "  said not done yet" grep -Eq "$not_yet" "$WORK/err"
  check "  with the worth-retrying exit code" test "$rc" = 7
  return 1
}

if past_deadline "settings set" "applied all the same: settings version 2" \
  "the change is not applied yet \(the current version is still 1\)" \
  settings set "$DS" --auto-churn-after=14; then
  check "  and the history has it" test "$(versions)" = 2
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
# (Not deleted yet, or the look-up itself ran out of its 50 ms on a busy
# machine.)
past_deadline "sources delete" "was deleted all the same" \
  "is not deleted yet|could not look the data source up" \
  sources delete "$DS" || true
gone() {
  for _ in $(seq 1 600); do
    "$CTL" sources get "$DS" >/dev/null 2>&1 || [ $? != 4 ] || return 0
    sleep 0.1
  done
  return 1
}
check "the started delete commits" gone
echo "settings_deadline_test: all checks passed"
