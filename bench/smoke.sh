#!/usr/bin/env bash
# A seconds-long run of every bench/ script on tiny inputs, to prove they
# still work (CI runs it; the numbers mean nothing at this size): a 300-
# article database and 2-second wrk runs for serve.sh, 500 articles for
# build-vs-sql.sh with one article change, 200 subscribers into smtp-sink
# for send.sh (also DKIM-signed) and memory.sh (also the distinct-follows
# worst case).
#
#   bench/smoke.sh
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d -t herald-bench-smoke-XXXXXX)
trap 'rm -rf "$work"' EXIT
run() {
  local name=$1; shift
  echo "== bench smoke: $name"
  if ! env "$@" > "$work/$name.out" 2>&1; then
    cat "$work/$name.out"
    echo "bench smoke: $name failed" >&2
    exit 1
  fi
  tail -n 12 "$work/$name.out"
}
run serve RUNS=1 DURATION=2s CONNS=8 ARTICLES=300 SECTIONS=5 AUTHORS=20 bash "$dir/serve.sh" "$work/serve"
run build RUNS=1 CHANGES=1 REFRESH=200ms ARTICLES=500 SECTIONS=5 AUTHORS=20 bash "$dir/build-vs-sql.sh" "$work/build"
run send RUNS=1 SUBSCRIBERS=200 ARTICLES=300 SINCE=60d bash "$dir/send.sh" "$work/send"
run memory SUBSCRIBERS=200 ARTICLES=300 SINCE=60d bash "$dir/memory.sh" "$work/memory"
run send-dkim RUNS=1 SUBSCRIBERS=200 ARTICLES=300 SINCE=60d DKIM=ed25519 CONNS=1 bash "$dir/send.sh" "$work/send"
run memory-worst WORST=1 SUBSCRIBERS=200 ARTICLES=300 SECTIONS=10 AUTHORS=30 SINCE=60d bash "$dir/memory.sh" "$work/memory"
echo "== bench smoke: ok"
