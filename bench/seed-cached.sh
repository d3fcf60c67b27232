# Sourced by bench/run and bench/million: the seeded database, cached.
#
#   seed_cached SEED_BIN DATA_DIR CUSTOMERS RESEED [PREFIX...]
#
# Leaves DATA_DIR/seed-CUSTOMERS.db, seeded by SEED_BIN (bench/seed-database,
# run under PREFIX, e.g. nice -n 10) unless it exists with this build's
# schema version and RESEED is 0, and DATA_DIR/seed-CUSTOMERS.db.info: one
# line with the seeding's time and the database's size. Seeding again
# removes the customer lists the load generator caches beside it.
#
#   catch_up RECURRENTD DB   (below)
#
# brings a cached database's stored statuses up to now before it is used.

# The schema version (PRAGMA user_version) of database $1.
user_version() {
  python3 -c 'import sqlite3, sys; print(sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True).execute("PRAGMA user_version").fetchone()[0])' "$1"
}

seed_cached() {
  local seed_bin=$1 dir=$2 customers=$3 reseed=$4
  shift 4
  local seeded=$dir/seed-$customers.db
  # A cached database of an older schema lacks what newer versions store (a
  # migration would leave e.g. the MRR rows empty until a reprocess): reseed.
  if [[ $reseed = 0 && -f $seeded ]]; then
    local probe
    probe=$(mktemp -d)
    "$seed_bin" --db="$probe/db" --customers=1 >/dev/null
    if [[ $(user_version "$seeded") != $(user_version "$probe/db") ]]; then
      echo "== the cached database has schema version $(user_version "$seeded"), this build $(user_version "$probe/db"): reseeding"
      reseed=1
    fi
    rm -rf "$probe"
  fi
  if [[ $reseed = 1 || ! -f $seeded ]]; then
    rm -f "$seeded" "$seeded"-* "$seeded.info" "$dir"/customers-"$customers"-*.txt
    echo "== seeding $customers customers into $seeded"
    local started seconds
    started=$(date +%s)
    "$@" "$seed_bin" --db="$seeded.tmp" --customers="$customers"
    seconds=$(( $(date +%s) - started ))
    mv "$seeded.tmp" "$seeded"
    echo "seeded $customers customers in $seconds s ($(date -u +%F), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end): $(du -h --apparent-size "$seeded" | cut -f1)B" >"$seeded.info"
    echo "== $(cat "$seeded.info")"
  fi
  [[ -f $seeded.info ]] || echo "seeded earlier (time not recorded): $(du -h --apparent-size "$seeded" | cut -f1)B" >"$seeded.info"
}

# Brings the stored statuses of database DB up to now, in place. A seed is
# evaluated at its seeding time; once some of its customers' transitions
# fall due (the next midnight, for the synthetic sources: nearly every
# customer), every recurrentd started on it re-evaluates them in the
# background during what is being measured (11 s of writes at 100,000
# customers).
# Runs RECURRENTD on DB until its re-evaluator has nothing due
# (recurrent_reevaluation_lag_seconds 0 on two scrapes in a row).
#
#   catch_up RECURRENTD DB
catch_up() {
  local recurrentd=$1 db=$2
  local log=$db.catch-up.log started
  started=$(date +%s)
  "$recurrentd" --db="$db" --listen=127.0.0.1:0 \
    --metrics_listen=127.0.0.1:0 >"$log" 2>&1 &
  local pid=$!
  local lag rc=0
  lag=$(python3 - "$log" "$pid" <<'PY'
import os, re, sys, time, urllib.request
log, pid = sys.argv[1], int(sys.argv[2])
def alive():
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
port = None
while port is None:
    match = re.search(r"metrics at .*\(port (\d+)\)", open(log).read())
    if match:
        port = match.group(1)
    elif not alive():
        sys.exit("recurrentd stopped: see " + log)
    else:
        time.sleep(0.2)
first, zeros = None, 0
while zeros < 2:
    if not alive():
        sys.exit("recurrentd stopped: see " + log)
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=30).read().decode()
    lag = float(re.search(r"^recurrent_reevaluation_lag_seconds (\S+)$", text, re.M).group(1))
    if first is None:
        first = lag
    zeros = zeros + 1 if lag == 0 else 0
    time.sleep(1)
print("%.0f" % first)
PY
) || rc=$?
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ $rc != 0 ]]; then
    echo "bench: could not bring $db up to date:" >&2
    cat "$log" >&2
    exit 1
  fi
  rm -f "$log"
  if [[ $lag != 0 ]]; then
    echo "== $db: statuses brought up to now in $(( $(date +%s) - started )) s (the re-evaluator was ${lag} s behind)"
  fi
}
