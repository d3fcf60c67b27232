#!/usr/bin/env bash
# The layers of docs/architecture.md, checked on the sources: who may include
# whom. Dependencies point one way: service -> core -> (engine, persistence
# interface); backends only store.
#   layering_test.sh SOURCE_DIR
set -uo pipefail
cd "$1"
failures=0
# forbid FOLDER PATTERN WHY: no file of FOLDER includes a header matching
# PATTERN.
forbid() {
  local found
  found=$(grep -nE "^#include \"($2)" "$1"/*.h "$1"/*.cc 2>/dev/null)
  if [[ -n $found ]]; then
    echo "FAIL: $3"
    echo "$found"
    failures=$((failures + 1))
  fi
}
forbid common 'engine/|persistence/|core/|service/' "common/ depends on nothing of ours"
forbid engine 'persistence/|core/|service/' "the engine is pure: no storage, core or gRPC"
forbid persistence 'core/|service/' "backends do not know the core or the service"
forbid persistence 'engine/(customer_timeline|evaluator|comparison|mrr|subscription_timeline|invoice|status_reason|settings)\.h' \
  "backends never call the engine (they use its plain types only)"
forbid core 'service/|persistence/sqlite_|recurrent/v1/|grpcpp/' "the core holds no SQL and no gRPC"
# The service reaches storage only through the core; only main.cc (the
# wiring) names the SQLite backend.
found=$(grep -lE '^#include "persistence/sqlite_' service/*.h service/*.cc | grep -v '^service/main\.cc$')
if [[ -n $found ]]; then
  echo "FAIL: only service/main.cc may include a backend:"; echo "$found"
  failures=$((failures + 1))
fi
# No SQL outside persistence/sqlite_* (the bench's baselines aside).
found=$(grep -lE '"(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM) ' \
  common/* engine/* core/* service/* 2>/dev/null)
if [[ -n $found ]]; then
  echo "FAIL: SQL outside the SQLite backend:"; echo "$found"
  failures=$((failures + 1))
fi
if ((failures)); then exit 1; fi
echo "layering_test: every layer includes only what it may"
