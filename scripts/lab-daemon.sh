#!/usr/bin/env bash
# Start the lab sandbox's own Docker daemon inside a network namespace that has only loopback.
#
# Whatever a learner's Dockerfile makes the daemon do (ADD a URL, a pull, a bypass nobody has
# found yet), the daemon itself cannot reach the host's network or a cloud metadata service.
# It has its own socket, data root and exec root, so it shares nothing with the host's daemon.
# Idempotent: a daemon already answering on the socket is left alone. Needs root.
#
#   scripts/lab-daemon.sh            start it (prints the DOCKER_HOST to give the bot)
#   scripts/lab-daemon.sh stop       stop it (the namespace and data root stay)
set -euo pipefail

NETNS=${LAB_NETNS:-tutor-lab}
RUN_DIR=${LAB_RUN_DIR:-/run/tutor-lab}
DATA_ROOT=${LAB_DATA_ROOT:-/var/lib/tutor-lab-docker}
SOCKET=$RUN_DIR/docker.sock
HOST=unix://$SOCKET

answers() { DOCKER_HOST=$HOST docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [ "${1:-start}" = stop ]; then
    if [ -f "$RUN_DIR/dockerd.pid" ]; then
        kill "$(cat "$RUN_DIR/dockerd.pid")" 2>/dev/null || true
        for _ in $(seq 1 30); do answers || break; sleep 1; done
    fi
    exit 0
fi

if answers; then
    echo "$HOST"
    exit 0
fi

[ -e "/var/run/netns/$NETNS" ] || ip netns add "$NETNS"
ip -n "$NETNS" link set lo up
mkdir -p "$RUN_DIR" "$DATA_ROOT"

# nsenter enters only the network namespace: `ip netns exec` would also remount /sys and hide
# the cgroup mounts from dockerd.
setsid nsenter --net="/var/run/netns/$NETNS" dockerd \
    --host "$HOST" \
    --data-root "$DATA_ROOT" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$RUN_DIR/dockerd.pid" \
    --bridge none --iptables=false --ip-masq=false --ip-forward=false \
    >"$RUN_DIR/dockerd.log" 2>&1 </dev/null &

for _ in $(seq 1 60); do
    if answers; then
        echo "$HOST"
        exit 0
    fi
    sleep 1
done
echo "the lab daemon did not answer on $SOCKET within 60 s; its log ends with:" >&2
tail -n 20 "$RUN_DIR/dockerd.log" >&2 || true
exit 1
