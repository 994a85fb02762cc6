#!/bin/sh
# Print this container's memory limit, working set and their ratio.
if [ -r /sys/fs/cgroup/memory.max ]; then             # cgroup v2
  d=/sys/fs/cgroup
  limit=$(cat $d/memory.max); usage=$(cat $d/memory.current)
  key=inactive_file
else                                                  # cgroup v1
  d=/sys/fs/cgroup/memory
  limit=$(cat $d/memory.limit_in_bytes); usage=$(cat $d/memory.usage_in_bytes)
  key=total_inactive_file
fi
inactive=$(awk -v k=$key '$1 == k {print $2}' $d/memory.stat)
ws=$(( usage - ${inactive:-0} ))
[ "$ws" -lt 0 ] && ws=0
echo "limit=$limit usage=$usage working_set=$ws"
case $limit in
  max|9223372036854*) echo "status=unlimited"; exit 0 ;;
esac
awk -v w=$ws -v l=$limit 'BEGIN {
  r = 100 * w / l
  printf "working_set_ratio=%.1f%% status=%s\n", r, (r >= 90 ? "near-limit" : "ok")
}'
