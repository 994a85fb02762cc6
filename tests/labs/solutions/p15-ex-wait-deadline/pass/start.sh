#!/bin/sh
# Wait for DB_HOST:DB_PORT with backoff, at most WAIT_TIMEOUT s, then exec "$@".
set -u
deadline=$(( $(date +%s) + WAIT_TIMEOUT ))
delay=1
until nc -w 1 "$DB_HOST" "$DB_PORT" </dev/null 2>/dev/null; do
  now=$(date +%s)
  if [ "$now" -ge "$deadline" ]; then
    echo "wait: gave up on $DB_HOST:$DB_PORT after ${WAIT_TIMEOUT}s" >&2
    exit 1
  fi
  left=$(( deadline - now ))
  [ "$delay" -gt "$left" ] && delay=$left
  echo "wait: $DB_HOST:$DB_PORT not ready, retry in ${delay}s" >&2
  sleep "$delay"
  delay=$(( delay * 2 )); [ "$delay" -gt 8 ] && delay=8
done
echo "wait: $DB_HOST:$DB_PORT is up" >&2
exec "$@"
