#!/bin/sh
# Healthy while the job queue is below 90% of its capacity.
f=${METRICS_FILE:-/tmp/metrics}
[ -r "$f" ] || { echo "no metrics at $f"; exit 1; }
awk '
  /^#/ { next }
  $1 == "jobs_queue_depth"    { d = $2; seen++ }
  $1 == "jobs_queue_capacity" { c = $2; seen++ }
  END {
    if (seen < 2 || c <= 0) { print "metrics incomplete"; exit 1 }
    printf "queue %d/%d (%.0f%%)\n", d, c, 100 * d / c
    exit (d >= 0.9 * c) ? 1 : 0
  }' "$f"
