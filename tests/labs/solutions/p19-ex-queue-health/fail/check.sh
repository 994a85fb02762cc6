#!/bin/sh
# Healthy while the job queue is below 90% of its capacity.
f=${METRICS_FILE:-/tmp/metrics}
[ -r "$f" ] || { echo "no metrics at $f"; exit 1; }
depth=$(awk '$1 == "jobs_queue_depth" {print $2}' "$f")
echo "queue depth $depth"
[ "$depth" -lt 180 ]
