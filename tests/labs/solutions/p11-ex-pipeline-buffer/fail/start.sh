#!/bin/sh
# A SIGTERM trap does not help: sed still holds the lines in its buffer,
# and the container is killed, not stopped.
trap 'exit 0' TERM
worker() {
  i=1
  while true; do
    echo "job $i done"
    i=$((i + 1))
    sleep 1
  done
}
worker | sed 's/.*/{"level":"info","service":"billing","msg":"&"}/'
