#!/usr/bin/env bash
# API keys, TLS and mutual TLS as an operator sets them up: the refusal to
# serve off loopback without a key, --allow_unauthenticated, the
# --create_api_key bootstrap, `recurrentctl keys create/list/revoke`,
# --api-key and RECURRENT_API_KEY, roles, TLS with a CA and server
# certificate made here with openssl, mutual TLS with a client certificate,
# unusable TLS files, and the Python client's api_key= over mutual TLS.
# Servers on the wildcard address are only started and stopped; every call
# goes to 127.0.0.1.
#   auth_tls_test.sh PATH_TO_RECURRENTD PATH_TO_RECURRENTCTL
RECURRENTD=$1
CTL=$2
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${RECURRENT_PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
command -v openssl >/dev/null || fail "openssl not found (apt-get install openssl)"
unset RECURRENT_ADDR RECURRENT_API_KEY

# expect_exit_1 MESSAGE_REGEX ARGS... : recurrentd exits 1 saying MESSAGE.
expect_exit_1() {
  local pattern=$1; shift
  local out rc=0
  out=$(timeout 20 "$RECURRENTD" "$@" 2>&1) || rc=$?
  [ "$rc" -eq 1 ] || { echo "exit code $rc: $out" >&2; return 1; }
  grep -Eq -- "$pattern" <<<"$out" || { echo "output: $out" >&2; return 1; }
}
# ctl CODE ARGS... : runs recurrentctl against the server and checks its exit
# code; sets OUT and ERR.
ctl() {
  local want=$1; shift
  local rc=0
  "$CTL" --addr="127.0.0.1:$PORT" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
  [ "$rc" -eq "$want" ] || {
    echo "recurrentctl $*: exit $rc, want $want; stdout: $OUT; stderr: $ERR" >&2
    return 1
  }
}
has() { grep -Eq -- "$1" <<<"$2" || { echo "/$1/ not in: $2" >&2; return 1; }; }
lacks() { ! grep -Eq -- "$1" <<<"$2" || { echo "/$1/ in: $2" >&2; return 1; }; }
stop_server() {
  kill -TERM "$PID"
  local rc=0
  wait "$PID" || rc=$?
  [ "$rc" -eq 0 ] || fail "server exited $rc on SIGTERM"
}

# --- Without a key: loopback only -------------------------------------------

check "no key on 0.0.0.0 is refused" \
  expect_exit_1 "refusing to serve on 0\.0\.0\.0:0 without authentication: no API key exists" \
  --db="$WORK/open.db" --listen=0.0.0.0:0
start_server open-wildcard --db="$WORK/open.db" --listen=0.0.0.0:0 --allow_unauthenticated
check "--allow_unauthenticated serves on 0.0.0.0 with a warning" \
  grep -q "warning no API key exists and --allow_unauthenticated" "$WORK/open-wildcard.log"
stop_server
start_server open-loopback --db="$WORK/open.db"
check "no key on loopback serves with a warning" \
  grep -q "warning no API key exists, so every call is allowed" "$WORK/open-loopback.log"
check "and needs no key" ctl 0 sources list
stop_server

# --- Bootstrap --------------------------------------------------------------

check "--create_api_key with a bad role is refused" \
  expect_exit_1 "NAME:ROLE" --db="$WORK/keys.db" --create_api_key=ops:root
check "--create_api_key with a name CreateApiKey refuses is refused" \
  expect_exit_1 "name: may contain only letters" --db="$WORK/keys.db" --create_api_key='a"b:admin'
make_admin() { "$RECURRENTD" --db="$WORK/keys.db" --create_api_key=ops:admin >"$WORK/admin.key" 2>"$WORK/admin.err"; }
check "--create_api_key prints a key and exits 0" make_admin
ADMIN=$(cat "$WORK/admin.key")
check "  the key alone on stdout" has '^rk_[0-9a-f]{64}$' "$ADMIN"
check "  said once, on stderr" has 'created API key key_.* "ops" \(admin\)' "$(cat "$WORK/admin.err")"
check "  stored hashed" test -z "$("$PYTHON" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print("".join(v for row in db.execute("SELECT * FROM api_keys") for v in map(str, row) if sys.argv[2][3:] in v))
' "$WORK/keys.db" "$ADMIN")"
start_server keyed-wildcard --db="$WORK/keys.db" --listen=0.0.0.0:0
check "with a key, 0.0.0.0 is served without --allow_unauthenticated" test -n "$PORT"
stop_server

# --- Certificates -----------------------------------------------------------

cd "$WORK"
ossl() { openssl "$@" >>"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log" >&2; return 1; }; }
make_ca() {  # make_ca NAME
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=Recurrent test $1"
}
make_cert() {  # make_cert NAME CA EXTENSIONS
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" &&
    printf '%s\n' "$3" >"$1.ext" &&
    ossl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
      -out "$1.pem" -days 2 -extfile "$1.ext"
}
check "openssl makes a CA" make_ca ca
check "openssl makes a server certificate for 127.0.0.1 and localhost" \
  make_cert server ca "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
check "openssl makes a client certificate" make_cert client ca "extendedKeyUsage=clientAuth"
check "openssl makes another CA and a client certificate it signed" \
  eval 'make_ca other && make_cert stranger other "extendedKeyUsage=clientAuth"'
cd "$ROOT"

check "a missing --tls_cert is refused" \
  expect_exit_1 "--tls_cert: cannot read" --db="$WORK/keys.db" --listen=127.0.0.1:0 \
  --tls_cert="$WORK/nope.pem" --tls_key="$WORK/server.key"
check "a key that is not the certificate's is refused" \
  expect_exit_1 "--tls_key: .* is not the key of" --db="$WORK/keys.db" --listen=127.0.0.1:0 \
  --tls_cert="$WORK/server.pem" --tls_key="$WORK/client.key"
check "--tls_cert without --tls_key is refused" \
  expect_exit_1 "go together" --db="$WORK/keys.db" --tls_cert="$WORK/server.pem"
check "--tls_client_ca without --tls_cert is refused" \
  expect_exit_1 "needs --tls_cert" --db="$WORK/keys.db" --tls_client_ca="$WORK/ca.pem"

# --- TLS and keys -----------------------------------------------------------

start_server tls --db="$WORK/keys.db" --tls_cert="$WORK/server.pem" --tls_key="$WORK/server.key"
check "the ready line says TLS" grep -q "serving on port .*, TLS)" "$WORK/tls.log"
TLS=(--tls-ca="$WORK/ca.pem" --timeout=5s)
check "plaintext to the TLS server fails" ctl 7 --api-key="$ADMIN" --timeout=3s sources list
check "TLS trusting another CA fails" ctl 7 --tls-ca="$WORK/other.pem" --timeout=3s --api-key="$ADMIN" sources list
check "TLS without a key is UNAUTHENTICATED (exit 9)" ctl 9 "${TLS[@]}" sources list
check "  one line naming the code" has "^recurrentctl: UNAUTHENTICATED: this call needs an API key" "$ERR"
check "TLS with an unknown key is UNAUTHENTICATED" ctl 9 "${TLS[@]}" --api-key=rk_nope sources list
check "TLS with the admin key works" ctl 0 "${TLS[@]}" --api-key="$ADMIN" sources create --name=Stripe
DS=$(awk 'NR==2 {print $1}' <<<"$OUT")
check "keys create prints only the key on stdout" \
  ctl 0 "${TLS[@]}" --api-key="$ADMIN" keys create --name=sync --role=writer
WRITER=$OUT
check "  a new key" has '^rk_[0-9a-f]{64}$' "$WRITER"
check "  the details on stderr" has 'created API key key_.* "sync" \(writer\)' "$ERR"
# ctl_with_env_key CODE ARGS... : ctl with RECURRENT_API_KEY=$ADMIN.
ctl_with_env_key() {
  local rc=0
  export RECURRENT_API_KEY=$ADMIN
  ctl "$@" || rc=$?
  unset RECURRENT_API_KEY
  return "$rc"
}
check "RECURRENT_API_KEY is used" \
  ctl_with_env_key 0 "${TLS[@]}" keys create --name=dash --role=reader
READER=$OUT
check "keys create needs admin: a writer is PERMISSION_DENIED" \
  ctl 9 "${TLS[@]}" --api-key="$WRITER" keys create --name=x --role=admin
check "  saying the role" has "PERMISSION_DENIED: API key \"sync\" has role writer; this call needs admin" "$ERR"
check "a writer creates a customer" \
  ctl 0 "${TLS[@]}" --api-key="$WRITER" customers create --source="$DS" --external-id=c1
CUS=$(awk 'NR==2 {print $1}' <<<"$OUT")
check "a reader reads it" ctl 0 "${TLS[@]}" --api-key="$READER" customers get "$CUS"
check "a reader cannot tag it" ctl 9 "${TLS[@]}" --api-key="$READER" customers tag "$CUS" vip
check "a writer cannot delete it" ctl 9 "${TLS[@]}" --api-key="$WRITER" customers delete "$CUS"
check "a writer cannot change settings" \
  ctl 9 "${TLS[@]}" --api-key="$WRITER" settings set "$DS" --auto-churn-after=14
check "the admin changes settings" \
  ctl 0 "${TLS[@]}" --api-key="$ADMIN" settings set "$DS" --auto-churn-after=14
check "settings history says who saved version 2" \
  ctl 0 "${TLS[@]}" --api-key="$READER" settings history "$DS" -o json
check "  saved by ops" test "$("$PYTHON" -c 'import json,sys; print([v.get("savedBy") for v in json.loads(sys.argv[1])["versions"]])' "$OUT")" = "['', 'ops']"
check "keys list shows three keys" ctl 0 "${TLS[@]}" --api-key="$ADMIN" keys list
check "  named ops, sync and dash" test "$(awk 'NR>1 {print $2 "/" $3}' <<<"$OUT" | tr '\n' ' ')" = "ops/admin sync/writer dash/reader "
check "  and no secret" lacks "rk_" "$OUT"
DASH=$(awk '$2 == "dash" {print $1}' <<<"$OUT")
check "keys revoke" ctl 0 "${TLS[@]}" --api-key="$ADMIN" keys revoke "$DASH"
check "  says so" has "API key $DASH \"dash\" revoked" "$OUT"
check "a revoked key is UNAUTHENTICATED" ctl 9 "${TLS[@]}" --api-key="$READER" customers get "$CUS"
check "keys list shows when it was revoked" ctl 0 "${TLS[@]}" --api-key="$ADMIN" keys list -o json
check "  revokedAt set for dash only" test "$("$PYTHON" -c 'import json,sys; print([k["name"] for k in json.loads(sys.argv[1])["keys"] if k.get("revokedAt")])' "$OUT")" = "['dash']"
late_key() { "$RECURRENTD" --db="$WORK/keys.db" --create_api_key=late:reader >"$WORK/late.key" 2>"$WORK/late.err"; }
check "--create_api_key beside the running server" late_key
# accepted_within SECONDS KEY: the running server accepts KEY within SECONDS.
accepted_within() {
  local i
  for i in $(seq "$(( $1 * 10 ))"); do
    "$CTL" --addr="127.0.0.1:$PORT" "${TLS[@]}" --api-key="$2" sources list >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "not accepted within $1 s" >&2
  return 1
}
check "  the server accepts that key within 3 s (it reloads keys every second)" \
  accepted_within 3 "$(cat "$WORK/late.key")"
stop_server

# --- Mutual TLS ---------------------------------------------------------------

start_server mtls --db="$WORK/keys.db" --tls_cert="$WORK/server.pem" --tls_key="$WORK/server.key" \
  --tls_client_ca="$WORK/ca.pem"
check "the ready line says mutual TLS" grep -q "serving on port .*, mutual TLS)" "$WORK/mtls.log"
check "mutual TLS without a client certificate fails" \
  ctl 7 --tls-ca="$WORK/ca.pem" --timeout=3s --api-key="$ADMIN" sources list
check "mutual TLS with a certificate of another CA fails" \
  ctl 7 --tls-ca="$WORK/ca.pem" --tls-cert="$WORK/stranger.pem" --tls-key="$WORK/stranger.key" \
  --timeout=3s --api-key="$ADMIN" sources list
MTLS=(--tls-ca="$WORK/ca.pem" --tls-cert="$WORK/client.pem" --tls-key="$WORK/client.key" --timeout=5s)
check "mutual TLS with the client certificate and a key works" \
  ctl 0 "${MTLS[@]}" --api-key="$WRITER" customers get "$CUS"
check "mutual TLS still needs a key" ctl 9 "${MTLS[@]}" customers get "$CUS"
check "recurrentctl --tls-cert without --tls-key is a usage error" \
  ctl 2 --tls-ca="$WORK/ca.pem" --tls-cert="$WORK/client.pem" sources list
check "recurrentctl with an unreadable --tls-ca is a local error" \
  ctl 1 --tls-ca="$WORK/nope.pem" sources list

if "$PYTHON" -c 'import grpc, google.protobuf' 2>/dev/null; then
  python_client() {
    PYTHONPATH="$ROOT/clients/python" "$PYTHON" - "$PORT" "$WORK" "$1" <<'PY'
import sys
import grpc
import recurrent

port, work, key = sys.argv[1], sys.argv[2], sys.argv[3] or None
read = lambda name: open("%s/%s" % (work, name), "rb").read()
credentials = grpc.ssl_channel_credentials(
    root_certificates=read("ca.pem"), private_key=read("client.key"),
    certificate_chain=read("client.pem"))
channel = grpc.secure_channel("127.0.0.1:" + port, credentials)
with recurrent.RecurrentClient(channel=channel, api_key=key) as client:
    try:
        print(",".join(s.name for s in client.list_data_sources()))
    except recurrent.RecurrentError as error:
        print(type(error).__name__)
PY
  }
  check "the Python client's api_key= over mutual TLS" test "$(python_client "$WRITER")" = "Stripe"
  check "the Python client without a key raises Unauthenticated" test "$(python_client "")" = "Unauthenticated"
else
  echo "skip - Python client (python3-grpcio not installed)"
fi
stop_server
echo "auth_tls_test: all checks passed"
