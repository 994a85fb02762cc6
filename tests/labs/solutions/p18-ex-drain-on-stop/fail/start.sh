#!/bin/sh
# serve /tmp/www on :8080; on SIGTERM: readiness off, drain, exit 0
mkdir -p /tmp/www
echo v1 > /tmp/www/index.html
echo ok > /tmp/www/ready
httpd -f -p 8080 -h /tmp/www &
pid=$!
drain() {
  echo "SIGTERM: readiness off"
  rm -f /tmp/www/ready
  sleep 5                        # "give clients time"
  kill -TERM "$pid"; wait "$pid"
  echo "drained, exit 0"
  exit 0
}
trap drain TERM
echo "serving on :8080"
wait "$pid"
