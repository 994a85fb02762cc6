#!/bin/sh
# The lab daemon in its container (deploy/lab-daemon/Dockerfile): dockerd with its socket on the
# volume it shares with the bot, owned by the bot's group; no bridge, no iptables rules (the
# container has no network anyway). On its first start it imports the labs' busybox base image
# from Debian's busybox-static, as `python -m bot.labs.baseimage` does; other base images are
# loaded by the operator (README, "Running it in Docker").
set -eu

SOCKET_DIR=/run/tutor-lab
SOCKET=unix://$SOCKET_DIR/docker.sock
SOCKET_GID=${LAB_SOCKET_GID:-10001}       # the bot image's group
BUILD_CGROUP=${LAB_BUILD_CGROUP-tutor-lab} # as the bot's LAB_BUILD_CGROUP; '' = none
BUILD_PIDS=${LAB_BUILD_PIDS:-256}

# dockerd makes a cgroup per container below this container's own, so the limits compose.yaml
# sets here hold for every lab container too. Docker mounts the cgroup filesystem read-only
# into an unprivileged container: make it writable (CAP_SYS_ADMIN, from compose.yaml).
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    # v2: remount, then leave the root group so that groups may be made below it (as moby's dind)
    mount -o remount,rw /sys/fs/cgroup
    mkdir -p /sys/fs/cgroup/init
    xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
    sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers \
        >/sys/fs/cgroup/cgroup.subtree_control || :
else
    # v1: each controller is a read-only bind of this container's group; make it read-write
    for controller in /sys/fs/cgroup/*/; do
        mount -o remount,rw,bind "$controller"
    done
fi
# the cgroup parent of build steps, with its pids cap: the bot, in a container of its own,
# cannot make it (it logs that it cannot; the cap made here holds all the same)
if [ -n "$BUILD_CGROUP" ]; then
    if [ -d /sys/fs/cgroup/pids ]; then group=/sys/fs/cgroup/pids/$BUILD_CGROUP; else
        group=/sys/fs/cgroup/$BUILD_CGROUP; fi
    mkdir -p "$group" && echo "$BUILD_PIDS" >"$group/pids.max" \
        || echo "lab-daemon: build steps run without a pids cap ($group)" >&2
fi

import_busybox() {
    for _ in $(seq 1 60); do
        docker --host "$SOCKET" version >/dev/null 2>&1 && break
        sleep 1
    done
    docker --host "$SOCKET" image inspect tutor-lab/busybox:latest >/dev/null 2>&1 && return
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" \
        "$root/root" "$root/home" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
    chmod 1777 "$root/tmp"
    chmod 700 "$root/root"
    cp /bin/busybox "$root/bin/busybox"
    for path in $(/bin/busybox --list-full); do
        [ "$path" = bin/busybox ] || ln -s /bin/busybox "$root/$path"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' \
        >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar -C "$root" --numeric-owner --owner=0 --group=0 -c . | docker --host "$SOCKET" import \
        --change 'LABEL tutor-lab.base=1' --change 'CMD ["sh"]' - tutor-lab/busybox:latest \
        >/dev/null
    rm -rf "$root"
    echo "lab-daemon: imported tutor-lab/busybox:latest"
}

mkdir -p "$SOCKET_DIR"
rm -f "$SOCKET_DIR/docker.sock" "$SOCKET_DIR/dockerd.pid"
import_busybox &
exec dockerd --host "$SOCKET" --group "$SOCKET_GID" --pidfile "$SOCKET_DIR/dockerd.pid" \
    --bridge none --iptables=false --ip-masq=false --ip-forward=false
