#!/usr/bin/env bash
# Memory at scale: peak RSS (/usr/bin/time) and planning time of
# `herald send-now` planning and sending one edition to 1,000,000
# subscribers into smtp-sink (bench/send.sh without the smtp-source half).
#
#   bench/memory.sh [WORKDIR]
#
# Environment: SUBSCRIBERS (1000000), RUNS (1), and bench/send.sh's.
# The figures docs/benchmarks.md quotes, one command each:
#   bench/memory.sh W                                  1M subscribers (goal < 50 MB)
#   SUBSCRIBERS=100000 bench/memory.sh W               100k (goal < 40 MB)
#   WORST=1 SUBSCRIBERS=100000 bench/memory.sh W       100k, nearly every subscriber a different set
#   WORST=1 bench/memory.sh W                          1M, the same (slow: every message renders its own digest)
# WORST=1 is FOLLOWS=distinct with 50 sections, 500 authors and 20,000
# articles (about 150 candidates a fortnight), so nearly every reader's
# article set, and so every digest, is different.
set -euo pipefail
if [ "${WORST:-}" = 1 ]; then
  export FOLLOWS=distinct SECTIONS=${SECTIONS:-50} AUTHORS=${AUTHORS:-500} ARTICLES=${ARTICLES:-20000}
fi
SUBSCRIBERS=${SUBSCRIBERS:-1000000} RUNS=${RUNS:-1} NO_SOURCE=1 exec "$(dirname "$0")/send.sh" "$@"
