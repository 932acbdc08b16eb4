#!/usr/bin/env bash
# Memory at scale: peak RSS (/usr/bin/time) and planning time of
# `herald send-now` planning and sending one edition to 1,000,000
# subscribers into smtp-sink (bench/send.sh without the smtp-source half).
#
#   bench/memory.sh [WORKDIR]
#
# Environment: SUBSCRIBERS (1000000), RUNS (1), and bench/send.sh's.
set -euo pipefail
SUBSCRIBERS=${SUBSCRIBERS:-1000000} RUNS=${RUNS:-1} NO_SOURCE=1 exec "$(dirname "$0")/send.sh" "$@"
