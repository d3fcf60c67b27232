#!/usr/bin/env bash
# The database file as an operator handles it (docs/operations.md "The
# database file"): the ready line says when a new database was created;
# --create_db=false refuses a missing file; a file deleted or replaced while
# serving stops writes (UNAVAILABLE) and health (NOT_SERVING) instead of
# acknowledging writes into an unlinked file; --read_only serves a backup in
# a read-only folder, as an unprivileged user, without changing one byte.
#   database_file_test.sh PATH_TO_RECURRENTD PATH_TO_BUF
RECURRENTD=$1
BUF=$2
source "$(dirname "$0")/lib.sh"
[ -x "$BUF" ] || fail "buf not found at $BUF (run scripts/install-deps --tools)"

call() {  # call Service/Method JSON : prints the response or the error
  "$BUF" curl --protocol grpc --http2-prior-knowledge -d "$2" \
    "http://127.0.0.1:$PORT/$1" 2>&1 || true
}
json() {  # json FIELD < JSON
  python3 -c 'import json,sys; v=json.load(sys.stdin); print(eval("v"+sys.argv[1]))' "$1"
}
health() {  # the server's overall health status
  call grpc.health.v1.Health/Check '{"service": ""}' | json '["status"]'
}
create_source() {  # create_source NAME : prints the new source's uuid
  call recurrent.v1.SourceSettingsService/CreateDataSource \
    "{\"name\": \"$1\", \"system\": \"stripe\"}" | json '["uuid"]'
}

# A missing file: created and said so, or refused with --create_db=false.
out=$("$RECURRENTD" --db="$WORK/missing.db" --create_db=false \
  --listen=127.0.0.1:0 2>&1) && fail "--create_db=false started: $out"
check "--create_db=false refuses a missing file" \
  grep -q "missing.db does not exist" <<<"$out"
check "--create_db=false creates nothing" test ! -e "$WORK/missing.db"
start_server fresh --db="$WORK/data/recurrent.db"
check "the ready line says a new database was created" \
  grep -q "a new database created" "$WORK/fresh.log"
DS=$(create_source Stripe)
check "a write is acknowledged" grep -q '^ds_' <<<"$DS"
kill -TERM "$PID"; wait "$PID" || true
start_server again --db="$WORK/data/recurrent.db" --create_db=false
check "an existing file starts with --create_db=false" true
check "a restart creates nothing and says nothing of it" \
  bash -c "! grep -q 'new database' '$WORK/again.log'"

# Deleted while serving.
check "health is SERVING" test "$(health)" = SERVING
rm "$WORK/data/recurrent.db"
refused=$(call recurrent.v1.SourceSettingsService/CreateDataSource \
  '{"name": "Chargebee", "system": "chargebee"}')
check "a write after the delete is UNAVAILABLE" grep -q unavailable <<<"$refused"
check "the refusal says why" grep -q "was deleted or replaced" <<<"$refused"
for _ in $(seq 1 30); do [ "$(health)" = NOT_SERVING ] && break; sleep 0.1; done
check "health is NOT_SERVING" test "$(health)" = NOT_SERVING
check "the log says so loudly" \
  grep -q " error the database cannot serve; health NOT_SERVING error=\"the database file was deleted" \
  "$WORK/again.log"
check "and names the file" \
  grep -q " error the database file was deleted or replaced while open.* path=.*recurrent" \
  "$WORK/again.log"
check "the refusal does not name it" bash -c '! grep -q "$0" <<<"$1"' "$WORK" "$refused"
got=$(call recurrent.v1.SourceSettingsService/GetDataSource "{\"uuid\": \"$DS\"}")
check "reads still answer from the open file" \
  test "$(json '["uuid"]' <<<"$got")" = "$DS"
kill -TERM "$PID"; wait "$PID" || true

# Replaced while serving (a restore copied over it, say).
start_server replaced --db="$WORK/data/replaced.db"
create_source Stripe >/dev/null
cp "$WORK/data/replaced.db" "$WORK/data/copy.db"
mv "$WORK/data/copy.db" "$WORK/data/replaced.db"
refused=$(call recurrent.v1.SourceSettingsService/CreateDataSource \
  '{"name": "Chargebee", "system": "chargebee"}')
check "a write after the file is replaced is UNAVAILABLE" \
  grep -q "was deleted or replaced" <<<"$refused"
kill -TERM "$PID"; wait "$PID" || true

# --read_only on a backup, mode 444 in a folder mode 555, as user nobody
# (root would bypass the permissions): opened for real read-only, the file
# keeps every byte, and nothing in the log says a background write failed.
start_server source --db="$WORK/data/live.db"
DS=$(create_source Stripe)
CUS=$(call recurrent.v1.CustomerService/CreateCustomer \
  "{\"customer\": {\"dataSourceUuid\": \"$DS\", \"externalId\": \"c1\"}}" |
  json '["uuid"]')
kill -TERM "$PID"; wait "$PID" || true
mkdir "$WORK/ro"
"$RECURRENTD" --db="$WORK/data/live.db" --backup_to="$WORK/ro/backup.db" >/dev/null
chmod 444 "$WORK/ro/backup.db"
chmod 555 "$WORK/ro"
chmod 711 "$WORK"
before=$(sha256sum "$WORK/ro/backup.db")
# A copy of the binary that nobody can reach (the build folder may be
# under a home directory it cannot enter).
mkdir -m 755 "$WORK/bin"
cp "$RECURRENTD" "$WORK/bin/recurrentd"
chmod 755 "$WORK/bin/recurrentd"
printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups -- "%s" "$@"\n' \
  "$WORK/bin/recurrentd" >"$WORK/as-nobody"
chmod 755 "$WORK/as-nobody"
RECURRENTD="$WORK/as-nobody" start_server readonly --db="$WORK/ro/backup.db" \
  --read_only --create_db=false --reevaluate_interval=100ms
check "the ready line says read-only" grep -q "read-only" "$WORK/readonly.log"
got=$(call recurrent.v1.CustomerService/GetCustomer "{\"uuid\": \"$CUS\"}")
check "a read-only server reads the backup" \
  test "$(json '["uuid"]' <<<"$got")" = "$CUS"
refused=$(call recurrent.v1.SourceSettingsService/CreateDataSource \
  '{"name": "Other", "system": "stripe"}')
check "a write on a read-only server is FAILED_PRECONDITION" \
  grep -q "failed_precondition" <<<"$refused"
sleep 1  # ten re-evaluation intervals, were it running
check "health is SERVING on a read-only server" test "$(health)" = SERVING
kill -TERM "$PID"; wait "$PID" || true
check "nothing failed in the background" \
  bash -c "! grep -Eiq 'fail|error' '$WORK/readonly.log'"
check "the backup is byte-identical" \
  test "$(sha256sum "$WORK/ro/backup.db")" = "$before"
check "no journal, WAL or shm file was created beside it" \
  test "$(ls "$WORK/ro")" = backup.db
chmod 755 "$WORK/ro"
echo "database_file_test: all checks passed"
