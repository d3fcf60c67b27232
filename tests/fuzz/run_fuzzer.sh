#!/usr/bin/env bash
# Runs a libFuzzer target for SECONDS from a copy of its seed corpus (the
# checked-in corpus is not modified); fails on any crash, leak or broken
# invariant. On a failure the whole report is printed, and the input that
# caused it is kept as crash-* (or leak-*, timeout-*, oom-*) in the folder
# the script was started from (ctest: the fuzz test's build folder); rerun
# it with `FUZZER CRASH_FILE`.
#   run_fuzzer.sh FUZZER CORPUS_DIR SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3
artifacts="$PWD/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
rc=0
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts" -print_final_stats=1 "$work/corpus" \
  >"$work/fuzz.log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
  tail -n 25 "$work/fuzz.log"
else
  cat "$work/fuzz.log"
  echo "run_fuzzer.sh: $fuzzer failed (exit $rc); its input is in $artifacts" >&2
fi
exit "$rc"
