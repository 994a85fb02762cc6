#!/bin/sh
# web: serves /srv/www on $PORT, logging to $LOG_DIR/web.log
set -eu
exec >>"$LOG_DIR/web.log" 2>&1
echo "web: starting on port $PORT"
exec httpd -f -vv -p "$PORT" -h /srv/www
