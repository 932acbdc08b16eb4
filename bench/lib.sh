# Shared helpers for the bench/ scripts (sourced, not run).
#
# Peers come from Debian's packages: nginx, wrk, and postfix (for the
# standard SMTP load tools smtp-source and smtp-sink; the mail daemon is
# never started). debconf is preseeded so installing postfix never asks.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# need_peers installs the Debian packages the benchmarks compare against,
# once, without prompts.
need_peers() {
  local missing=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v wrk >/dev/null || missing+=(wrk)
  [ -x /usr/sbin/smtp-source ] && [ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
  command -v sqlite3 >/dev/null || missing+=(sqlite3)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v curl >/dev/null || missing+=(curl)
  command -v taskset >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "needs root to apt-get install ${missing[*]}"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
  apt-get update -qq
  # policy-rc.d-less containers may try to start nginx/postfix: harmless.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}

# build_herald builds herald and the helpers into $1.
build_herald() {
  (cd "$bench_root" && go build -o "$1/herald" ./cmd/herald && go build -o "$1/gen" ./bench/gen &&
    go build -o "$1/bareserver" ./bench/bareserver)
}

# median prints the median of its numeric arguments (the lower middle one
# for an even count, so it is always a measured value).
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# ratio A B prints A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

# free_port prints a free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT waits (at most 20 s) until 127.0.0.1:PORT accepts.
wait_port() {
  local i
  for i in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listening on 127.0.0.1:$1"
}

# cpu_split sets SERVER_CPU and LOAD_CPU: with two or more CPUs the server
# under test and the load generator each get their own (taskset), so every
# server is measured on one core and the load tool never competes with it.
cpu_split() {
  local n; n=$(nproc)
  if [ "$n" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_CPU=${SERVER_CPU:-$((n - 1))} LOAD_CPU=${LOAD_CPU:-0}
    SERVER_PIN="taskset -c $SERVER_CPU" LOAD_PIN="taskset -c $LOAD_CPU"
  else
    SERVER_PIN="" LOAD_PIN=""
  fi
}

# machine prints the machine line the docs quote.
machine() {
  # With HERALD_BIN the tree's commit says nothing about the binary
  # measured: HERALD_REV names it (else the line says "binary PATH").
  if [ -n "${HERALD_BIN:-}" ]; then
    printf 'herald %s (HERALD_BIN); ' "${HERALD_REV:-binary $HERALD_BIN}"
  else
    printf 'herald %s; ' "$(git -C "$bench_root" describe --always --dirty 2>/dev/null || echo unknown)"
  fi
  printf 'nproc %s; %s MiB; %s; %s; %s\n' "$(nproc)" "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$(go env GOVERSION)" "$(uname -r)"
}
