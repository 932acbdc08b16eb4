#!/usr/bin/env bash
# Serving feeds: herald serve vs bench/bareserver (the same bytes in memory,
# If-None-Match -> 304: the Go stack's ceiling) vs nginx serving the same
# bytes as a static file. wrk with the same threads, connections and
# duration against each, for a 200, a 304 (If-None-Match) and gzip
# (Accept-Encoding: gzip; nginx serves a pre-compressed copy with
# gzip_static), interleaved and repeated; medians and ratios at the end.
#
#   bench/serve.sh [WORKDIR]
#
# Environment: RUNS (5), DURATION (10s), CONNS (64), THREADS (1),
# FEED (/feeds/all.rss), ARTICLES/SECTIONS/AUTHORS (5000/20/100: the
# database generated when WORKDIR has none), ITEMS (feeds.items, 50).
# With two or more CPUs every server runs on the last CPU and wrk on CPU 0
# (taskset), so each server gets one core (Go's GOMAXPROCS follows the
# affinity mask: 1; nginx runs one worker).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_peers
cpu_split
work=${1:-$(mktemp -d -t herald-serve-XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
runs=${RUNS:-5} dur=${DURATION:-10s} conns=${CONNS:-64} threads=${THREADS:-1}
feed=${FEED:-/feeds/all.rss} items=${ITEMS:-50}
build_herald "$work"
db="$work/serve.db"
if [ ! -s "$db" ]; then
  say "generating ${ARTICLES:-5000} articles"
  "$work/gen" -db "$db" -articles "${ARTICLES:-5000}" -sections "${SECTIONS:-20}" -authors "${AUTHORS:-100}" >&2
fi
cat > "$work/herald.yaml" <<YAML
database: $db
site: { url: "https://news.example.com" }
log: { level: error }
feeds: { items: $items }
smtp: { host: 127.0.0.1, port: 9, tls: none }
digests:
  - { name: daily, schedule: "0 7 1 1 *", timezone: UTC, catch_up: 1m }
YAML
export HERALD_CONFIG="$work/herald.yaml"
rm -rf "$work/public"
"$work/herald" build --out "$work/public" >&2
file="$work/public$feed"
[ -s "$file" ] || die "no $file"
gzip -9 -k -f "$file"
case "$feed" in
  *.rss) ctype="application/rss+xml; charset=utf-8" ;;
  *.atom) ctype="application/atom+xml; charset=utf-8" ;;
  *) ctype="application/feed+json; charset=utf-8" ;;
esac

hp=$(free_port) bp=$(free_port) np=$(free_port)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

$SERVER_PIN "$work/herald" serve --listen "127.0.0.1:$hp" 2> "$work/herald-serve.log" &
pids+=($!)
$SERVER_PIN "$work/bareserver" -file "$file" -type "$ctype" -listen "127.0.0.1:$bp" 2> "$work/bareserver.log" &
pids+=($!)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes 1;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  types { application/rss+xml rss; application/atom+xml atom; application/feed+json json; }
  charset utf-8;
  charset_types application/rss+xml application/atom+xml application/feed+json;
  server {
    listen 127.0.0.1:$np;
    root $work/public;
    gzip_static on;
  }
}
NGINX
$SERVER_PIN nginx -c "$work/nginx/nginx.conf" &
pids+=($!)
wait_port "$hp"; wait_port "$bp"; wait_port "$np"

# Warm herald's cache and read each server's validators.
etag() { curl -s -o /dev/null -D - "$@" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag" {print $2}'; }
curl -sf -o /dev/null "http://127.0.0.1:$hp$feed" || die "herald serve does not answer $feed"
declare -A url tag gztag
url[herald]="http://127.0.0.1:$hp$feed" url[bare]="http://127.0.0.1:$bp$feed" url[nginx]="http://127.0.0.1:$np$feed"
for s in herald bare nginx; do
  tag[$s]=$(etag "${url[$s]}")
  gztag[$s]=$(etag -H 'Accept-Encoding: gzip' "${url[$s]}")
  for h in "" "If-None-Match: ${tag[$s]}"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' ${h:+-H "$h"} "${url[$s]}")
    want=200; [ -n "$h" ] && want=304
    [ "$code" = "$want" ] || die "$s answered $code, want $want (${h:-plain})"
  done
done
size=$(stat -c %s "$file") gzsize=$(stat -c %s "$file.gz")
hsize=$(curl -s -H 'Accept-Encoding: gzip' "${url[herald]}" | wc -c)
say "feed $feed: $size bytes, gzip $gzsize (nginx, gzip -9) / $hsize (herald); ETags: ${tag[herald]} ${tag[bare]} ${tag[nginx]}"

# cpu_ticks PID: user + system clock ticks of PID and its children now
# (nginx's worker is the master's child).
hz=$(getconf CLK_TCK)
cpu_ticks() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
declare -A spid
spid[herald]=${pids[0]} spid[bare]=${pids[1]} spid[nginx]=${pids[2]}

cases="herald:200 bare:200 nginx:200 herald:304 bare:304 nginx:304 herald:gzip nginx:gzip herald:gzip304"
results="$work/serve-results.txt"
: > "$results"
for run in $(seq "$runs"); do
  for c in $cases; do
    s=${c%%:*} k=${c#*:}
    hdr=()
    case $k in
      304) hdr=(-H "If-None-Match: ${tag[$s]}") ;;
      gzip) hdr=(-H 'Accept-Encoding: gzip') ;;
      gzip304) hdr=(-H 'Accept-Encoding: gzip' -H "If-None-Match: ${gztag[$s]}") ;;
    esac
    c0=$(cpu_ticks "${spid[$s]}")
    out=$($LOAD_PIN wrk -t"$threads" -c"$conns" -d"$dur" "${hdr[@]}" "${url[$s]}")
    c1=$(cpu_ticks "${spid[$s]}")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx/ {print $NF}' <<<"$out")
    [ -z "$bad" ] || die "$s $k: $bad error responses"
    # The server's own CPU time per request (user + system), which the
    # machine's other load disturbs far less than the request rate.
    us=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
    echo "$run $s $k $rps $us" >> "$results"
    say "run $run: $s $k $rps req/s, $us us CPU/request"
  done
done

med() { median $(awk -v s="$1" -v k="$2" -v c="${3:-4}" '$2==s && $3==k {print $c}' "$results"); }
echo
echo "machine: $(machine)"
echo "feed: $feed, $size bytes (gzip $hsize); wrk -t$threads -c$conns -d$dur, $runs runs interleaved; server CPU: ${SERVER_CPU:-any}, wrk CPU: ${LOAD_CPU:-any}"
printf '%-8s %12s %12s %12s %12s %12s\n' case herald bare nginx herald/bare bare/nginx
for k in 200 304; do
  h=$(med herald $k) b=$(med bare $k) n=$(med nginx $k)
  printf '%-8s %12s %12s %12s %12s %12s\n' "$k" "$h" "$b" "$n" "$(ratio "$h" "$b")" "$(ratio "$b" "$n")"
done
h=$(med herald gzip) n=$(med nginx gzip) h3=$(med herald gzip304)
printf '%-8s %12s %12s %12s %12s %12s\n' gzip "$h" - "$n" - -
printf '%-8s %12s %12s %12s %12s %12s\n' gzip304 "$h3" - - - -
echo "herald/nginx: 200 $(ratio "$(med herald 200)" "$(med nginx 200)"), 304 $(ratio "$(med herald 304)" "$(med nginx 304)"), gzip $(ratio "$h" "$n")"
echo "server CPU per request (us, median): $(for c in $cases; do printf '%s %s; ' "$c" "$(med "${c%%:*}" "${c#*:}" 5)"; done)"
echo "herald/bare by CPU per request (bare's cost over herald's): 200 $(ratio "$(med bare 200 5)" "$(med herald 200 5)"), 304 $(ratio "$(med bare 304 5)" "$(med herald 304 5)")"
# The same ratios within each run (its cases ran back to back), then their
# median: steadier than a ratio of medians when the machine's load drifts.
runratio() { median $(awk -v a="$1" -v b="$2" -v k="$3" '$3==k && $2==a {x[$1]=$4} $3==k && $2==b {y[$1]=$4}
  END {for (r in x) if (y[r] > 0) printf "%.3f\n", x[r] / y[r]}' "$results"); }
echo "median of per-run ratios: herald/bare 200 $(runratio herald bare 200), 304 $(runratio herald bare 304); bare/nginx 200 $(runratio bare nginx 200), 304 $(runratio bare nginx 304); herald/nginx gzip $(runratio herald nginx gzip)"
echo "raw results: $results"
