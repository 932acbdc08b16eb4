#!/usr/bin/env bash
# Building feeds: a full `herald build` (every file written into an empty
# directory, durably) vs bench/baseline.sql through the sqlite3 shell on the
# same database (for every feed, its newest 50 published rows with authors
# and section, formatted and thrown away), interleaved and repeated, each
# from the same memory state (settle: the page cache dropped, then the
# database's pages read back into it); then the time
# from one article's change to its rebuilt files under herald serve with
# feeds.output_dir, and which files that change rewrote. It prints the
# ratio herald/sqlite3 (wall clock; the goal is 2 or less) and herald's
# peak RSS (the goal is under 100 MB).
#
#   bench/build-vs-sql.sh [WORKDIR]                               # 1M articles
#   ARTICLES=100000 SECTIONS=50 AUTHORS=500 bench/build-vs-sql.sh DIR  # 100k
#
# Environment: RUNS (3), ARTICLES/SECTIONS/AUTHORS (1000000/500/5000: the
# database generated when WORKDIR has no bench.db; about 6 GB and 10-20
# minutes on 2 cores), CHANGES (5 article changes timed), REFRESH
# (feeds.refresh_interval, 1s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_peers
work=${1:-$(mktemp -d -t herald-build-XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
runs=${RUNS:-3} changes=${CHANGES:-5} refresh=${REFRESH:-1s}
build_herald "$work"
db="$work/bench.db"
if [ ! -s "$db" ]; then
  say "generating ${ARTICLES:-1000000} articles, ${SECTIONS:-500} sections, ${AUTHORS:-5000} authors"
  "$work/gen" -db "$db" -articles "${ARTICLES:-1000000}" -sections "${SECTIONS:-500}" -authors "${AUTHORS:-5000}" >&2
fi
cat > "$work/herald.yaml" <<YAML
database: $db
site: { url: "https://news.example.com" }
log: { level: info }
feeds: { output_dir: $work/live, refresh_interval: $refresh }
smtp: { host: 127.0.0.1, port: 9, tls: none }
digests:
  - { name: daily, schedule: "0 7 1 1 *", timezone: UTC, catch_up: 1m }
YAML
export HERALD_CONFIG="$work/herald.yaml"
"$work/herald" migrate >&2
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
say "database: $(du -h "$db" | cut -f1), $(sqlite3 "$db" 'SELECT count(*) FROM articles') articles; warming the page cache"
cat "$db" > /dev/null

results="$work/build-results.txt"
: > "$results"
# settle: the same memory state before each measured command that writes
# or reads cold: everything written is on disk, the page cache dropped,
# then the database read back into it. Without it, herald's 4.6 GB of
# output at 1M articles was written into a page cache that earlier runs
# had filled, and reclaiming it moved the build's kernel time between 8
# and 23 s from one run to the next; and on an ext4 without a journal
# (this benchmark's VM) a new inode skips every inode of its group
# deleted in the last minutes whose inode table is still cached, so the
# files created right after `rm -rf` of as many paid an O(n^2) scan (a
# quarter of the build's CPU at 100k; perf: find_inode_bit,
# recently_deleted). Dropping the cache needs root; without it the
# figures depend on what ran before.
settle() {
  sync
  if [ -w /proc/sys/vm/drop_caches ] && { echo 1 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
    :
  elif [ -z "${warned_settle:-}" ]; then
    warned_settle=1
    say "cannot drop the page cache (not root): the figures depend on its state"
  fi
  warm
}
tv() { /usr/bin/time -f '%e %M %U %S' -o "$1" "${@:2}"; }
warm() { cat "$db" "$db-wal" > /dev/null 2>&1 || true; }
for run in $(seq "$runs"); do
  rm -rf "$work/public"
  settle
  tv "$work/t.txt" sqlite3 -bail "$db" < "$bench_root/bench/baseline.sql"
  echo "$run baseline $(cat "$work/t.txt")" >> "$results"
  settle
  tv "$work/t.txt" "$work/herald" --log-level error build --out "$work/public" > "$work/build-out.txt"
  echo "$run herald $(cat "$work/t.txt")" >> "$results"
  warm
  tv "$work/t.txt" "$work/herald" --log-level error build --out "$work/public" > /dev/null
  echo "$run herald-unchanged $(cat "$work/t.txt")" >> "$results"
  say "run $run: $(grep "^$run " "$results" | awk '{printf "%s %ss %sKB; ", $2, $3, $4}')"
done
files=$(find "$work/public" -type f | wc -l) size=$(du -sh "$work/public" | cut -f1)

# From an article's change to its rebuilt files. herald serve starts with
# the last build's files (all unchanged), then each round updates one
# article with the sqlite3 shell and polls the feeds it appears in.
rm -rf "$work/live"; cp -a "$work/public" "$work/live"
hp=$(free_port)
"$work/herald" serve --listen "127.0.0.1:$hp" 2> "$work/serve.log" &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT
for i in $(seq 600); do grep -q 'static feeds written' "$work/serve.log" && break; sleep 1; done
grep -q 'static feeds written' "$work/serve.log" || die "herald serve did not write its static feeds (see $work/serve.log)"
lat="$work/change-results.txt"
: > "$lat"
for i in $(seq "$changes"); do
  # The i-th newest published article: it is in the site feed, its
  # section's feed and each of its authors' feeds.
  read -r id sec < <(sqlite3 -separator ' ' "$db" "SELECT a.id, s.slug FROM articles a JOIN sections s ON s.id = a.section_id
    WHERE a.status = 'published' AND unixepoch(a.published_at) <= unixepoch('now')
    ORDER BY unixepoch(a.published_at) DESC, a.id DESC LIMIT 1 OFFSET $((i * 3))")
  auths=$(sqlite3 "$db" "SELECT au.slug FROM article_authors aa JOIN authors au ON au.id = aa.author_id WHERE aa.article_id = $id")
  watch=("$work/live/feeds/all.rss" "$work/live/feeds/sections/$sec.rss")
  for a in $auths; do watch+=("$work/live/feeds/authors/$a.rss"); done
  sleep 1.5 # a quiet start: no refresh in progress
  touch "$work/mark"
  t0=$(date +%s.%N)
  sqlite3 "$db" "UPDATE articles SET title = title || ' (updated $i)' WHERE id = $id"
  t1=
  for n in $(seq 3000); do
    ok=1
    for f in "${watch[@]}"; do [ "$f" -nt "$work/mark" ] || { ok=0; break; }; done
    if [ $ok = 1 ]; then t1=$(date +%s.%N); break; fi
    sleep 0.01
  done
  [ -n "$t1" ] || die "article $id: feeds not rebuilt within 30 s"
  sleep 2 # let the refresh finish, then list every file it rewrote
  rewritten=$(find "$work/live" -type f -newer "$work/mark" | sed "s#$work/live##" | sort | tr '\n' ' ')
  n=$(wc -w <<<"$rewritten")
  want=$(( ${#watch[@]} * 3 ))
  echo "$i $id $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') $n $want $rewritten" >> "$lat"
  say "change $i (article $id, ${#watch[@]} feeds): $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') s, $n files rewritten (want $want)"
done
kill $spid; wait $spid 2>/dev/null || true

med() { median $(awk -v k="$1" -v c="$2" '$2==k {print $c}' "$results"); }
echo
echo "machine: $(machine)"
echo "database: $(du -h "$db" | cut -f1); $(sqlite3 "$db" 'SELECT count(*) FROM articles') articles, $(sqlite3 "$db" 'SELECT count(*) FROM sections') sections, $(sqlite3 "$db" 'SELECT count(*) FROM authors') authors; output: $files files, $size"
printf '%-18s %10s %10s %10s %12s\n' what wall_s user_s sys_s peak_rss_MB
for k in baseline herald herald-unchanged; do
  printf '%-18s %10s %10s %10s %12s\n' "$k" "$(med $k 3)" "$(med $k 5)" "$(med $k 6)" "$(awk -v m="$(med $k 4)" 'BEGIN {printf "%.0f", m/1024}')"
done
echo "herald/baseline (wall): $(ratio "$(med herald 3)" "$(med baseline 3)") (goal: 2 or less); unchanged/baseline: $(ratio "$(med herald-unchanged 3)" "$(med baseline 3)")"
echo "herald peak RSS: $(awk -v m="$(med herald 4)" 'BEGIN {printf "%.0f MB", m/1024}') (goal: under 100 MB); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "change -> rebuilt files (refresh_interval $refresh): median $(median $(awk '{print $3}' "$lat")) s over $changes changes; files rewritten: $(awk '{printf "%s/%s ", $4, $5}' "$lat")"
echo "raw results: $results $lat"
