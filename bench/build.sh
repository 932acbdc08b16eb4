#!/usr/bin/env bash
# Times `herald build` over a generated database of 100k articles, 50
# sections and 500 authors, with peak memory (/usr/bin/time -v): a first
# build (every file written), a second one (every file unchanged), and a
# first build with feeds.archives on (every archive page written too). For
# the comparison with the sqlite3 shell, see bench/build-vs-sql.sh.
#
#   bench/build.sh [WORKDIR]     (default: a new temporary directory)
#
# ARTICLES, SECTIONS, AUTHORS and SUBSCRIBERS override the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d -t herald-bench-XXXXXX)}
mkdir -p "$work"
articles=${ARTICLES:-100000} sections=${SECTIONS:-50} authors=${AUTHORS:-500} subscribers=${SUBSCRIBERS:-10000}
db="$work/bench.db"

if [ ! -x /usr/bin/time ]; then
  echo "bench/build.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2
  exit 1
fi

go build -o "$work/herald" ./cmd/herald
if [ ! -s "$db" ]; then
  echo "== generating $articles articles, $sections sections, $authors authors, $subscribers subscribers"
  go run ./bench/gen -db "$db" -articles "$articles" -sections "$sections" -authors "$authors" -subscribers "$subscribers"
fi
ls -la "$db"

# A fixed clock is not needed: all generated dates are in the past.
export HERALD_DATABASE="$db" HERALD_SITE_URL="https://news.example.com" HERALD_LOG_LEVEL=error
"$work/herald" migrate >/dev/null
rm -rf "$work/public" "$work/archives"
for run in first second; do
  echo "== herald build ($run run)"
  /usr/bin/time -v "$work/herald" build --out "$work/public" 2> "$work/time-$run.txt"
  grep -E 'Elapsed \(wall clock\)|Maximum resident set size|User time|System time|Percent of CPU' "$work/time-$run.txt"
done
echo "== output"
find "$work/public" -type f | wc -l | xargs echo "files:"
du -sh "$work/public" | cut -f1 | xargs echo "size:"
echo "== herald build with feeds.archives (first run)"
HERALD_FEEDS_ARCHIVES=true /usr/bin/time -v "$work/herald" build --out "$work/archives" 2> "$work/time-archives.txt"
grep -E 'Elapsed \(wall clock\)|Maximum resident set size|User time|System time|Percent of CPU' "$work/time-archives.txt"
find "$work/archives" -type f | wc -l | xargs echo "files (archive pages included):"
du -sh "$work/archives" | cut -f1 | xargs echo "size:"
echo "nproc: $(nproc); go: $(go env GOVERSION)"
