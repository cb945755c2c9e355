#!/bin/bash
# Runs every fuzz target for SECONDS each (default 60) with cargo-fuzz (nightly), starting
# from the small corpus kept in fuzz/corpus/<target>/ plus, for the Lua targets, the
# project's small test scripts (new inputs go to a scratch copy, so the repository's corpus
# stays small). Prints the runs and crashes of each target.
#   usage: fuzz/run.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=${*:-compile undump vm http_request}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
status=0
for t in $targets; do
  work=$(mktemp -d)
  cp -r corpus/$t/. "$work/" 2>/dev/null
  if [ "$t" = compile ] || [ "$t" = vm ]; then
    # Lua seeds: the corpus's own and the project's small test scripts (not copied here).
    cp corpus/vm/* "$work/" 2>/dev/null
    find ../tests/lua -name '*.lua' -size -4k | while read -r f; do
      cp "$f" "$work/$(echo "$f" | tr / _)"
    done
  fi
  log=$(mktemp)
  cargo +nightly fuzz run "$t" "$work" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -timeout=10 >"$log" 2>&1
  rc=$?
  runs=$(grep -a -o 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}')
  crashes=$(ls artifacts/$t 2>/dev/null | grep -c -E '^(crash|timeout|oom|leak)-')
  echo "$t: ${runs:-?} runs in ${secs} s, exit $rc, artifacts: $crashes"
  [ "$rc" = 0 ] || { status=1; tail -30 "$log"; }
  rm -rf "$work" "$log"
done
exit $status
