#!/usr/bin/env bash
# recurrentd as an operator runs it: ready line, flags, database path, busy
# port, clean shutdown on SIGTERM and SIGINT.
#   recurrentd_test.sh PATH_TO_RECURRENTD
RECURRENTD=$1
source "$(dirname "$0")/lib.sh"

expect_exit_1() {  # expect_exit_1 MESSAGE_REGEX ARGS...
  local pattern=$1; shift
  local out rc=0
  out=$("$RECURRENTD" "$@" 2>&1) || rc=$?
  [ "$rc" -eq 1 ] || { echo "exit code $rc: $out" >&2; return 1; }
  grep -Eq "$pattern" <<<"$out" || { echo "output: $out" >&2; return 1; }
}

check "unknown flag is refused" expect_exit_1 "bogus" --bogus=1
check "bad flag value is refused" expect_exit_1 "worker_threads" --worker_threads=many
check "stray argument is refused" expect_exit_1 "unexpected argument" extra
check "zero workers are refused" expect_exit_1 "worker_threads" --worker_threads=0
check "a negative shutdown grace is refused" \
  expect_exit_1 "shutdown_grace" --shutdown_grace=-1s
check "an endless shutdown grace is refused" \
  expect_exit_1 "shutdown_grace" --shutdown_grace=inf
check "a metrics port without a host is refused" \
  expect_exit_1 "metrics_listen must be one host:port" --metrics_listen=9464
check "a list of metrics addresses is refused" \
  expect_exit_1 "metrics_listen must be one host:port" \
  --metrics_listen=127.0.0.1:9464,127.0.0.1:9465
mkdir -p "$WORK/a-directory"
check "a directory as database is refused" \
  expect_exit_1 "cannot open database" --db="$WORK/a-directory" --listen=127.0.0.1:0
echo "this is not a database, just text that is long enough to be read" >"$WORK/text.db"
check "a non-database file is refused" \
  expect_exit_1 "cannot open database" --db="$WORK/text.db" --listen=127.0.0.1:0
check "an unparsable address is refused" \
  expect_exit_1 "cannot listen" --db="$WORK/x.db" --listen=not-an-address

start_server first --db="$WORK/nested/folder/recurrent.db"
check "database folder is created" test -f "$WORK/nested/folder/recurrent.db"
check "ready line names the port" test -n "$PORT"
FIRST_PID=$PID
FIRST_PORT=$PORT
check "a busy port is refused" \
  expect_exit_1 "cannot listen on 127.0.0.1:$FIRST_PORT" \
  --db="$WORK/second.db" --listen="127.0.0.1:$FIRST_PORT"

kill -TERM "$FIRST_PID"
rc=0; wait "$FIRST_PID" || rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
check "shutdown is logged" grep -q "recurrentd: stopped" "$WORK/first.log"

start_server again --db="$WORK/nested/folder/recurrent.db"
kill -INT "$PID"
rc=0; wait "$PID" || rc=$?
check "restart on the same database, then SIGINT exits 0" test "$rc" -eq 0
echo "recurrentd_test: all checks passed"
