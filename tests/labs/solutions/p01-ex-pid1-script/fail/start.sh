#!/bin/sh
for i in $(seq 1 20); do
  (sleep 1 &)
done
echo "worker started"
exec sleep 300
