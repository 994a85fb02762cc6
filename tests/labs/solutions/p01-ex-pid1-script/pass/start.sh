#!/bin/sh
# Each helper starts from a subshell that exits at once, so PID 1 adopts it.
for i in $(seq 1 20); do
  (sleep 1 &)
done
echo "worker started"
sleep 300 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit $?' TERM
# `wait` reaps any child of PID 1, adopted orphans included, until the worker ends.
while kill -0 "$child" 2>/dev/null; do
  wait
done
