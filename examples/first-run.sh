#!/usr/bin/env bash
# The README's first run, end to end, with recurrentctl against a running
# server: a data source, four customers and their invoices (invoices/), the
# statuses now and in the past, a dry run and then auto-churn, events, MRR
# and a tag, the switch back and its reversal, a late payment, and the settings
# history. Every command is printed before its output.
#
#   scripts/serve &                 # or any recurrentd on a fresh database
#   examples/first-run.sh
#
# RECURRENT_ADDR is the server (default 127.0.0.1:50051); RECURRENTCTL the
# client (default build/clients/recurrentctl; RECURRENTCTL=recurrentctl for
# an installed one). The test e2e_first_run runs
# this script as it is.
set -euo pipefail
CTL=${RECURRENTCTL:-$(dirname "$0")/../build/clients/recurrentctl}
# A path is made absolute (the script changes folder); a bare name, such as
# an installed recurrentctl, is looked up on PATH.
case $CTL in */*) CTL=$(realpath "$CTL") ;; esac
cd "$(dirname "$0")"

# ctl ARGS...: prints the command, then runs it.
ctl() {
  echo "\$ recurrentctl $*"
  "$CTL" "$@"
  echo
}
# created ARGS...: runs a create command; prints the new resource's uuid.
created() {
  "$CTL" "$@" --output=json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])'
}
step() { printf '== %s\n\n' "$*"; }

step "1. A data source (keep past-due subscriptions: the default) and four customers"
DS=$(created sources create --name=Stripe --system=stripe)
declare -A CUS
for customer in ada ben cleo dan; do
  CUS[$customer]=$(created customers create --source="$DS" \
    --external-id="$customer" --name="${customer^}")
done
ctl sources get "$DS"

step "2. Their invoices: monthly EUR 49 from January 2025"
# ada pays January-June on time; ben too, except March, which he pays
# late in step 8; cleo pays January-March, then no April invoice comes;
# dan never pays.
for customer in ada ben cleo dan; do
  ctl invoices import "${CUS[$customer]}" --file="invoices/$customer.json"
done

step "3. Statuses now: every history ended in 2025, so nothing was renewed"
ctl customers list --source="$DS"

step "4. Statuses on 15 April 2025, while the histories were running"
ctl customers list --source="$DS" --as-of=2025-04-15
ctl customers describe "${CUS[cleo]}" --as-of=2025-04-15

step "5. What auto-churn after 14 days past due would change (a dry run)"
ctl settings set "$DS" --auto-churn-after=14 --dry-run --list-changes

step "6. Apply it: past-due subscriptions are cancelled 14 days in"
ctl settings set "$DS" --auto-churn-after=14
ctl customers list --source="$DS"
ctl events "${CUS[cleo]}"
ctl customers tag "${CUS[dan]}" dunning-sent
# MRR follows: each automatic cancellation is a churn, ben's April renewal
# a reactivation.
ctl mrr movements --source="$DS"
ctl mrr series --source="$DS" --start=2025-01-01 --end=2025-09-01 --interval=month --chart

step "7. Switch back to keep: the automatic cancellations are reversed"
ctl settings set "$DS" --keep
ctl events "${CUS[cleo]}"

step "8. ben pays March late, on 21 March 2025"
ctl events "${CUS[ben]}"
INVOICE=$("$CTL" invoices list --customer="${CUS[ben]}" --external-id=ben-inv-2025-03 \
  --output=json | python3 -c 'import json, sys; print(json.load(sys.stdin)["invoices"][0]["uuid"])')
ctl invoices pay "$INVOICE" --external-id=ben-pay-2025-03 --at=2025-03-21
ctl events "${CUS[ben]}"

step "9. The settings history of the source"
ctl settings history "$DS"
