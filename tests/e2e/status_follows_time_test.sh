#!/usr/bin/env bash
# Real time, no writes: an invoice falls due while nobody calls, and
# ListCustomers(status=PAST_DUE) shows the customer within seconds (the
# background re-evaluator). Driven through reflection with buf curl.
#   status_follows_time_test.sh PATH_TO_RECURRENTD PATH_TO_BUF
RECURRENTD=$1
BUF=$2
source "$(dirname "$0")/lib.sh"
[ -x "$BUF" ] || fail "buf not found at $BUF (run scripts/install-deps --tools)"

e2e_db recurrent
start_server timely --db="$DB" --reevaluate_interval=200ms
ADDR="http://127.0.0.1:$PORT"
call() { "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$2" "$ADDR/recurrent.v1.$1"; }
json() { python3 -c 'import json,sys; v=json.load(sys.stdin); print(eval("v"+sys.argv[1]))' "$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

ds=$(call SourceSettingsService/CreateDataSource '{"name": "Stripe"}' | json '["uuid"]')
cus=$(call CustomerService/CreateCustomer "{\"customer\": {\"dataSourceUuid\": \"$ds\", \"externalId\": \"c1\"}}" | json '["uuid"]')
now=$(date -u +%s)
# Far enough for the calls below to run before it on a loaded machine
# (each buf curl takes about a second there).
due=$((now + 8))
call InvoiceService/ImportInvoices "{\"customerUuid\": \"$cus\", \"invoices\": [{
  \"externalId\": \"INV-1\", \"date\": \"$(iso $((now - 86400)))\", \"dueDate\": \"$(iso $due)\",
  \"currency\": \"EUR\", \"lineItems\": [{\"externalId\": \"LI-1\", \"type\": \"LINE_ITEM_TYPE_SUBSCRIPTION\",
  \"subscriptionExternalId\": \"sub-1\", \"servicePeriodStart\": \"$(iso $((now - 86400)))\",
  \"servicePeriodEnd\": \"$(iso $((now + 30 * 86400)))\", \"amountInCents\": \"4900\", \"quantity\": 1}]}]}" >/dev/null

list() { call CustomerService/ListCustomers "{\"status\": \"$1\"}"; }
check "active before the due date" grep -q "$cus" <<<"$(list CUSTOMER_STATUS_ACTIVE)"
check "not past due before the due date" test -z "$(list CUSTOMER_STATUS_PAST_DUE | grep "$cus" || true)"

# Wait for the due date, then at most 3 s more.
while [ "$(date -u +%s)" -lt "$due" ]; do sleep 0.2; done
seen=""
for _ in $(seq 1 15); do
  if grep -q "$cus" <<<"$(list CUSTOMER_STATUS_PAST_DUE)"; then seen=yes; break; fi
  sleep 0.2
done
check "past due within 3 s of the due date, with no writes" test -n "$seen"
echo "status_follows_time_test: all checks passed"
