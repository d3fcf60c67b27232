#!/usr/bin/env bash
# A read-only recurrentd on a PostgreSQL hot standby (docs/deployment.md):
#  1. a writable recurrentd on a fresh database of RECURRENT_PG_URI's server
#     (the primary): a source, customers with invoices (examples/invoices);
#  2. a streaming standby of that server (pg_basebackup -R, started on a
#     port of its own, removed at the end);
#  3. recurrentd without --read_only on the standby refuses to start, naming
#     the flag; with it, it serves: the same statuses as the primary, now and
#     at an --as-of; a customer then written on the primary is seen;
#  4. writes to the read-only replica fail with FAILED_PRECONDITION
#     (recurrentctl exit 6) and change nothing;
#  5. with the standby's replay paused, a change cursor of the primary is
#     CHANGE_LOG_BEHIND (exit 7, worth retrying), and served after.
#   read_replica_test.sh PATH_TO_RECURRENTD PATH_TO_RECURRENTCTL
# Needs RECURRENT_PG_URI (scripts/with-postgres); skipped without it (77).
RECURRENTD=$1
CTL=$2
if [ -z "${RECURRENT_PG_URI:-}" ]; then
  echo "SKIP: RECURRENT_PG_URI not set (run under scripts/with-postgres)"
  exit 77
fi
export RECURRENT_E2E_BACKEND=postgres  # e2e_db makes a PostgreSQL database
source "$(dirname "$0")/lib.sh"
# Its waits are for the standby's replay, which falls behind while the rest
# of the suite loads the shared PostgreSQL server and both cores (a run took
# over 20 s once).
EVENTUALLY_SECONDS=60
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RECURRENT_PG_BIN:-/usr/lib/postgresql/15/bin}
unset RECURRENT_ADDR

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
STANDBY=$(mktemp -d /tmp/recurrent-standby.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$STANDBY"; fi
stop_standby() {
  as_postgres "$BIN/pg_ctl" -D "$STANDBY/data" -m immediate -w stop \
    >/dev/null 2>&1 || true
  rm -rf "$STANDBY"
}
trap 'stop_standby; cleanup' EXIT

ctl() {  # ctl ADDR ARGS...: recurrentctl; sets RC, OUT, ERR
  local addr=$1; shift
  RC=0
  "$CTL" --addr="$addr" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}
uuid() { python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])' <<<"$OUT"; }
# statuses ADDR [--as-of=DATE]: "external_id status" lines, sorted.
statuses() {
  local addr=$1; shift
  ctl "$addr" customers list --source="$DS" --output=json "$@"
  [ "$RC" = 0 ] || { echo "customers list: exit $RC: $ERR" >&2; return 1; }
  python3 -c '
import json, sys
for c in json.load(sys.stdin)["customers"]:
    print(c["externalId"], c["status"])' <<<"$OUT" | sort
}

# 1. The primary and its writable replica.
e2e_db replica
PRIMARY_DB=$DB
start_server primary --db="$PRIMARY_DB"
PRIMARY=127.0.0.1:$PORT
ctl "$PRIMARY" sources create --name=Stripe --system=stripe --output=json
[ "$RC" = 0 ] || fail "sources create: $ERR"
DS=$(uuid)
for customer in ada ben cleo dan; do
  ctl "$PRIMARY" customers create --source="$DS" --external-id="$customer" --output=json
  [ "$RC" = 0 ] || fail "customers create: $ERR"
  ctl "$PRIMARY" invoices import "$(uuid)" --file="$ROOT/examples/invoices/$customer.json"
  [ "$RC" = 0 ] || fail "invoices import: $ERR"
done

# 2. A streaming standby of the primary's server.
PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The primary's connection without a database: pg_basebackup's -d takes a
# URI, and copies the whole server.
as_postgres "$BIN/pg_basebackup" -d "${RECURRENT_PG_URI%/*}" \
  -D "$STANDBY/data" -R -X stream -c fast >"$WORK/basebackup.log" 2>&1 ||
  { cat "$WORK/basebackup.log" >&2; fail "pg_basebackup failed"; }
as_postgres "$BIN/pg_ctl" -D "$STANDBY/data" -l "$STANDBY/server.log" -w \
  -o "-p $PG_PORT -k $STANDBY -c listen_addresses=127.0.0.1 -c hot_standby=on" \
  start >/dev/null || { cat "$STANDBY/server.log" >&2; fail "the standby did not start"; }
# The primary's URI with the standby's port: postgresql://USER@HOST:PORT/DB.
USER_AT=${RECURRENT_PG_URI#postgresql://}
USER_AT=${USER_AT%%@*}
STANDBY_DB="postgresql://$USER_AT@127.0.0.1:$PG_PORT/${PRIMARY_DB##*/}"
check "the standby is in recovery" \
  [ "$("$PSQL" -X -At -d "$STANDBY_DB" -c 'SELECT pg_is_in_recovery()')" = t ]

# 3. recurrentd on the standby.
RC=0
"$RECURRENTD" --listen=127.0.0.1:0 --db="$STANDBY_DB" >"$WORK/writable.log" 2>&1 || RC=$?
check "without --read_only, recurrentd refuses the standby (exit $RC)" \
  [ "$RC" -ne 0 ]
check "and says to use --read_only" \
  grep -q "hot standby.*--read_only" "$WORK/writable.log"

start_server standby --db="$STANDBY_DB" --read_only
REPLICA=127.0.0.1:$PORT
check "the ready line says read-only" grep -q "read-only" "$WORK/standby.log"
same_statuses() {
  local want got
  want=$(statuses "$PRIMARY" "$@") || return 1
  got=$(statuses "$REPLICA" "$@") || return 1
  [ -n "$want" ] && [ "$want" = "$got" ] ||
    { echo "primary: $want / read-only: $got" >&2; return 1; }
}
check "the read-only replica lists the primary's statuses now" same_statuses
check "and on 15 April 2025" same_statuses --as-of=2025-04-15

ctl "$PRIMARY" customers create --source="$DS" --external-id=eve --output=json
[ "$RC" = 0 ] || fail "customers create eve: $ERR"
EVE=$(uuid)
# ok_on ADDR ARGS...: recurrentctl succeeds (else says why on stderr).
ok_on() {
  ctl "$@"
  [ "$RC" = 0 ] || { echo "$2 $3: exit $RC: $ERR" >&2; return 1; }
}
seen() { eventually ok_on "$REPLICA" customers get "$EVE"; }
check "a customer written on the primary is seen on the read-only replica" seen
check "so is the new count" same_statuses

# 4. Writes to the read-only replica.
ctl "$REPLICA" customers create --source="$DS" --external-id=fay
check "a write to the read-only replica fails with FAILED_PRECONDITION (exit $RC)" \
  [ "$RC" = 6 ]
check "saying the database is read-only" grep -q "read-only" <<<"$ERR"
ctl "$REPLICA" settings set "$DS" --auto-churn-after=14
check "a settings change fails alike (exit $RC)" [ "$RC" = 6 ]
ctl "$PRIMARY" customers list --source="$DS" --external-id=fay --output=json
check "and nothing reached the primary" \
  python3 -c 'import json, sys; sys.exit(bool(json.load(sys.stdin).get("customers")))' <<<"$OUT"
ctl "$PRIMARY" settings get "$DS"
check "the source still keeps past-due subscriptions" grep -qi "keep" <<<"$OUT"

# 5. A change cursor of the primary that the standby has not replayed yet:
# retry (UNAVAILABLE, exit 7), then served once it has.
standby_sql() { "$PSQL" -X -At -d "$STANDBY_DB" -c "$1"; }
standby_sql 'SELECT pg_wal_replay_pause()' >/dev/null
paused() {
  [ "$(standby_sql 'SELECT pg_get_wal_replay_pause_state()')" = paused ]
}
eventually paused || fail "the standby's replay did not pause"
# A customer whose invoices (ada's, renamed) publish events in the feed.
ctl "$PRIMARY" customers create --source="$DS" --external-id=gus --output=json
[ "$RC" = 0 ] || fail "customers create gus: $ERR"
sed 's/ada-/gus-/g' "$ROOT/examples/invoices/ada.json" >"$WORK/gus.json"
ctl "$PRIMARY" invoices import "$(uuid)" --file="$WORK/gus.json"
[ "$RC" = 0 ] || fail "invoices import gus: $ERR"
ctl "$PRIMARY" changes list --source="$DS" --output=json
CURSOR=$(tail -1 <<<"$OUT" | python3 -c 'import json, sys; print(json.load(sys.stdin)["cursor"])')
ctl "$REPLICA" changes list --source="$DS" --after="$CURSOR"
check "a cursor the paused standby has not replayed is worth retrying (exit $RC)" \
  [ "$RC" = 7 ]
check "  as CHANGE_LOG_BEHIND" grep -q "CHANGE_LOG_BEHIND" <<<"$ERR"
standby_sql 'SELECT pg_wal_replay_resume()' >/dev/null
check "  and served once the standby has replayed it" \
  eventually ok_on "$REPLICA" changes list --source="$DS" --after="$CURSOR"
echo "PASS"
