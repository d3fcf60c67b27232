#!/usr/bin/env bash
# Idle half-open connections (docs/operations.md "Connections"): a client
# that connects and sends half of the HTTP/2 preface is closed after
# --handshake_timeout instead of holding a file descriptor for gRPC's
# default two minutes; the open-file limit is raised to the hard limit at
# start; healthy clients are served throughout. --max_connections closes
# connections beyond the cap on arrival, and frees places as connections
# close.
#   connections_test.sh PATH_TO_RECURRENTD PATH_TO_BUF
RECURRENTD=$1
BUF=$2
source "$(dirname "$0")/lib.sh"
[ -x "$BUF" ] || fail "buf not found at $BUF (run scripts/install-deps --tools)"

# A low soft limit, as a distribution's default, under a higher hard one.
if [ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -gt 1024 ]; then
  ulimit -S -n 1024
fi
start_server conn --db="$WORK/recurrent.db" --handshake_timeout=1s
soft=$(awk '/Max open files/ {print $4}' "/proc/$PID/limits")
hard=$(awk '/Max open files/ {print $5}' "/proc/$PID/limits")
check "the open-file soft limit is raised to the hard one ($hard)" \
  test "$soft" = "$hard"

healthy() {
  "$BUF" curl --protocol grpc --http2-prior-knowledge -d '{"service": ""}' \
    "http://127.0.0.1:$PORT/grpc.health.v1.Health/Check" | grep -q SERVING
}

# 200 connections that send half the preface and then nothing; each is
# watched until the server closes it (at most 6 s).
/usr/bin/python3 - "$PORT" >"$WORK/halfopen.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PRI * HTTP/2.0\r\n")  # half of the 24-byte preface
    socks.append(s)
start = time.monotonic()
closed = 0
for s in socks:
    s.settimeout(max(0.01, 6 - (time.monotonic() - start)))
    try:
        while s.recv(4096):
            pass
        closed += 1
    except (socket.timeout, ConnectionResetError):
        if not isinstance(sys.exc_info()[1], socket.timeout):
            closed += 1
print(closed, round(time.monotonic() - start, 1))
PY
HALF=$!
sleep 0.5
check "a healthy client is served while they wait" healthy
wait "$HALF"
read -r closed seconds <"$WORK/halfopen.out"
check "the server closed all 200 half-open connections (closed $closed in ${seconds}s)" \
  test "$closed" -eq 200
check "a healthy client is served after them" healthy

# The cap: 60 idle connections to a server capped at 50; the last 10 are
# closed at once, the first 50 stay open; once they close, a client is
# served again.
start_server capped --db="$WORK/capped.db" --max_connections=50
/usr/bin/python3 - "$PORT" >"$WORK/capped.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
time.sleep(0.5)
closed = []
for i, s in enumerate(socks):
    s.settimeout(0.05)
    try:
        if s.recv(4096) == b"":
            closed.append(i)
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed.append(i)
print(len(closed), min(closed) if closed else -1)
PY
read -r closed first_closed <"$WORK/capped.out"
check "connections beyond the cap are closed on arrival ($closed closed, the first being #$first_closed)" \
  test "$closed" -eq 10 -a "$first_closed" -eq 50
# gRPC closes its side as soon as it reads their end: within a second.
healthy_soon() {
  for _ in $(seq 1 20); do healthy && return 0; sleep 0.25; done
  return 1
}
check "a client is served once the idle connections have closed" healthy_soon
echo "connections_test: all checks passed"
