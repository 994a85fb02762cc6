#!/bin/sh
# orders-api (stand-in): one compact JSON object per line, on stdout
log() {  # log LEVEL MSG [EXTRA-FIELDS]
  extra=""
  [ -n "$3" ] && extra=",$3"
  printf '{"ts":"%s","level":"%s","service":"orders-api","msg":"%s"%s}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" "$extra"
}
db_host=${DATABASE_URL#*@}   # drop scheme, user and password
db_host=${db_host%%[:/]*}    # drop port and database name
log info "starting" "\"db_host\":\"$db_host\""
log info "GET /orders/1842" '"request_id":"req-42","status":200,"duration_ms":12'
log info "shutting down"
