#!/bin/sh
# Print this container's memory limit, working set and their ratio.
limit=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
used=$(awk '/^MemTotal:/ {t = $2} /^MemAvailable:/ {a = $2}
            END {print (t - a) * 1024}' /proc/meminfo)
echo "limit=$limit usage=$used working_set=$used"
awk -v w=$used -v l=$limit 'BEGIN {
  r = 100 * w / l
  printf "working_set_ratio=%.1f%% status=%s\n", r, (r >= 90 ? "near-limit" : "ok")
}'
