# The tutor bot's image. CI builds it, runs it until healthy and stops it (scripts/ci-image.sh,
# tests/deploy); compose.yaml runs it with PostgreSQL.
#
#   docker build -t tutorbot .          # needs BuildKit: the default since Engine 23;
#                                       # DOCKER_BUILDKIT=1 on Engine 20.10
#   docker run -d --env-file .env -v tutor-data:/app/data tutorbot
#
# PYTHON_IMAGE: a Debian bookworm image with Python 3.11 and its venv module. The default is
# the official image from Docker Hub (pin its digest too when you deploy: name:tag@sha256:...).
# CI reaches no registry, so that default is not what CI builds: CI makes a stand-in from
# Debian's own packages (debootstrap, python3, python3-venv) and passes it here. Every stage
# uses the same image: the venv the last one copies points at that image's python3.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- deps: the locked dependencies (requirements/*.txt, with hashes). This layer is rebuilt
# only when a lock file changes, never for a change to the bot's code.
FROM ${PYTHON_IMAGE} AS deps
# pip reads these as PIP_* variables. PIP_NO_INDEX=1 installs only from deploy/wheels: CI fills
# it with the lock's wheels, downloaded by the host, because its containers cannot reach PyPI.
# Left at 0, pip downloads from PyPI (deploy/wheels is then empty and changes nothing).
ARG PIP_NO_INDEX=0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_FIND_LINKS=/wheels \
    PIP_ROOT_USER_ACTION=ignore
COPY requirements/main.txt requirements/build.txt /requirements/
# /opt/build: pip and the build backend, never shipped; /opt/venv: the bot's, without pip.
RUN --mount=type=bind,source=deploy/wheels,target=/wheels \
    python3 -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes --no-deps -r /requirements/build.txt \
    && python3 -m venv --without-pip /opt/venv \
    && /opt/build/bin/pip --python /opt/venv/bin/python install --require-hashes --no-deps \
        -r /requirements/main.txt

# --- build: the bot itself, as a wheel, built with the locked build backend.
FROM deps AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY content ./content
COPY storage ./storage
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --no-index --wheel-dir /dist .

# --- the image: Python, tini, the dependencies' layer, the bot's layer, a user of its own.
FROM ${PYTHON_IMAGE}
# tini runs as PID 1: it passes SIGTERM on to the bot (which then finishes its interactions and
# closes cleanly) and reaps orphaned processes (the health check's included).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tutor \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin tutor \
    && install -d -o 10001 -g 10001 /app /app/data
COPY --from=deps /opt/venv /opt/venv
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    --mount=type=bind,from=deps,source=/opt/build,target=/opt/build \
    PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
    /opt/build/bin/pip --python /opt/venv/bin/python install --no-cache-dir --no-index \
        --no-deps /dist/docker_tutorbot-*.whl
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/app/data
WORKDIR /app
# No VOLUME here: mount a named volume on /app/data (compose.yaml does), or the SQLite database
# lives and dies with the container.
USER 10001:10001
# Healthy = a fresh heartbeat from a bot connected to Discord, and a database that answers with
# the schema this bot needs (bot/health.py).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["tutorbot", "health"]
ENTRYPOINT ["/usr/bin/tini", "--", "tutorbot"]
CMD ["run"]
