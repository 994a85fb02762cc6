#!/bin/sh
set -eu
# Prepare the environment, then become the command we were given.
export APP_ENV="${APP_ENV:-production}"
echo "start.sh: APP_ENV=$APP_ENV" >&2
exec "$@"
