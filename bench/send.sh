#!/usr/bin/env bash
# Delivering digests: `herald send-now` to smtp-sink on 127.0.0.1 vs
# smtp-source sending the same number of messages of the same mean size
# to the same sink over the same number of connections (-s CONNS, -d: one
# connection carries many messages, as herald's pool does), interleaved and
# repeated; medians and the ratio. herald renders every message for its
# subscriber (HTML + text templates, tokens, CSS inlined).
#
#   bench/send.sh [WORKDIR]
#
# Environment: RUNS (3), SUBSCRIBERS (100000), CONNS (smtp.max_connections
# and smtp-source -s, 4), ARTICLES/SECTIONS/AUTHORS (2000/10/50), SINCE
# (send-now --since, 14d: about 15 candidate articles), FOLLOWS (mixed:
# half follow everything, half a few sections and authors; distinct:
# nearly every subscriber a different set, see bench/gen), DKIM (empty:
# off; rsa: a 2048-bit RSA key; ed25519), NO_SOURCE (1: skip smtp-source,
# for bench/memory.sh), HERALD_BIN (a herald binary to measure instead of
# this tree's: an older build, side by side; HERALD_REV names it on the
# machine line), WATCH (1: each run sends the
# edition a second time, from a fresh copy, with herald serve running and
# an editor watching its live progress, and reports that run's sending
# rate against the plain one's; the bar is 0.95).
#
# The figures docs/benchmarks.md quotes, one command each:
#   bench/send.sh W                 4 connections (the goal: herald/smtp-source >= 0.8 overall)
#   CONNS=1 bench/send.sh W         one connection
#   CONNS=16 bench/send.sh W        sixteen
#   DKIM=rsa bench/send.sh W        DKIM-signed (rsa-sha256, 2048 bits)
#   DKIM=ed25519 bench/send.sh W    DKIM-signed (ed25519-sha256)
#
# Each herald run works on a fresh copy of the generated database (a second
# edition would find every article already received). Peak RSS comes from
# /usr/bin/time; the sending rate counts from "edition sending" (planning
# runs beside the sending since 2026-11-29; "edition planned" for an older
# herald) to "edition done" in herald's log, the total rate the whole
# command.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_peers
work=${1:-$(mktemp -d -t herald-send-XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
runs=${RUNS:-3} subs=${SUBSCRIBERS:-100000} conns=${CONNS:-4} since=${SINCE:-14d} follows=${FOLLOWS:-mixed}
arts=${ARTICLES:-2000} secs=${SECTIONS:-10} auths=${AUTHORS:-50} dkim=${DKIM:-}
build_herald "$work"
if [ -n "${HERALD_BIN:-}" ]; then cp "$HERALD_BIN" "$work/herald"; fi
base="$work/send-$subs-$follows-a$arts-s$secs-u$auths.db"
if [ ! -s "$base" ]; then
  say "generating $arts articles and $subs subscribers ($follows follows)"
  rm -f "$base.tmp"*
  # Articles up to an hour ago; every article counts as seen on its own
  # date (as if herald had watched the site for five years), so --since
  # picks a realistic window rather than everything the generator wrote.
  "$work/gen" -db "$base.tmp" -articles "$arts" -sections "$secs" -authors "$auths" -follows "$follows" \
    -subscribers "$subs" -end "$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)" >&2
  sqlite3 "$base.tmp" "UPDATE herald_article_visible SET seen_at = coalesce((SELECT unixepoch(published_at) FROM articles WHERE id = article_id), 0);
    DELETE FROM herald_changes; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  mv "$base.tmp" "$base"
fi

port=$(free_port)
dkimyaml=""
case "$dkim" in
  "") ;;
  rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/dkim.pem" 2>/dev/null ;;
  ed25519) openssl genpkey -algorithm ed25519 -out "$work/dkim.pem" ;;
  *) die "DKIM must be empty, rsa or ed25519" ;;
esac
[ -z "$dkim" ] || dkimyaml=", dkim: { domain: news.example.com, selector: bench, private_key_file: \"$work/dkim.pem\" }"
cat > "$work/herald.yaml" <<YAML
site: { url: "https://news.example.com", postal_address: "1 Main Street, Springfield" }
secret: "bench-secret-bench-secret-bench-secret"
log: { level: info, format: json }
smtp: { host: 127.0.0.1, port: $port, tls: none, max_connections: $conns, from: "News <digest@news.example.com>"$dkimyaml }
digests:
  - { name: daily, title: "Daily briefing", schedule: "0 7 1 1 *", timezone: UTC, catch_up: 1m }
YAML
export HERALD_CONFIG="$work/herald.yaml"

sinkpid=
# sinkcpu prints smtp-sink's user + system CPU seconds so far.
sinkcpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$sinkpid/stat"; }
cleanup() { [ -z "$sinkpid" ] || kill "$sinkpid" 2>/dev/null || true; }
trap cleanup EXIT
smtp-sink -u nobody "127.0.0.1:$port" 1024 2> "$work/sink.log" &
sinkpid=$!
wait_port "$port"

# Mean message size: the whole edition, written as .eml files by the file
# transport (the bytes herald sends, before dot-stuffing), at each
# invocation: the --since window moves with the clock, and with it the
# edition (an article leaving the window changed it within two hours). A
# sample of every 50th subscription, as this script took before
# 2026-11-30, was not a random one (bench/gen assigns follows by id): on
# the bench database it read 22,383 bytes against the edition's 22,665.
# Without smtp-source (bench/memory.sh) no size is needed.
size=0 neml=0 payload=0
if [ "${NO_SOURCE:-}" != 1 ]; then
  sample="$work/sample.db"
  cp "$base" "$sample"
  rm -rf "$work/eml"
  HERALD_DATABASE="$sample" HERALD_SMTP_TRANSPORT=file HERALD_SMTP_FILE_DIR="$work/eml" \
    "$work/herald" --log-level error send-now --since "$since" > "$work/sample-out.txt"
  read -r size neml < <(find "$work/eml" -type f -name '*.eml' -printf '%s\n' | awk '{s+=$1; n++} END {printf "%d %d\n", s/n, n}')
  rm -rf "$work/eml" "$sample"
  # smtp-source adds about 150 bytes of headers to its -l payload (143 on
  # the wire with its CR-LF line ends, from a dump of what smtp-sink took).
  payload=$((size - 150))
  say "mean message size $size bytes over all $neml messages of the edition"
fi

# sending_started LOG prints when sending started in herald's JSON log:
# "edition sending" (since planning runs beside the sending), or for an
# older herald that planned first, "edition planned".
sending_started() {
  jq -r 'select(.msg=="edition sending" or .msg=="edition planned") | .time' "$1" | head -1
}

# sending_rate LOG SENT prints the sending rate (sending_started to
# "edition done" in herald's JSON log).
sending_rate() {
  local p d
  p=$(sending_started "$1")
  d=$(jq -r 'select(.msg=="edition done") | .time' "$1" | tail -1)
  python3 -c "import sys,datetime as d;f=lambda s:d.datetime.fromisoformat(s.replace('Z','+00:00')).timestamp();print('%.0f'%(int(sys.argv[3])/(f(sys.argv[2])-f(sys.argv[1]))))" "$p" "$d" "$2"
}

# watched_run sends the edition again from a fresh copy of the database
# while herald serve runs on it and an editor watches the edition's
# progress stream (GET /admin/editions/ID/events with a logged-in session:
# the request the edition page's EventSource makes), and prints the
# sending rate and how many progress events the watcher received.
watched_run() {
  local db="$work/watch.db" wport jar tok id spid hpid wpid sent
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$base" "$db"
  HERALD_DATABASE="$db" HERALD_EDITOR_PASSWORD=bench-editor-password \
    "$work/herald" --log-level error editors add bench@example.com > /dev/null
  wport=$(free_port)
  HERALD_DATABASE="$db" "$work/herald" --log-level error serve --listen "127.0.0.1:$wport" 2> "$work/serve-watch.log" &
  spid=$!
  wait_port "$wport"
  jar="$work/cookies.txt"
  rm -f "$jar"
  tok=$(curl -fsS -c "$jar" -b "$jar" "http://127.0.0.1:$wport/admin/login" | sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p')
  curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "token=$tok" --data-urlencode email=bench@example.com \
    --data-urlencode password=bench-editor-password "http://127.0.0.1:$wport/admin/login"
  HERALD_DATABASE="$db" "$work/herald" send-now --since "$since" > "$work/out-watch.txt" 2> "$work/log-watch.json" &
  hpid=$!
  id=
  while [ -z "$id" ]; do id=$(sqlite3 "$db" "SELECT max(id) FROM editions" 2>/dev/null || true); sleep 0.02; done
  curl -sS -N -b "$jar" "http://127.0.0.1:$wport/admin/editions/$id/events" > "$work/events.txt" &
  wpid=$!
  wait "$hpid"
  wait "$wpid" || true # the stream ends when the edition is done
  kill "$spid" 2> /dev/null || true
  wait "$spid" 2> /dev/null || true
  sent=$(awk '{print $2}' "$work/out-watch.txt" | tr -d ,)
  echo "$(sending_rate "$work/log-watch.json" "$sent") $(grep -c '^event: progress' "$work/events.txt")"
}

results="$work/send-results.txt"
: > "$results"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$runs"); do
  db="$work/run.db"
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$base" "$db"
  k0=$(sinkcpu)
  HERALD_DATABASE="$db" /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" \
    "$work/herald" send-now --since "$since" > "$work/out.txt" 2> "$work/log.json"
  k1=$(sinkcpu)
  sent=$(awk '{print $2}' "$work/out.txt" | tr -d ,)
  read -r wall rss hu hs < "$work/time.txt"
  hcpu=$(awk -v u="$hu" -v s="$hs" -v n="$sent" 'BEGIN {printf "%.0f", (u+s)/n*1e6}')
  hsink=$(awk -v a="$k0" -v b="$k1" -v n="$sent" 'BEGIN {printf "%.0f", (b-a)/n*1e6}')
  plan_s=$(sending_started "$work/log.json")
  done_s=$(jq -r 'select(.msg=="edition done") | .time' "$work/log.json" | tail -1)
  start_s=$(head -1 "$work/log.json" | jq -r .time)
  sending=$(python3 -c "import sys,datetime as d;f=lambda s:d.datetime.fromisoformat(s.replace('Z','+00:00')).timestamp();print('%.3f'%(f(sys.argv[2])-f(sys.argv[1])))" "$plan_s" "$done_s")
  planning=$(python3 -c "import sys,datetime as d;f=lambda s:d.datetime.fromisoformat(s.replace('Z','+00:00')).timestamp();print('%.3f'%(f(sys.argv[2])-f(sys.argv[1])))" "$start_s" "$plan_s")
  herald_rate=$(awk -v n="$sent" -v s="$sending" 'BEGIN {printf "%.0f", n/s}')
  herald_total=$(awk -v n="$sent" -v s="$wall" 'BEGIN {printf "%.0f", n/s}')
  [ "$sent" -gt 0 ] || die "herald sent nothing: $(cat "$work/out.txt")"

  watch_rate=0 events=0
  if [ "${WATCH:-}" = 1 ]; then
    read -r watch_rate events < <(watched_run)
    say "run $run watched: $watch_rate msgs/s sending while an editor watched ($events progress events), plain $herald_rate"
  fi

  src=0 scpu=0 ssink=0
  if [ "${NO_SOURCE:-}" != 1 ]; then
  s0=$(date +%s.%N) k0=$(sinkcpu)
  /usr/bin/time -f '%U %S' -o "$work/stime.txt" \
    smtp-source -d -s "$conns" -l "$payload" -m "$sent" -f digest@news.example.com -t reader@example.org "127.0.0.1:$port"
  s1=$(date +%s.%N) k1=$(sinkcpu)
  read -r su ss < "$work/stime.txt"
  src=$(awk -v a="$s0" -v b="$s1" -v n="$sent" 'BEGIN {printf "%.0f", n/(b-a)}')
  scpu=$(awk -v u="$su" -v s="$ss" -v n="$sent" 'BEGIN {printf "%.0f", (u+s)/n*1e6}')
  ssink=$(awk -v a="$k0" -v b="$k1" -v n="$sent" 'BEGIN {printf "%.0f", (b-a)/n*1e6}')
  fi
  echo "$run $sent $wall $planning $sending $herald_rate $herald_total $rss $src $hcpu $hsink $scpu $ssink $watch_rate $events" >> "$results"
  say "run $run: herald sent $sent in ${wall}s (until sending ${planning}s, sending ${sending}s): $herald_rate msgs/s sending, $herald_total overall, peak RSS $((rss / 1024)) MB, CPU ${hcpu}us/msg (sink ${hsink}); smtp-source $src msgs/s, CPU ${scpu}us/msg (sink ${ssink}); load $(cut -d' ' -f1 /proc/loadavg)"
done

col() { median $(awk -v c="$1" '{print $c}' "$results"); }
echo
echo "machine: $(machine)"
sizes="mean message $size bytes (smtp-source -l $payload)"
[ "${NO_SOURCE:-}" != 1 ] || sizes="message size not measured (NO_SOURCE)"
echo "subscribers: $subs ($follows follows); sent per edition: $(col 2); $sizes; connections: $conns; DKIM: ${dkim:-off}; $runs runs interleaved; load average before: $load0"
printf '%-34s %s\n' "herald sending rate (msgs/s)" "$(col 6)" "herald overall incl. planning" "$(col 7)" \
  "smtp-source -d (msgs/s)" "$(col 9)" "herald/smtp-source (sending)" "$(ratio "$(col 6)" "$(col 9)")" \
  "herald/smtp-source (overall)" "$(ratio "$(col 7)" "$(col 9)")" "until sending starts (s)" "$(col 4)" \
  "peak RSS (MB)" "$(awk -v m="$(col 8)" 'BEGIN {printf "%.0f", m/1024}')" \
  "CPU per message, herald (us)" "$(col 10)" "  smtp-sink while herald sends" "$(col 11)" \
  "CPU per message, smtp-source (us)" "$(col 12)" "  smtp-sink while it sends" "$(col 13)"
if [ "${WATCH:-}" = 1 ]; then
  printf '%-34s %s\n' "sending rate, editor watching" "$(col 14)" "watched/plain (bar 0.95)" "$(ratio "$(col 14)" "$(col 6)")" \
    "progress events per watched run" "$(col 15)"
fi
echo "raw results: $results"
