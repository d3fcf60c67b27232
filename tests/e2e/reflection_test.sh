#!/usr/bin/env bash
# The terminal experience with no proto files: a reflection-based client (buf
# curl, standing in for grpcurl, which is not packaged here) lists the
# services and calls them with JSON.
#   reflection_test.sh PATH_TO_RECURRENTD PATH_TO_BUF
RECURRENTD=$1
BUF=$2
source "$(dirname "$0")/lib.sh"
[ -x "$BUF" ] || fail "buf not found at $BUF (run scripts/install-deps --tools)"

e2e_db recurrent
start_server reflection --db="$DB"
ADDR="http://127.0.0.1:$PORT"
call() {  # call Service/Method JSON
  "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$2" "$ADDR/recurrent.v1.$1"
}
json() {  # json FIELD < JSON
  python3 -c 'import json,sys; v=json.load(sys.stdin); print(eval("v"+sys.argv[1]))' "$1"
}

services=$("$BUF" curl --protocol grpc --http2-prior-knowledge --list-services "$ADDR")
for s in recurrent.v1.CustomerService recurrent.v1.InvoiceService recurrent.v1.MetricsService \
         recurrent.v1.SourceSettingsService recurrent.v1.ChangeFeedService \
         grpc.health.v1.Health; do
  check "list shows $s" grep -qx "$s" <<<"$services"
done
methods=$("$BUF" curl --protocol grpc --http2-prior-knowledge --list-methods "$ADDR")
check "methods include UpdateSettings" \
  grep -qx "recurrent.v1.SourceSettingsService/UpdateSettings" <<<"$methods"

source_json=$(call SourceSettingsService/CreateDataSource '{"name": "Stripe", "system": "stripe"}')
ds=$(json '["uuid"]' <<<"$source_json")
check "CreateDataSource returns a ds_ id" grep -q '^ds_' <<<"$ds"
check "new source keeps past-due subscriptions" \
  test "$(json '["settings"]["pastDueHandling"]["mode"]' <<<"$source_json")" = PAST_DUE_MODE_KEEP

customer_json=$(call CustomerService/CreateCustomer \
  "{\"customer\": {\"dataSourceUuid\": \"$ds\", \"externalId\": \"cus_001\", \"name\": \"Ada\", \"country\": \"GB\"}}")
cus=$(json '["uuid"]' <<<"$customer_json")
check "CreateCustomer returns a cus_ id" grep -q '^cus_' <<<"$cus"
check "a new customer is a lead" \
  test "$(json '["status"]' <<<"$customer_json")" = CUSTOMER_STATUS_LEAD

list_json=$(call CustomerService/ListCustomers "{\"dataSourceUuid\": \"$ds\", \"status\": \"CUSTOMER_STATUS_LEAD\"}")
check "ListCustomers finds the customer" \
  test "$(json '["customers"][0]["uuid"]' <<<"$list_json")" = "$cus"

rc=0
err=$(call CustomerService/CreateCustomer "{\"customer\": {\"dataSourceUuid\": \"$ds\", \"externalId\": \"cus_001\"}}" 2>&1) || rc=$?
check "a duplicate customer fails" test "$rc" -ne 0
check "the error is ALREADY_EXISTS" grep -q "already_exists" <<<"$err"

health=$("$BUF" curl --protocol grpc --http2-prior-knowledge -d '{"service": ""}' "$ADDR/grpc.health.v1.Health/Check")
check "health check says SERVING" grep -q SERVING <<<"$health"

preview=$(call SourceSettingsService/UpdateSettings \
  "{\"dataSourceUuid\": \"$ds\", \"dryRun\": true, \"pastDueHandling\": {\"mode\": \"PAST_DUE_MODE_AUTO_CHURN\", \"autoChurnAfterDays\": 14}}")
check "a dry run applies nothing" \
  test "$(json '.get("applied", False)' <<<"$preview")" = False
rc=0
err=$(call SourceSettingsService/UpdateSettings \
  "{\"dataSourceUuid\": \"$ds\", \"pastDueHandling\": {\"mode\": \"PAST_DUE_MODE_AUTO_CHURN\", \"autoChurnAfterDays\": 120}}" 2>&1) || rc=$?
check "120 days is refused" test "$rc" -ne 0
check "the error names the field and carries a BadRequest" \
  bash -c 'grep -q "past_due_handling.auto_churn_after_days" <<<"$1" && grep -q "google.rpc.BadRequest" <<<"$1"' _ "$err"
settings_json=$(call SourceSettingsService/UpdateSettings \
  "{\"dataSourceUuid\": \"$ds\", \"pastDueHandling\": {\"mode\": \"PAST_DUE_MODE_AUTO_CHURN\", \"autoChurnAfterDays\": 14}}")
check "UpdateSettings bumps the version" \
  test "$(json '["settings"]["version"]' <<<"$settings_json")" = 2
history=$(call SourceSettingsService/ListSettingsHistory "{\"dataSourceUuid\": \"$ds\"}")
check "the history has both versions" test "$(json '["versions"].__len__()' <<<"$history")" = 2
# The docs/grpcurl.md walkthrough: import an unpaid invoice, read statuses at an
# instant, pay it late, read again.
import_json=$(call InvoiceService/ImportInvoices "{\"customerUuid\": \"$cus\", \"invoices\": [{
    \"externalId\": \"INV-2025-02\", \"date\": \"2025-02-01T00:00:00Z\",
    \"dueDate\": \"2025-02-01T00:00:00Z\", \"currency\": \"EUR\",
    \"lineItems\": [{\"externalId\": \"LI-2025-02\", \"type\": \"LINE_ITEM_TYPE_SUBSCRIPTION\",
      \"subscriptionExternalId\": \"sub_001\", \"planExternalId\": \"pro-monthly\",
      \"servicePeriodStart\": \"2025-02-01T00:00:00Z\",
      \"servicePeriodEnd\": \"2025-03-01T00:00:00Z\",
      \"amountInCents\": \"4900\", \"quantity\": 1}]}]}")
inv=$(json '["invoices"][0]["uuid"]' <<<"$import_json")
check "ImportInvoices returns an inv_ id" grep -q '^inv_' <<<"$inv"
subs_json=$(call CustomerService/ListSubscriptions "{\"customerUuid\": \"$cus\", \"asOf\": \"2025-02-10T00:00:00Z\"}")
check "past due on Feb 10" \
  test "$(json '["subscriptions"][0]["status"]' <<<"$subs_json")" = SUBSCRIPTION_STATUS_PAST_DUE
check "the reason names the invoice" grep -q "INV-2025-02" <<<"$(json '["subscriptions"][0]["statusReason"]' <<<"$subs_json")"
call InvoiceService/AddTransaction "{\"invoiceUuid\": \"$inv\", \"transaction\": {
    \"externalId\": \"TR-1\", \"type\": \"TRANSACTION_TYPE_PAYMENT\",
    \"result\": \"TRANSACTION_RESULT_SUCCESSFUL\", \"date\": \"2025-02-20T00:00:00Z\"}}" >/dev/null
events_json=$(call CustomerService/ListSubscriptionEvents "{\"customerUuid\": \"$cus\", \"asOf\": \"2025-02-25T00:00:00Z\"}")
types=$(python3 -c 'import json,sys; print(" ".join(e["type"] for e in json.load(sys.stdin)["events"]))' <<<"$events_json")
check "events: started past due, recovered by the late payment" \
  test "$types" = "SUBSCRIPTION_EVENT_TYPE_STARTED SUBSCRIPTION_EVENT_TYPE_RECOVERED"
customer_now=$(call CustomerService/GetCustomer "{\"uuid\": \"$cus\", \"asOf\": \"2025-02-25T00:00:00Z\"}")
check "the customer is active after paying" \
  test "$(json '["status"]' <<<"$customer_now")" = CUSTOMER_STATUS_ACTIVE

# MRR (docs/grpcurl.md "Read MRR"): EUR 49.00 from February; February's
# period is not renewed, so auto-churn after 14 days ends it on 15 March.
mrr_json=$(call MetricsService/GetMrr "{\"dataSourceUuid\": \"$ds\", \"asOf\": \"2025-02-25T00:00:00Z\"}")
check "GetMrr: EUR 49.00, active" \
  test "$(json '["totals"]' <<<"$mrr_json")" = "[{'currency': 'EUR', 'mrrInCents': '4900', 'activeMrrInCents': '4900', 'activeCustomers': '1'}]"
movements_json=$(call MetricsService/ListMrrMovements "{\"dataSourceUuid\": \"$ds\", \"pageSize\": 50}")
check "ListMrrMovements: new business, then the churn" \
  test "$(python3 -c 'import json,sys; print(" ".join("%s@%s:%s" % (m["type"], m["occurredAt"][:10], m["mrrChangeInCents"]) for m in json.load(sys.stdin)["movements"]))' <<<"$movements_json")" \
  = "MRR_MOVEMENT_TYPE_NEW_BUSINESS@2025-02-01:4900 MRR_MOVEMENT_TYPE_CHURN@2025-03-15:-4900"
series_json=$(call MetricsService/GetMrrSeries "{\"dataSourceUuid\": \"$ds\", \"startTime\": \"2025-01-01T00:00:00Z\",
    \"endTime\": \"2025-04-01T00:00:00Z\", \"interval\": \"SERIES_INTERVAL_MONTH\"}")
check "GetMrrSeries: a point per month, MRR after each" \
  test "$(python3 -c 'import json,sys; print([(p["startTime"][:10], [t.get("mrrInCents", "0") for t in p.get("totals", [])]) for p in json.load(sys.stdin)["points"]])' <<<"$series_json")" \
  = "[('2025-01-01', []), ('2025-02-01', ['4900']), ('2025-03-01', ['0'])]"

# The change feed (docs/grpcurl.md "Follow the change feed"): a page, then a
# stream from the start of the log, cut after 3 s.
changes_json=$(call ChangeFeedService/ListChanges "{\"dataSourceUuid\": \"$ds\", \"pageSize\": 10}")
check "ListChanges returns the published events" \
  grep -q CHANGE_TYPE_EVENT_PUBLISHED <<<"$changes_json"
first=$(json '["changes"][0]["cursor"]' <<<"$changes_json")
watch_out=$(timeout 3 "$BUF" curl --protocol grpc --http2-prior-knowledge \
  -d "{\"dataSourceUuid\": \"$ds\", \"afterCursor\": \"$first\"}" \
  "$ADDR/recurrent.v1.ChangeFeedService/WatchChanges" 2>&1 || true)
second=$(json '["changes"][1]["cursor"]' <<<"$changes_json")
check "WatchChanges streams the changes after the cursor" \
  grep -q "\"cursor\": \"$second\"" <<<"$watch_out"
echo "reflection_test: all checks passed"
