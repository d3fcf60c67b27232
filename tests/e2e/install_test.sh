#!/usr/bin/env bash
# What `cmake --install` gives an operator, run from the installed files:
# the binaries (--version names the commit, --help lists the flags by
# group), the protos, the example flag file (a server starts from it with
# --flagfile, and recurrentctl and the Python client talk to it) and the
# systemd unit (it names the installed binary and passes systemd-analyze
# verify when systemd is there).
#   install_test.sh CMAKE BUILD_DIR SOURCE_DIR
CMAKE=$1 BUILD_DIR=$2 SOURCE_DIR=$3
RECURRENTD=unused  # lib.sh's servers are started from the prefix below
source "$(dirname "$0")/lib.sh"

PREFIX="$WORK/prefix"
"$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX" >"$WORK/install.log" ||
  { cat "$WORK/install.log" >&2; fail "cmake --install"; }
for file in bin/recurrentd bin/recurrentctl \
    share/recurrent/protos/recurrent/v1/customer.proto \
    share/recurrent/protos/recurrent/v1/change_feed.proto \
    share/recurrent/protos/google/rpc/error_details.proto \
    share/recurrent/recurrentd.flags lib/systemd/system/recurrentd.service \
    share/doc/recurrent/README.md share/doc/recurrent/docs/api.md \
    share/doc/recurrent/docs/operations.md; do
  check "installs $file" test -f "$PREFIX/$file"
done
check "binaries are executable" test -x "$PREFIX/bin/recurrentd" -a -x "$PREFIX/bin/recurrentctl"

version=$("$PREFIX/bin/recurrentd" --version)
echo "$version"
check "--version prints the version" grep -Eq '^recurrentd [0-9]+\.[0-9]+\.[0-9]+ \(commit ' <<<"$version"
if git -C "$SOURCE_DIR" rev-parse HEAD >/dev/null 2>&1; then
  # The commit the binary was built from (HEAD at its last build): one of
  # this repository's, HEAD or before it.
  built=$(sed -n 's/.*(commit \([0-9a-f]*\)\(-dirty\)\{0,1\})$/\1/p' <<<"$version")
  check "--version names a commit of this repository" \
    git -C "$SOURCE_DIR" merge-base --is-ancestor "$built" HEAD
fi

help=$("$PREFIX/bin/recurrentd" --help 2>&1 || true)
check "--help lists flags (not 'No flags matched')" \
  bash -c '! grep -q "No flags matched" <<<"$0"' "$help"
for group in logging network storage tools work; do
  check "--help has the $group group" grep -q "Flags from recurrentd/$group:" <<<"$help"
done
for flag in listen db pg_pool_size tls_cert customer_cache_mb reevaluate_interval \
    max_calls_in_flight create_api_key backup_to read_only log_format \
    log_requests metrics_listen; do
  check "--help explains --$flag" grep -q -- "-$flag (" <<<"$help"
done

unit="$PREFIX/lib/systemd/system/recurrentd.service"
check "the unit runs the installed binary" \
  grep -q "^ExecStart=$PREFIX/bin/recurrentd --flagfile=/etc/recurrent/recurrentd.flags" "$unit"
check "the unit has a user of its own" \
  grep -q "^DynamicUser=yes" "$unit"
check "the unit has a state directory" grep -q "^StateDirectory=recurrent" "$unit"
if command -v systemd-analyze >/dev/null; then
  # verify checks the unit's syntax and that ExecStart exists.
  check "systemd-analyze verify accepts the unit" \
    systemd-analyze verify --man=no "$unit"
fi

# The example flag file, pointed at this test's folder, starts a server.
sed -e "s|^--db=.*|--db=$WORK/from-flagfile.db|" \
    -e "s|^--listen=.*|--listen=127.0.0.1:0|" \
    "$PREFIX/share/recurrent/recurrentd.flags" >"$WORK/recurrentd.flags"
RECURRENTD="$PREFIX/bin/recurrentd"
start_server flagfile --flagfile="$WORK/recurrentd.flags"
check "the flag file's database is used" test -f "$WORK/from-flagfile.db"
ctl() { "$PREFIX/bin/recurrentctl" --addr="127.0.0.1:$PORT" "$@"; }
check "the installed recurrentctl creates a source" ctl sources create --name=Stripe --system=stripe
check "and lists it" bash -c '"$0" --addr="127.0.0.1:$1" sources list | grep -q Stripe' \
  "$PREFIX/bin/recurrentctl" "$PORT"
# The Python client, from the prefix alone (Debian's python3 reads
# PREFIX/lib/python3.X/dist-packages for PREFIX /usr/local).
python_dir=$(/usr/bin/python3 -c 'import sys; print("%s/lib/python%d.%d/dist-packages" % ((sys.argv[1],) + sys.version_info[:2]))' "$PREFIX")
check "installs the Python client with its stubs" \
  test -f "$python_dir/recurrent/client.py" -a \
       -f "$python_dir/recurrent/_gen/recurrent/v1/customer_pb2_grpc.py"
check "the installed Python client lists the source" \
  env -C / PYTHONPATH="$python_dir" /usr/bin/python3 -c '
import sys
import recurrent
assert recurrent.__file__.startswith(sys.argv[2] + "/"), recurrent.__file__
with recurrent.RecurrentClient(sys.argv[1], timeout=10) as client:
    names = [source.name for source in client.list_data_sources()]
sys.exit(0 if names == ["Stripe"] else 1)' "127.0.0.1:$PORT" "$python_dir"

# The installed server under the unit's system-call filter, as systemd
# would install it, as an unprivileged user like the unit's DynamicUser
# (tests/e2e/unit_syscall_filter.py --strict: any call the unit denies
# kills the process with SIGSYS, though the unit makes it fail with EPERM,
# so that none goes unseen): the README's first run -- settings changes and
# reprocesses, whose threads lower their own priority -- and a /metrics
# scrape, then a clean shutdown. (Only the filter: not the unit's other
# sandboxing, such as ProtectProc=.)
cat >"$WORK/recurrentd-under-unit" <<SH
#!/bin/sh
exec /usr/bin/python3 "$SOURCE_DIR/tests/e2e/unit_syscall_filter.py" "$unit" \
  --strict \$UNIT_USER -- "$PREFIX/bin/recurrentd" "\$@"
SH
chmod +x "$WORK/recurrentd-under-unit"
state="$WORK/state"  # the unit's StateDirectory
mkdir "$state"
UNIT_USER=
if [ "$(id -u)" -eq 0 ]; then
  UNIT_USER=--user=nobody
  chown nobody "$state"
  chmod o+x "$WORK"
fi
export UNIT_USER
RECURRENTD="$WORK/recurrentd-under-unit"
start_server under-unit --db="$state/recurrent.db" --metrics_listen=127.0.0.1:0
metrics_port=$(sed -n 's/.*metrics at .*(port \([0-9]*\)).*/\1/p' "$WORK/under-unit.log")
out="$WORK/first-run-under-unit.out"
if ! RECURRENT_ADDR="127.0.0.1:$PORT" RECURRENTCTL="$PREFIX/bin/recurrentctl" \
    "$SOURCE_DIR/examples/first-run.sh" >"$out" 2>&1; then
  tail -n 20 "$out" >&2
  cat "$WORK/under-unit.log" >&2
  fail "the first run against the server under the unit's filter"
fi
echo "ok - the README's first run against the server under the unit's filter"
check "  its /metrics answers" /usr/bin/python3 -c '
import sys, urllib.request
page = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
sys.exit(0 if "process_start_time_seconds" in page else 1)' \
  "http://127.0.0.1:$metrics_port/metrics"
check "  and it is still running" kill -0 "$PID"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
check "  and shuts down cleanly on SIGTERM (exit $rc)" test "$rc" -eq 0
