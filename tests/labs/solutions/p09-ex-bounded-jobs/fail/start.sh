#!/bin/sh
# Process 40 jobs of about a second each, all at once, then wait for them.
for i in $(seq 1 40); do
  (sleep 1; echo "job $i done") &
done
wait
echo "all jobs finished"
