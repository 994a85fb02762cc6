#!/bin/sh
# billing-worker (stand-in): the shell writes each JSON line as it happens
worker() {
  i=1
  while true; do
    echo "job $i done"
    i=$((i + 1))
    sleep 1
  done
}
worker | while IFS= read -r line; do
  printf '{"level":"info","service":"billing","msg":"%s"}\n' "$line"
done
