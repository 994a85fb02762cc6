#!/bin/sh
# Process 40 jobs of about a second each, at most 10 at a time.
running=0
for i in $(seq 1 40); do
  (sleep 1; echo "job $i done") &
  running=$((running + 1))
  if [ "$running" -ge 10 ]; then
    wait
    running=0
  fi
done
wait
echo "all jobs finished"
