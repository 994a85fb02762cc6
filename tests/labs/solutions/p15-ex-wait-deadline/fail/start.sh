#!/bin/sh
# Wait for the database, then start the app.
until nc -w 1 "$DB_HOST" "$DB_PORT" </dev/null 2>/dev/null; do
  echo "wait: $DB_HOST:$DB_PORT not ready" >&2
  sleep 1
done
exec "$@"
