#!/usr/bin/env bash
# recurrentctl against a live recurrentd, as an operator uses it: a source
# with auto-churn (dry run first), a customer with a year of monthly invoices
# (one unpaid), statuses and events at --as-of, a late payment, an explicit
# cancellation, tags, a merge, deletes; tables, --output=json, paging and
# --limit, RECURRENT_ADDR/--addr, and the exit codes of usage and gRPC errors.
# Dates are relative to today, so the statuses "now" do not depend on when
# the test runs.
# MRR: on customers and subscriptions, in settings impacts, and the mrr
# commands (totals, movements paged, a monthly series and its chart).
#   recurrentctl_test.sh PATH_TO_RECURRENTD PATH_TO_RECURRENTCTL
RECURRENTD=$1
CTL=$2
source "$(dirname "$0")/lib.sh"
[ -x "$CTL" ] || fail "recurrentctl not found at $CTL"
unset RECURRENT_ADDR

# ctl ARGS... : runs recurrentctl; sets RC, RAW (stdout), OUT (stdout
# without the "As of ..." line before a table and the "Next page: ..." line
# after it, so that a table's header is OUT's first line) and ERR (stderr).
ctl() {
  RC=0
  "$CTL" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
  RAW=$(cat "$WORK/out")
  OUT=$(grep -Ev '^(As of |Next page: )' <<<"$RAW" || true)
  ERR=$(cat "$WORK/err")
}
# expect CODE ARGS... : runs recurrentctl and checks its exit code; an error
# (CODE > 0) must be exactly one line on stderr starting "recurrentctl: ".
expect() {
  local want=$1; shift
  ctl "$@"
  if [ "$RC" -ne "$want" ]; then
    echo "recurrentctl $*: exit $RC, want $want" >&2
    echo "stdout: $OUT" >&2
    echo "stderr: $ERR" >&2
    return 1
  fi
  if [ "$want" -ne 0 ]; then
    [ "$(wc -l <"$WORK/err")" -eq 1 ] || { echo "stderr is not one line: $ERR" >&2; return 1; }
    [[ "$ERR" == "recurrentctl: "* ]] || { echo "stderr: $ERR" >&2; return 1; }
  fi
}
# stderr_has REGEX / out_has REGEX / out_lacks REGEX
stderr_has() { grep -Eq -- "$1" <<<"$ERR" || { echo "stderr lacks /$1/: $ERR" >&2; return 1; }; }
out_has() { grep -Eq -- "$1" <<<"$OUT" || { echo "stdout lacks /$1/: $OUT" >&2; return 1; }; }
raw_has() { grep -Eq -- "$1" <<<"$RAW" || { echo "stdout lacks /$1/: $RAW" >&2; return 1; }; }
out_lacks() { ! grep -Eq -- "$1" <<<"$OUT" || { echo "stdout has /$1/: $OUT" >&2; return 1; }; }
# header REGEX: the first line of the table output.
header() { head -n1 <<<"$OUT" | grep -Eq -- "$1" || { echo "header: $(head -n1 <<<"$OUT")" >&2; return 1; }; }
# js EXPR: evaluates a Python expression over the JSON on stdout (as v).
js() { python3 -c 'import json,sys; v=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }
# is VALUE EXPECTED
is() { [ "$1" = "$2" ] || { echo "got \"$1\", want \"$2\"" >&2; return 1; }; }
# cell KEY COLUMN: the cell of the table row containing KEY under the header
# COLUMN (cells start where their header starts).
cell() {
  python3 - "$1" "$2" "$OUT" <<'EOF'
import re, sys
key, column, text = sys.argv[1], sys.argv[2], sys.argv[3]
lines = text.splitlines()
headers = list(re.finditer(r"\S+(?: \S+)*", lines[0]))
starts = [m.start() for m in headers]
names = [m.group() for m in headers]
i = names.index(column)
end = starts[i + 1] if i + 1 < len(starts) else None
rows = [line for line in lines[1:] if key in line]
print(rows[0][starts[i]:end].strip() if len(rows) == 1 else "<%d rows>" % len(rows))
EOF
}
rows() { echo $(($(wc -l <<<"$OUT") - 1)); }  # table rows after the header

day() { date -u -d "$1" +%Y-%m-%d; }
MONTH=$(date -u +%Y-%m-01)
UNPAID=$(day "$MONTH -3 months")        # the one unpaid invoice's month
BEFORE=$(day "$UNPAID -1 month +9 days")  # all paid so far
DURING=$(day "$UNPAID +9 days")           # past due, 9 days in
CHURNED=$(day "$UNPAID +20 days")         # past due for 20 days

# A year of monthly invoices (the current month's last), all paid on their
# date except the one of month UNPAID.
python3 - "$MONTH" "$UNPAID" >"$WORK/invoices.json" <<'EOF'
import datetime, json, sys
first = datetime.date.fromisoformat(sys.argv[1])
unpaid = sys.argv[2]
def add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    return datetime.date(d.year + y, m + 1, 1)
def ts(d): return d.isoformat() + "T00:00:00Z"
invoices = []
for i in range(-11, 1):
    start, end = add_months(first, i), add_months(first, i + 1)
    invoice = {
        "externalId": f"INV-{start:%Y-%m}", "date": ts(start), "dueDate": ts(start),
        "currency": "EUR",
        "lineItems": [{"externalId": f"LI-{start:%Y-%m}", "type": "LINE_ITEM_TYPE_SUBSCRIPTION",
                       "subscriptionExternalId": "sub-pro", "planExternalId": "pro-monthly",
                       "servicePeriodStart": ts(start), "servicePeriodEnd": ts(end),
                       "amountInCents": "4900", "quantity": 1}]}
    if start.isoformat() != unpaid:
        invoice["transactions"] = [{"externalId": f"TR-{start:%Y-%m}",
                                    "type": "TRANSACTION_TYPE_PAYMENT",
                                    "result": "TRANSACTION_RESULT_SUCCESSFUL", "date": ts(start)}]
    invoices.append(invoice)
json.dump({"invoices": invoices}, sys.stdout, indent=1)
EOF

# --- Help and usage errors (no server needed) --------------------------------
check "--help exits 0 with usage and exit codes" expect 0 --help
check "root help lists every group" out_has "subscriptions cancel SUBSCRIPTION_UUID"
check "root help documents exit codes" out_has "4  NOT_FOUND"
check "root help documents RECURRENT_ADDR" out_has "RECURRENT_ADDR"
for command in "sources create" "sources list" "sources get" "sources delete" \
    "settings get" "settings set" "settings history" "settings reprocess" \
    "customers create" "customers get" "customers list" "customers update" \
    "customers delete" "customers merge" "customers tag" "customers untag" \
    "invoices import" "invoices get" "invoices list" "invoices delete" \
    "invoices pay" "subscriptions list" "subscriptions cancel" "events" \
    "customers describe" "mrr get" "mrr movements" "mrr series"; do
  # shellcheck disable=SC2086
  expect 0 $command --help || fail "$command --help"
  grep -q "Usage:" <<<"$OUT" && grep -q "Examples:" <<<"$OUT" &&
    grep -q "recurrentctl $command" <<<"$OUT" || fail "$command --help: $OUT"
done
echo "ok - every command has --help with usage and an example"
check "help GROUP VERB works too" expect 0 help settings set
check "settings set help names its flags" out_has "--auto-churn-after=DAYS"
check "no command is a usage error" expect 2
check "unknown command is a usage error" expect 2 bogus
check "unknown verb is a usage error" expect 2 customers lsit
check "  with a hint" stderr_has "see 'recurrentctl customers --help'"
check "unknown flag is a usage error" expect 2 customers list --bogus=1
check "  naming the flag and the command's help" \
  stderr_has "unknown flag --bogus .*'recurrentctl customers list --help'"
check "missing argument is a usage error" expect 2 customers get
check "extra argument is a usage error" expect 2 sources get ds_a ds_b
check "bad date is a usage error" expect 2 customers get cus_x --as-of=yesterday
check "bad status is a usage error" expect 2 customers list --status=sleeping
check "flag without a value is a usage error" expect 2 customers list --status
check "settings set needs --keep or --auto-churn-after" expect 2 settings set ds_x
check "bad --output is a usage error" expect 2 sources list --output=yaml
check "bad --limit is a usage error" expect 2 sources list --limit=0
check "mrr series needs --interval" expect 2 mrr series --start=2025-01-01 --end=2025-03-01
check "  naming it" stderr_has "--interval is required"
check "mrr series --interval=year is a usage error" \
  expect 2 mrr series --start=2025-01-01 --end=2025-03-01 --interval=year
check "mrr movements with a bad --start is a usage error" expect 2 mrr movements --start=soon
check "no server: UNAVAILABLE, exit 7" expect 7 --addr=127.0.0.1:1 sources list
check "  with the code name" stderr_has "^recurrentctl: UNAVAILABLE: "

# --- A live server -------------------------------------------------------------
e2e_db recurrent
start_server ctl --db="$DB"
ADDR="127.0.0.1:$PORT"
export RECURRENT_ADDR=$ADDR
check "RECURRENT_ADDR is used" expect 0 sources list
RECURRENT_ADDR=127.0.0.1:1 check "--addr wins over RECURRENT_ADDR" \
  expect 0 --addr="$ADDR" sources list
RECURRENT_ADDR=127.0.0.1:1 check "  and a bad RECURRENT_ADDR is used without it" \
  expect 7 sources list

# Sources and settings.
check "sources create" expect 0 sources create --name=Stripe --system=stripe
check "  prints a table" header "^UUID +NAME +SYSTEM +PAST-DUE HANDLING +VERSION +CREATED$"
check "  with the new source" is "$(cell Stripe "PAST-DUE HANDLING")" "keep"
DS=$(cell Stripe UUID)
check "  whose id is a ds_ id" grep -q "^ds_" <<<"$DS"
check "a duplicate name is ALREADY_EXISTS, exit 5" expect 5 sources create --name=Stripe
check "  with the code name" stderr_has "^recurrentctl: ALREADY_EXISTS: "
check "an unknown source is NOT_FOUND, exit 4" expect 4 sources get ds_aaaaaaaaaaaaaaaaaaaa
check "  with the code name" stderr_has "^recurrentctl: NOT_FOUND: "
check "  and the server's reason" stderr_has " \(reason RESOURCE_NOT_FOUND\)$"
ctl sources get ds_aaaaaaaaaaaaaaaaaaaa -o json
check "  with -o json, the error is one JSON object on stderr" \
  is "$RC/$(python3 -c 'import json,sys; e=json.loads(sys.argv[1])["error"]; print(e["code"], e["reason"], e["domain"], e["metadata"]["resource_type"], e["exitCode"], e["retryable"])' "$ERR")" \
  "4/NOT_FOUND RESOURCE_NOT_FOUND recurrent data_source 4 False"
check "an id of the wrong kind is INVALID_ARGUMENT, exit 3" expect 3 sources get cus_x
check "sources get --output=json" expect 0 sources get "$DS" --output=json
check "  is the protobuf JSON mapping" is "$(js 'v["settings"]["pastDueHandling"]["mode"]')" \
  PAST_DUE_MODE_KEEP

# A customer with a year of invoices, one unpaid.
check "customers create with a bad country is INVALID_ARGUMENT, exit 3" \
  expect 3 customers create --source="$DS" --external-id=c-001 --country=Germany
check "  naming the field" stderr_has "^recurrentctl: INVALID_ARGUMENT: customer.country: "
check "customers create" expect 0 customers create --source="$DS" --external-id=c-001 \
  --name="Ada Lovelace" --email=ada@example.com --country=DE
check "  prints a table" header "^UUID +SOURCE +EXTERNAL ID +NAME +EMAIL +STATUS +MRR +TAGS +REASON$"
check "  and no instant (a write)" out_lacks "^As of"
check "  a lead" is "$(cell c-001 STATUS)" "lead"
check "  named" is "$(cell c-001 NAME)" "Ada Lovelace"
ADA=$(cell c-001 UUID)
check "invoices import from a file" expect 0 invoices import "$ADA" --file="$WORK/invoices.json"
check "  prints a table" header "^UUID +EXTERNAL ID +CUSTOMER +DATE +DUE DATE +AMOUNT +PAID +OPEN$"
check "  of 12 invoices" is "$(rows)" 12
check "  one of them unpaid" is "$(cell "INV-${UNPAID:0:7}" PAID)" "0.00 EUR"
check "  and open" is "$(cell "INV-${UNPAID:0:7}" OPEN)" "yes"
check "  the others closed" is "$(cell "INV-${MONTH:0:7}" OPEN)" "no"
check "  the others paid" is "$(cell "INV-${MONTH:0:7}" PAID)" "49.00 EUR"
UNPAID_INVOICE=$(cell "INV-${UNPAID:0:7}" UUID)
check "re-importing the same file is a no-op" \
  expect 0 invoices import "$ADA" --file="$WORK/invoices.json" -o json
check "  returning the stored invoices" is "$(js 'len(v["invoices"])')" 12
echo '[{"externalId": "X-1", "date": "2025-01-01T00:00:00Z", "currency": "EURO"}]' >"$WORK/bad.json"
check "a bad currency (bare array on stdin) is INVALID_ARGUMENT, exit 3" \
  expect 3 invoices import "$ADA" --file=- <"$WORK/bad.json"
check "  naming the field path" \
  stderr_has "^recurrentctl: INVALID_ARGUMENT: invoices\[0\]\.currency: must be an ISO 4217 code"
echo '{"invoices": [' >"$WORK/broken.json"
check "a file that is not JSON exits 1" expect 1 invoices import "$ADA" --file="$WORK/broken.json"
check "a missing file exits 1" expect 1 invoices import "$ADA" --file="$WORK/missing.json"
check "invoices list --customer" expect 0 invoices list --customer="$ADA" --page-size=5
check "  follows every page" is "$(rows)" 12
check "invoices get" expect 0 invoices get "$UNPAID_INVOICE" -o json
check "  returns the invoice" is "$(js 'v["externalId"]')" "INV-${UNPAID:0:7}"
check "  with its amounts" is "$(js 'v["amountDueInCents"], v["amountPaidInCents"], v["open"]')" \
  "('4900', '0', True)"
check "invoices list --open" expect 0 invoices list --customer="$ADA" --open
check "  prints the instant" raw_has "^As of now \([0-9-]+T[0-9:]+Z\)$"
check "  lists the unpaid invoice alone" is "$(rows)/$(cell "INV-${UNPAID:0:7}" OPEN)" "1/yes"
check "invoices list --open --as-of before it was issued" \
  expect 0 invoices list --customer="$ADA" --open --as-of="$BEFORE"
check "  prints the instant" raw_has "^As of $BEFORE$"
check "  lists none (later invoices were not issued yet)" is "$(rows)" 0
check "invoices list --open=false" expect 0 invoices list --customer="$ADA" --open=false -o json
check "  lists the paid ones only" \
  is "$(js 'sorted({i.get("open", False) for i in v["invoices"]}), len(v["invoices"]) > 1')" "([False], True)"

# Statuses at several instants, under KEEP.
check "subscriptions list --as-of before the unpaid invoice" \
  expect 0 subscriptions list "$ADA" --as-of="$BEFORE"
check "  prints a table" \
  header "^UUID +EXTERNAL ID +STATUS +MRR +STARTED +CURRENT PERIOD +PAST DUE SINCE +CANCELLED AT +REASON$"
check "  active" is "$(cell sub-pro STATUS)" "active"
check "  with its MRR" is "$(cell sub-pro MRR)" "49.00 EUR"
SUB=$(cell sub-pro UUID)
check "subscriptions list --as-of during the unpaid month" \
  expect 0 subscriptions list "$ADA" --as-of="${DURING}T12:00:00Z"
check "  past due" is "$(cell sub-pro STATUS)" "past-due"
check "  since the due date" is "$(cell sub-pro "PAST DUE SINCE")" "$UNPAID"
check "  keeping its MRR" is "$(cell sub-pro MRR)" "49.00 EUR"
check "subscriptions list now, as JSON" expect 0 subscriptions list "$ADA" -o json
check "  still past due (KEEP)" is "$(js 'v["subscriptions"][0]["status"]')" SUBSCRIPTION_STATUS_PAST_DUE
check "customers list --status=past-due --source" \
  expect 0 customers list --status=past-due --source="$DS"
check "  finds the customer" out_has "$ADA"
check "  with the reason of its subscription" \
  is "$(cell "$ADA" REASON | cut -c1-25)" "Subscription sub-pro: Pas"
check "customers list --status=active" expect 0 customers list --status=active
check "  does not" out_lacks "$ADA"
check "customers list --status=active --as-of before the unpaid invoice" \
  expect 0 customers list --status=active --as-of="$BEFORE"
check "  prints the instant" raw_has "^As of $BEFORE$"
check "  finds the customer active then" is "$(cell "$ADA" STATUS)" "active"
check "customers describe" expect 0 customers describe "$ADA"
check "  prints the instant" raw_has "^As of now "
check "  the status" is "$(cell Status VALUE)" "past-due"
check "  its reason" out_has "^Reason +Subscription sub-pro: Past due since $UNPAID"
check "  the subscription" out_has "sub-pro +past-due"
check "  and its events with the status they lead to" out_has "$UNPAID +past-due +past-due +sub_"
check "  and the customer's MRR" out_has "^MRR +49.00 EUR$"
check "customers describe --as-of before the first invoice" \
  expect 0 customers describe "$ADA" --as-of="$(day "$MONTH -2 years")"
check "  no MRR" out_has "^MRR +-$"
check "customers describe --as-of -o json" expect 0 customers describe "$ADA" --as-of="$BEFORE" -o json
check "  is one document" \
  is "$(js 'v["customer"]["status"], [s["status"] for s in v["subscriptions"]], [e["type"] for e in v["recentEvents"]]')" \
  "('CUSTOMER_STATUS_ACTIVE', ['SUBSCRIPTION_STATUS_ACTIVE'], ['SUBSCRIPTION_EVENT_TYPE_STARTED'])"
check "events --as-of during the unpaid month" expect 0 events "$ADA" --as-of="$DURING"
check "  prints the instant" raw_has "^As of $DURING$"
check "  prints a table" header "^OCCURRED AT +TYPE +STATUS AFTER +SUBSCRIPTION +EXTERNAL ID +CUSTOMER +UUID$"
check "  started, then past due" is "$(awk 'NR>1 {print $2}' <<<"$OUT" | xargs)" "started past-due"
check "  each with the status it leads to" is "$(awk 'NR>1 {print $3}' <<<"$OUT" | xargs)" "active past-due"
check "events --as-of before" expect 0 events "$ADA" --as-of="$BEFORE" -o json
check "  only started" is "$(js '[e["type"] for e in v["events"]]')" \
  "['SUBSCRIPTION_EVENT_TYPE_STARTED']"

# MRR under KEEP: the past-due subscription keeps contributing.
check "mrr get --source --as-of during the unpaid month" \
  expect 0 mrr get --source="$DS" --as-of="$DURING"
check "  prints the instant" raw_has "^As of $DURING$"
check "  prints a table" \
  header "^MRR +ACTIVE MRR +PAST-DUE MRR +ACTIVE CUSTOMERS +PAST-DUE CUSTOMERS$"
check "  all of it past due" \
  is "$(cell "49.00 EUR" "ACTIVE MRR")/$(cell "49.00 EUR" "PAST-DUE MRR")/$(cell "49.00 EUR" "PAST-DUE CUSTOMERS")" \
  "0.00 EUR/49.00 EUR/1"
check "  and the other counts" raw_has "^Lead customers: 0, cancelled customers: 0$"
check "mrr get --as-of before, as JSON (every source)" expect 0 mrr get --as-of="$BEFORE" -o json
check "  one active customer with EUR 49.00" \
  is "$(js '[(t["currency"], t["mrrInCents"], t["activeCustomers"]) for t in v["totals"]]')" \
  "[('EUR', '4900', '1')]"
check "mrr get of an unknown source is NOT_FOUND, exit 4" \
  expect 4 mrr get --source=ds_aaaaaaaaaaaaaaaaaaaa

# Auto-churn after 14 days: a dry run first, then for real.
check "settings set --dry-run" expect 0 settings set "$DS" --auto-churn-after=14 --dry-run
check "  shows the impact" header "^VERSION +PAST-DUE HANDLING +APPLIED AT +RESULT +REPROCESSED +CHURNS APPLIED .* +MRR CHANGE +CHURNED MRR$"
check "  one churn would be applied" is "$(cell "dry run" "CHURNS APPLIED")" 1
check "  by the proposed version 2" is "$(cell "dry run" VERSION)/$(cell "dry run" "PAST-DUE HANDLING")" \
  "2/auto-churn after 14 days"
check "settings set --dry-run --list-changes" \
  expect 0 settings set "$DS" --auto-churn-after=14 --dry-run --list-changes
check "  lists the subscription that would churn" \
  out_has "^$ADA +c-001 +sub_[a-z0-9]+ +sub-pro +past-due +[a-z-]+ +$(day "$UNPAID +14 days") +-$"
check "settings set --dry-run as JSON" \
  expect 0 settings set "$DS" --auto-churn-after=14 --dry-run -o json
check "  applied is false" is "$(js 'v["applied"]')" False
check "  impact" is "$(js 'v["impact"]["autoChurnsApplied"]')" 1
check "  the churn is over by now: MRR now does not change" \
  is "$(js 'v["impact"]["mrrChange"], v["impact"]["churnedMrr"]')" "([], [])"
check "settings get after the dry run" expect 0 settings get "$DS"
check "  unchanged" is "$(cell "$DS" "PAST-DUE HANDLING")/$(cell "$DS" VERSION)" "keep/1"
check "settings set --auto-churn-after=91 is INVALID_ARGUMENT" \
  expect 3 settings set "$DS" --auto-churn-after=91
check "settings set --auto-churn-after=14" expect 0 settings set "$DS" --auto-churn-after=14
check "  applied as version 2" is "$(cell applied VERSION)" 2
check "settings get" expect 0 settings get "$DS" -o json
check "  auto-churn after 14 days" \
  is "$(js 'v["pastDueHandling"]["mode"], v["pastDueHandling"]["autoChurnAfterDays"]')" \
  "('PAST_DUE_MODE_AUTO_CHURN', 14)"
check "settings history" expect 0 settings history "$DS"
check "  two versions" is "$(rows)" 2
check "  the second auto-churns" is "$(awk 'NR==3 {print $2, $3, $4, $5}' <<<"$OUT")" \
  "auto-churn after 14 days"
check "subscriptions list --as-of 20 days into the unpaid month" \
  expect 0 subscriptions list "$ADA" --as-of="$CHURNED"
check "  auto-churned" is "$(cell sub-pro STATUS)" "cancelled (auto-churned)"
check "  on day 14" is "$(cell sub-pro "CANCELLED AT")" "$(day "$UNPAID +14 days")"
check "events now" expect 0 events "$ADA"
check "  include the auto-churn" out_has " auto-churned "
REACTIVATED=$(day "$UNPAID +1 month")
check "mrr movements --customer" expect 0 mrr movements --customer="$ADA"
check "  prints a table" header "^OCCURRED AT +TYPE +CUSTOMER +SOURCE +CHANGE +MRR AFTER$"
# The last period ends next month: not renewed, it churns 14 days later
# (movements follow the known facts into the future, as statuses do).
check "  new business, the churn on day 14, the reactivation and the churn to come" \
  is "$(awk 'NR>1 {print $1, $2, $5, $6}' <<<"$OUT" | xargs)" \
  "$(day "$MONTH -11 months") new-business 49.00 EUR $(day "$UNPAID +14 days") churn -49.00 EUR $REACTIVATED reactivation 49.00 EUR $(day "$MONTH +1 month +14 days") churn -49.00 EUR"
check "mrr movements --limit=1" expect 0 mrr movements --source="$DS" --limit=1
check "  stops after the first" is "$(awk 'NR>1 {print $2}' <<<"$OUT" | xargs)" "new-business"
check "  and prints the next page's token" raw_has "^Next page: --page-token=[A-Za-z0-9_-]+$"
TOKEN=$(sed -n 's/^Next page: --page-token=//p' <<<"$RAW")
check "mrr movements --page-token continues there" \
  expect 0 mrr movements --source="$DS" --page-token="$TOKEN"
check "  with the rest" \
  is "$(awk 'NR>1 {print $2}' <<<"$OUT" | xargs)" "churn reactivation churn"
check "mrr movements --start --end" expect 0 mrr movements --customer="$ADA" \
  --start="$UNPAID" --end="$REACTIVATED" -o json
check "  only the churn" is "$(js '[(m["type"], m["mrrChangeInCents"]) for m in v["movements"]]')" \
  "[('MRR_MOVEMENT_TYPE_CHURN', '-4900')]"
check "mrr movements with --end before --start is INVALID_ARGUMENT, exit 3" \
  expect 3 mrr movements --start="$REACTIVATED" --end="$UNPAID"
check "  naming the field" stderr_has "^recurrentctl: INVALID_ARGUMENT: end_time: "
SERIES=(mrr series --source="$DS" --start="$(day "$MONTH -11 months")"
        --end="$(day "$MONTH +1 month")" --interval=month)
check "mrr series --interval=month" expect 0 "${SERIES[@]}"
check "  prints a table" \
  header "^START +MRR +NEW BUSINESS +EXPANSION +CONTRACTION +CHURN +REACTIVATION +LEADS +ACTIVE +PAST DUE +CANCELLED$"
check "  a row per month" is "$(rows)" 12
check "  new business in the first" is "$(cell "$(day "$MONTH -11 months")" "NEW BUSINESS")" "49.00 EUR"
check "  the churn in the unpaid month" \
  is "$(cell "$UNPAID" CHURN)/$(cell "$UNPAID" MRR)/$(cell "$UNPAID" CANCELLED)" "-49.00 EUR/0.00 EUR/1"
check "  the reactivation in the next" \
  is "$(cell "$REACTIVATED" REACTIVATION)/$(cell "$REACTIVATED" MRR)/$(cell "$REACTIVATED" ACTIVE)" \
  "49.00 EUR/49.00 EUR/1"
check "mrr series --chart" expect 0 "${SERIES[@]}" --chart
check "  adds the chart of EUR" raw_has "^MRR EUR$"
CHART=$(sed -n '/^MRR EUR$/,$p' <<<"$RAW")
check "  a bar per month" is "$(grep -c '^[0-9]' <<<"$CHART")" 12
# 60 columns less the date (10), the amount (9) and two gaps of 2: 37.
check "  full while there is MRR" grep -Eq "^$REACTIVATED  (█){37}  49.00 EUR$" <<<"$CHART"
check "  and none in the unpaid month" grep -Eq "^$UNPAID +0.00 EUR$" <<<"$CHART"
check "  within 60 columns" \
  is "$(python3 -c 'import sys; print(max(len(l) for l in sys.argv[1].splitlines()))' "$CHART")" 60
check "mrr series of more than 1,000 days is INVALID_ARGUMENT, exit 3" \
  expect 3 mrr series --start=2020-01-01 --end=2024-01-01 --interval=day
check "settings reprocess" expect 0 settings reprocess "$DS"
check "  prints the impact" header "^REPROCESSED +CHURNS APPLIED +CHURNS REVERSED +STATUS CHANGES$"
check "settings set --keep reverses it" expect 0 settings set "$DS" --keep
check "  churns reversed" is "$(cell applied "CHURNS REVERSED")" 1
check "mrr movements after the reversal" expect 0 mrr movements --customer="$ADA"
check "  the churn and the reactivation are gone" is "$(awk 'NR>1 {print $2}' <<<"$OUT" | xargs)" \
  "new-business"
check "subscriptions list --as-of 20 days in, under KEEP again" \
  expect 0 subscriptions list "$ADA" --as-of="$CHURNED"
check "  past due again" is "$(cell sub-pro STATUS)" "past-due"

# The late payment.
check "invoices pay with a bad date is a usage error" \
  expect 2 invoices pay "$UNPAID_INVOICE" --external-id=TR-LATE --at=soon
check "invoices pay" \
  expect 0 invoices pay "$UNPAID_INVOICE" --external-id=TR-LATE --at="$CHURNED"
check "  prints the transaction" header "^UUID +EXTERNAL ID +INVOICE +TYPE +RESULT +DATE +AMOUNT$"
check "  a successful payment" is "$(cell TR-LATE TYPE)/$(cell TR-LATE RESULT)" "payment/successful"
check "  then the invoice, paid" out_has "^$UNPAID_INVOICE +INV-${UNPAID:0:7} .* 49.00 EUR +49.00 EUR +no$"
check "  and the subscription's status now" out_has "^sub_[a-z0-9]+ +sub-pro +active "
check "paying again with the same transaction is a no-op" \
  expect 0 invoices pay "$UNPAID_INVOICE" --external-id=TR-LATE --at="$CHURNED"
check "the same id with another amount is ALREADY_EXISTS, exit 5" \
  expect 5 invoices pay "$UNPAID_INVOICE" --external-id=TR-LATE --at="$CHURNED" --amount-cents=100
check "paying an unknown invoice is NOT_FOUND, exit 4" \
  expect 4 invoices pay inv_aaaaaaaaaaaaaaaaaaaa --external-id=TR-X
check "invoices get" expect 0 invoices get "$UNPAID_INVOICE"
check "  paid" is "$(cell "$UNPAID_INVOICE" PAID)" "49.00 EUR"
check "subscriptions list now" expect 0 subscriptions list "$ADA"
check "  active" is "$(cell sub-pro STATUS)" "active"
check "customers get" expect 0 customers get "$ADA"
check "  active" is "$(cell "$ADA" STATUS)" "active"
check "customers get --as-of during the unpaid month" expect 0 customers get "$ADA" --as-of="$DURING"
check "  past due" is "$(cell "$ADA" STATUS)" "past-due"
check "events now" expect 0 events "$ADA"
check "  past due, then recovered" out_has " recovered "

# An explicit cancellation.
check "cancelling before the start is FAILED_PRECONDITION, exit 6" \
  expect 6 subscriptions cancel "$SUB" --at=2000-01-01
check "  with the code name" stderr_has "^recurrentctl: FAILED_PRECONDITION: "
check "cancelling an unknown subscription is NOT_FOUND" \
  expect 4 subscriptions cancel sub_aaaaaaaaaaaaaaaaaaaa
TODAY=$(date -u +%Y-%m-%d)
check "subscriptions cancel --at today" expect 0 subscriptions cancel "$SUB" --at="$TODAY"
check "  cancelled" is "$(cell sub-pro STATUS)" "cancelled"
check "  at the date given" is "$(cell sub-pro "CANCELLED AT")" "$TODAY"
check "  with no MRR left" is "$(cell sub-pro MRR)" "0.00 EUR"
check "customers list --status=cancelled" expect 0 customers list --status=cancelled
check "  finds the customer" is "$(cell "$ADA" STATUS)" "cancelled"

# Update, tags, merge.
check "customers create a second customer" \
  expect 0 customers create --source="$DS" --external-id=c-002 --name=Bob -o json
BOB=$(js 'v["uuid"]')
check "customers update --email changes only the email" \
  expect 0 customers update "$BOB" --email=bob@example.com --city=Berlin -o json
check "  email set" is "$(js 'v["email"], v["city"], v["name"]')" "('bob@example.com', 'Berlin', 'Bob')"
check "customers update without fields is a usage error" expect 2 customers update "$BOB"
check "customers update --lead-created-at sets it" \
  expect 0 customers update "$BOB" --lead-created-at=2025-01-02 -o json
check "  set" is "$(js 'v.get("leadCreatedAt")')" "2025-01-02T00:00:00Z"
check "customers update --lead-created-at= clears it" \
  expect 0 customers update "$BOB" --lead-created-at= -o json
check "  cleared" is "$(js 'v.get("leadCreatedAt")')" "None"
check "customers list --email" expect 0 customers list --email=bob@example.com
check "  finds only Bob" is "$(rows)/$(cell c-002 NAME)" "1/Bob"
echo "[{\"externalId\": \"B-1\", \"date\": \"${MONTH}T00:00:00Z\", \"currency\": \"EUR\",
  \"lineItems\": [{\"externalId\": \"BLI-1\", \"type\": \"LINE_ITEM_TYPE_ONE_TIME\",
  \"amountInCents\": 1500, \"quantity\": 1}]}]" >"$WORK/bob.json"
check "invoices import a bare array from stdin" expect 0 invoices import "$BOB" --file=- <"$WORK/bob.json"
check "  one invoice" is "$(cell B-1 AMOUNT)" "15.00 EUR"
check "customers tag" expect 0 customers tag "$BOB" vip enterprise
check "  shows the tags (sorted)" is "$(cell c-002 TAGS)" "enterprise,vip"
check "customers untag" expect 0 customers untag "$BOB" enterprise
check "  leaves the other" is "$(cell c-002 TAGS)" "vip"
check "customers tag without a tag is a usage error" expect 2 customers tag "$BOB"
check "customers merge without --into is a usage error" expect 2 customers merge --from="$BOB"
check "customers merge" expect 0 customers merge --from="$BOB" --into="$ADA"
check "  keeps both external ids" is "$(cell "$ADA" "EXTERNAL ID")" "c-001,c-002"
check "  and Bob's tag" is "$(cell "$ADA" TAGS)" "vip"
check "the merged-away customer is NOT_FOUND" expect 4 customers get "$BOB"
check "customers list --external-id finds the merged customer" \
  expect 0 customers list --external-id=c-002 -o json
check "  under Ada" is "$(js '[c["uuid"] for c in v["customers"]]')" "['$ADA']"
check "invoices list --customer shows Bob's invoice under Ada" \
  expect 0 invoices list --customer="$ADA" --external-id=B-1
check "  one" is "$(rows)" 1

# Paging: a second source with 7 customers.
check "sources create a second source" expect 0 sources create --name="Chargebee EU" -o json
DS2=$(js 'v["uuid"]')
for i in 1 2 3 4 5 6 7; do
  expect 0 customers create --source="$DS2" --external-id="p-$i" || fail "create p-$i"
done
check "customers list --page-size=2 follows every page" \
  expect 0 customers list --source="$DS2" --page-size=2
check "  7 customers" is "$(rows)" 7
check "  in creation order" is "$(awk 'NR>1 {print $3}' <<<"$OUT" | xargs)" \
  "p-1 p-2 p-3 p-4 p-5 p-6 p-7"
check "customers list --limit=3" expect 0 customers list --source="$DS2" --limit=3
check "  stops at 3" is "$(awk 'NR>1 {print $3}' <<<"$OUT" | xargs)" "p-1 p-2 p-3"
check "  and prints the next page's token" raw_has "^Next page: --page-token=[A-Za-z0-9_-]+$"
TOKEN=$(sed -n 's/^Next page: --page-token=//p' <<<"$RAW")
check "customers list --page-token continues after p-3" \
  expect 0 customers list --source="$DS2" --page-token="$TOKEN" --limit=2 --page-size=3
check "  with p-4 and p-5" is "$(awk 'NR>1 {print $3}' <<<"$OUT" | xargs)" "p-4 p-5"
check "  and the token after p-5" raw_has "^Next page: "
check "customers list to the end prints no token" \
  expect 0 customers list --source="$DS2" --page-token="$TOKEN"
check "  p-4 to p-7" is "$(awk 'NR>1 {print $3}' <<<"$OUT" | xargs)" "p-4 p-5 p-6 p-7"
check "  and no next page" bash -c "! grep -q '^Next page' <<<'$RAW'"
check "a bad --page-token is INVALID_ARGUMENT, exit 3" \
  expect 3 customers list --source="$DS2" --page-token=garbage
check "customers list --limit=5 --page-size=2 -o json" \
  expect 0 customers list --source="$DS2" --limit=5 --page-size=2 -o json
check "  is one JSON document with 5 customers" \
  is "$(js '[c["externalId"] for c in v["customers"]]')" "['p-1', 'p-2', 'p-3', 'p-4', 'p-5']"
check "  and the next page's token" is "$(js 'len(v["nextPageToken"]) > 0')" True
check "sources list" expect 0 sources list
check "  both sources" is "$(rows)" 2
check "sources list --limit=1" expect 0 sources list --limit=1
check "  the first" is "$(rows)/$(cell Stripe NAME)" "1/Stripe"
check "events --source --limit=2" expect 0 events --source="$DS" --limit=2 -o json
check "  two events" is "$(js 'len(v["events"])')" 2

# Deletes.
check "invoices delete" expect 0 invoices delete "$UNPAID_INVOICE"
check "  is gone" expect 4 invoices get "$UNPAID_INVOICE"
check "customers delete" expect 0 customers delete "$ADA"
check "  is gone" expect 4 customers get "$ADA"
check "customers delete again is NOT_FOUND" expect 4 customers delete "$ADA"
check "sources delete" expect 0 sources delete "$DS2" -o json
check "  prints {} as JSON" is "$(js 'v')" "{}"
check "customers list" expect 0 customers list
check "  no customers are left" is "$(rows)" 0
check "sources get of the deleted source is NOT_FOUND" expect 4 sources get "$DS2"

# "Worth retrying" (7) follows the server's RetryInfo, not the code: a
# SQLite file deleted under the server refuses writes with UNAVAILABLE that
# no retry cures (DATABASE_REPLACED), so exit 8.
if [ "$E2E_BACKEND" != postgres ]; then
  rm -f "$DB"
  check "a write after the database file is deleted exits 8, not 7" \
    expect 8 sources create --name=Late
  check "  UNAVAILABLE with the reason and no retry delay" \
    stderr_has "^recurrentctl: UNAVAILABLE: .* \(reason DATABASE_REPLACED\)$"
  ctl sources create --name=Late -o json
  check "  in JSON: not retryable" \
    is "$RC/$(python3 -c 'import json,sys; e=json.loads(sys.argv[1])["error"]; print(e["reason"], e["retryable"], "retryDelay" in e)' "$ERR")" \
    "8/DATABASE_REPLACED False False"
fi
echo "recurrentctl_test: all checks passed"
