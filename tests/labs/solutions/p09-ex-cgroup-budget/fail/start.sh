#!/bin/sh
# Warm an in-memory cache sized at a quarter of the memory we may use.
total=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
budget=$((total / 4))
echo "cache budget: $budget bytes"
cache=$(head -c "$budget" /dev/zero | tr '\0' x)
echo "cache warm: ${#cache} bytes"
exec sleep 3600
