# Sourced by bench/run and bench/million: the seeded database, cached.
#
#   seed_cached SEED_BIN DATA_DIR CUSTOMERS RESEED [PREFIX...]
#
# Leaves DATA_DIR/seed-CUSTOMERS.db, seeded by SEED_BIN (bench/seed-database,
# run under PREFIX, e.g. nice -n 10) unless it exists with this build's
# schema version and RESEED is 0, and DATA_DIR/seed-CUSTOMERS.db.info: one
# line with the seeding's time and the database's size. Seeding again
# removes the customer lists the load generator caches beside it.

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
