#!/usr/bin/env bash
# The editors' pages at a thousand and a million subscribers: each admin
# page's server time (BenchmarkPages in internal/server/admin: the handler,
# no network) on two generated databases, medians of COUNT runs, and the
# ratio 1M / 1k per page. The bar (issue 15) is 2x: no page may scan a list
# that grows with the subscribers.
#
#   bench/admin.sh [WORKDIR]
#
# Environment: COUNT (5), SIZES (1000,1000000), BENCHTIME (100x). The
# generated databases are kept in WORKDIR (about 370 MB for a million), so
# a second run starts at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
work=${1:-${TMPDIR:-/tmp}/herald-admin-bench}
mkdir -p "$work"
sizes=${SIZES:-1000,1000000} count=${COUNT:-5} benchtime=${BENCHTIME:-100x}
out="$work/bench.txt"
say "BenchmarkPages at $sizes subscribers, $count runs of $benchtime (databases in $work)"
(cd "$bench_root" && go test -c -o "$work/admin.test" ./internal/server/admin/)
: > "$out"
# One process per run, each measuring both sizes page by page: the two
# sizes see the same machine, run after run.
for run in $(seq "$count"); do
  (cd "$bench_root/internal/server/admin" && HERALD_BENCH_SIZES="$sizes" HERALD_BENCH_DIR="$work" \
    "$work/admin.test" -test.run '^$' -test.bench 'BenchmarkPages' -test.benchtime "$benchtime" -test.timeout 60m) | tee -a "$out" >&2
done
small=${sizes%%,*} large=${sizes##*,}
echo
echo "machine: $(machine); load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %12s %12s %7s\n' page "${small} (us)" "${large} (us)" ratio
worst=0
for page in $(grep -oE 'page=[a-z-]+' "$out" | sort -u | cut -d= -f2); do
  a=$(median $(grep -E "page=$page/subscribers=$small-" "$out" | awk '{print $3}'))
  b=$(median $(grep -E "page=$page/subscribers=$large-" "$out" | awk '{print $3}'))
  r=$(ratio "$b" "$a")
  printf '%-22s %12.0f %12.0f %7s\n' "$page" "$(awk -v n="$a" 'BEGIN{print n/1000}')" "$(awk -v n="$b" 'BEGIN{print n/1000}')" "$r"
  worst=$(awk -v w="$worst" -v r="$r" 'BEGIN{print (r > w) ? r : w}')
done
echo "worst ratio: $worst (bar: 2.00)"
