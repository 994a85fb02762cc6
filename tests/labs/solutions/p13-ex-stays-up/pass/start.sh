#!/bin/sh
# web: serves /srv/www on $PORT; logs go to stdout, where docker logs reads them
set -eu
echo "web: starting on port $PORT"
exec httpd -f -vv -p "$PORT" -h /srv/www
