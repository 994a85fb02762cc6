#!/bin/sh
# JSON lines, but the config line still carries the full URL (and password)
ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "{\"ts\":\"$ts\",\"level\":\"info\",\"service\":\"orders-api\",\"msg\":\"starting\",\"db\":\"$DATABASE_URL\"}"
echo "{\"ts\":\"$ts\",\"level\":\"info\",\"service\":\"orders-api\",\"msg\":\"GET /orders/1842\",\"request_id\":\"req-42\"}"
echo "{\"ts\":\"$ts\",\"level\":\"info\",\"service\":\"orders-api\",\"msg\":\"shutting down\"}"
