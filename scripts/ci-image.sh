#!/usr/bin/env bash
# The bot's own image and Compose stack, built and run the way CI can: no container registry is
# reachable and containers cannot reach PyPI. Called by .ci/run; runs by hand too (as root, from
# a checkout whose .venv exists: ./test.sh once).
#
#   1. the host's Docker daemon (started here when nothing answers on its default socket; the
#      lab daemon of scripts/lab-daemon.sh has no network, and the build needs Debian's mirror)
#   2. a Python base image made from Debian's packages (debootstrap: python3, python3-venv),
#      standing in for the official python image, and a PostgreSQL image from Debian's packages
#   3. the lock's wheels, downloaded by the host's pip into deploy/wheels
#   4. the image, built with those (PYTHON_IMAGE, PIP_NO_INDEX=1): once from cold, once warm
#   5. compose.yaml brought up with Debian's docker-compose (1.29) and smoke-checked: migrations
#      run once, the bot connects to a loopback Discord (tests/deploy) and turns healthy, answers
#      `tutorbot health`, then stops on SIGTERM within its grace period; the labs profile's lab
#      daemon starts with no network and the bot uses it through its socket volume
#
# Prints a figure per step. The image's own tests (tests/deploy) run later, in ./test.sh, on
# the image this leaves behind (TUTORBOT_IMAGE).
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-/usr/bin/docker}  # Debian's 20.10 client: its `docker build` speaks BuildKit
COMPOSE=${COMPOSE:-docker-compose}
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
unset DOCKER_HOST  # the host's daemon, never the lab daemon
IMAGE=${TUTORBOT_IMAGE:-tutorbot:ci}
PYTHON_BASE=${CI_PYTHON_IMAGE:-tutorbot-ci/python:3.11-bookworm}
POSTGRES_BASE=${CI_POSTGRES_IMAGE:-tutorbot-ci/postgres:15-bookworm}
LAB_IMAGE=${CI_LAB_IMAGE:-tutorbot-ci/lab-docker:20.10}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PIP=${PIP:-.venv/bin/python -m pip}
PROJECT=tutorbot-ci
GRACE=30  # compose.yaml's stop_grace_period for the bot

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
figure() { printf '   %-44s %s\n' "$1" "$2"; }
fail() { echo "ci-image: $*" >&2; exit 1; }

echo "== Docker: the host's daemon (image builds need Debian's mirror)"
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v "$COMPOSE" >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! "$DOCKER" info >/dev/null 2>&1; then
    echo "   starting dockerd (log: /var/log/tutor-ci-dockerd.log)"
    setsid dockerd >/var/log/tutor-ci-dockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
    "$DOCKER" info >/dev/null 2>&1 || { tail -n 20 /var/log/tutor-ci-dockerd.log >&2; fail "dockerd did not start"; }
fi
"$DOCKER" version --format '   dockerd {{.Server.Version}}, BuildKit via DOCKER_BUILDKIT=1'
"$COMPOSE" version --short | sed 's/^/   docker-compose /'

echo "== base images from Debian's packages (no registry is reachable)"
if ! "$DOCKER" image inspect "$PYTHON_BASE" >/dev/null 2>&1; then
    start=$(now)
    rootfs=$(mktemp -d /tmp/tutor-rootfs.XXXXXX)
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$rootfs" "$MIRROR" \
        >/tmp/tutor-debootstrap.log 2>&1 \
        || { tail -n 20 /tmp/tutor-debootstrap.log >&2; fail "debootstrap failed"; }
    # as Debian's official slim images: apt keeps no caches, dpkg installs no docs
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/locale/*' \
        >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
    rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    tar -C "$rootfs" --numeric-owner -c . | "$DOCKER" import \
        --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$PYTHON_BASE" >/dev/null
    rm -rf "$rootfs"
    figure "python base (debootstrap + import)" "$(since "$start") s"
fi
figure "$PYTHON_BASE" "$("$DOCKER" run --rm "$PYTHON_BASE" python3 --version)"
if ! "$DOCKER" image inspect "$POSTGRES_BASE" >/dev/null 2>&1; then
    start=$(now)
    "$DOCKER" build -q --build-arg BASE_IMAGE="$PYTHON_BASE" -t "$POSTGRES_BASE" \
        tests/deploy/postgres >/dev/null
    figure "postgres stand-in (Debian's postgresql-15)" "$(since "$start") s"
fi

echo "== wheels of the lock, downloaded by the host (containers cannot reach PyPI)"
start=$(now)
sum=$(cat requirements/main.txt requirements/build.txt | cksum | cut -d' ' -f1)
if [ "$(cat deploy/wheels/.lock-sum 2>/dev/null)" != "$sum" ]; then  # a new lock: start afresh
    rm -f deploy/wheels/*.whl
    echo "$sum" >deploy/wheels/.lock-sum
fi
# shellcheck disable=SC2086  # $PIP is a command with arguments
$PIP download --quiet --disable-pip-version-check --require-hashes --no-deps \
    --only-binary=:all: --python-version 3.11 \
    -r requirements/main.txt -r requirements/build.txt -d deploy/wheels
figure "wheelhouse" "$(find deploy/wheels -name '*.whl' | wc -l) wheels, $(du -sh deploy/wheels | cut -f1), $(since "$start") s"

echo "== the image"
build() {
    "$DOCKER" build --quiet --build-arg PYTHON_IMAGE="$PYTHON_BASE" --build-arg PIP_NO_INDEX=1 \
        -t "$IMAGE" . >/dev/null
}
cached=$("$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 && echo "(earlier build cached)" || echo "")
start=$(now); build; figure "build $cached" "$(since "$start") s"
start=$(now); build; figure "rebuild, nothing changed" "$(since "$start") s"
figure "$IMAGE size" "$("$DOCKER" image inspect "$IMAGE" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')"
start=$(now)
"$DOCKER" build -q --build-arg DEBIAN_IMAGE="$PYTHON_BASE" -t "$LAB_IMAGE" deploy/lab-daemon >/dev/null
figure "lab daemon image" "$(since "$start") s"

echo "== Compose: compose.yaml with a loopback Discord (tests/deploy/compose.smoke.yaml)"
export TUTORBOT_IMAGE=$IMAGE CI_POSTGRES_IMAGE=$POSTGRES_BASE CI_LAB_IMAGE=$LAB_IMAGE
POSTGRES_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export POSTGRES_PASSWORD
made_env=""
if [ ! -e .env ]; then  # compose.yaml reads .env (env_file); the smoke file sets what matters
    cp .env.example .env
    made_env=.env
fi
compose() {
    "$COMPOSE" --project-name "$PROJECT" --project-directory . \
        -f compose.yaml -f tests/deploy/compose.smoke.yaml --profile labs "$@"
}
down() { compose down --volumes --remove-orphans >/dev/null 2>&1 || true; }
trap 'down; [ -z "$made_env" ] || rm -f "$made_env"' EXIT
down

container() { compose ps -q "$1"; }
state() { "$DOCKER" inspect --format "$2" "$(container "$1")"; }
wait_for() {  # service, go template, wanted value, seconds
    local deadline=$((SECONDS + $4))
    while [ "$(state "$1" "$2" 2>/dev/null)" != "$3" ]; do
        if [ $SECONDS -gt $deadline ]; then
            compose ps >&2 || true
            compose logs --no-color --tail=40 "$1" >&2 || true
            fail "$1: $2 is not $3 after $4 s"
        fi
        sleep 0.5
    done
}

up() { compose up -d --no-build "$@" >/tmp/tutor-compose-up.log 2>&1 \
    || { cat /tmp/tutor-compose-up.log >&2; fail "compose up $* failed"; }; }
start=$(now)
up lab-docker  # first, as README says: the bot checks the lab daemon's isolation at start-up
wait_for lab-docker '{{.State.Health.Status}}' healthy 120
figure "lab daemon healthy" "$(since "$start") s"
start=$(now)
up
wait_for bot '{{.State.Health.Status}}' healthy 180
figure "compose up to bot healthy" "$(since "$start") s"
[ "$(state migrate '{{.State.Status}} {{.State.ExitCode}}')" = "exited 0" ] \
    || fail "the migrate service did not exit 0: $(state migrate '{{.State.Status}} {{.State.ExitCode}}')"
compose logs --no-color migrate | grep -q "Database is at revision" || fail "migrate said nothing"
compose exec -T bot tutorbot health | grep -qx healthy || fail "tutorbot health in the bot says otherwise"
figure "bot: uid, PID 1" "$(compose exec -T bot id -u), $(compose exec -T bot cat /proc/1/comm)"
figure "bot: memory, pids, log max-size, read-only" \
    "$(state bot '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{index .HostConfig.LogConfig.Config "max-size"}} {{.HostConfig.ReadonlyRootfs}}')"
[ "$(state bot '{{.HostConfig.Memory}}')" -gt 0 ] || fail "the bot runs without a memory limit"
if state bot '{{range .Mounts}}{{.Source}} {{end}}' | grep -q 'docker\.sock'; then
    fail "a Docker socket is mounted into the bot"
fi

# labs: the daemon has no network, the bot (uid 10001) reaches it through the socket volume,
# found it isolated at start-up, and it holds the busybox base image
[ "$(state lab-docker '{{.HostConfig.NetworkMode}}')" = none ] || fail "the lab daemon has a network"
compose exec -T bot python -c 'import docker; docker.DockerClient("unix:///run/tutor-lab/docker.sock").ping()' \
    || fail "the bot cannot reach the lab daemon"
bot_log=$(compose logs --no-color bot)
if grep -q "GRADED LABS ARE OFF" <<<"$bot_log"; then fail "the lab daemon is not isolated"; fi
if grep -q "lab sandbox is off" <<<"$bot_log"; then fail "the bot did not find the lab daemon"; fi
compose exec -T lab-docker docker --host unix:///run/tutor-lab/docker.sock image inspect \
    tutor-lab/busybox:latest >/dev/null || fail "the lab daemon has no busybox base image"

start=$(now)
compose stop -t "$GRACE" bot >/dev/null 2>&1
stopped=$(since "$start")
figure "bot stop on SIGTERM (grace ${GRACE} s)" "$stopped s, exit $(state bot '{{.State.ExitCode}}')"
[ "$(state bot '{{.State.ExitCode}}')" = 0 ] || fail "the bot did not exit 0 on SIGTERM"
compose logs --no-color bot | grep -q "stopped cleanly" || fail "the bot did not log 'stopped cleanly'"
awk -v s="$stopped" -v g="$GRACE" 'BEGIN { exit !(s < g) }' || fail "the stop took the whole grace period"
echo "   compose smoke: ok"
