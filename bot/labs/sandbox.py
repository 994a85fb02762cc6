"""Build and run a learner's image on the Docker daemon, hardened, and always clean up.

Every call here blocks: the service runs `Sandbox.run_job` in a worker thread. The limits:

- never pull: every base image must already be present (checked first; `pull` is off);
- no network while building or running (`network_mode="none"`);
- build steps: memory = memory+swap, a CPU quota, a cgroup parent whose `pids.max` caps their
  processes (when the host lets us set it), a wall-clock limit and a cap on what a step writes,
  both enforced by a watchdog that kills the step's container;
- the container: the same memory and CPU, `pids_limit`, every capability dropped,
  no-new-privileges, a read-only root with a small tmpfs on /tmp, a non-root user (the image's
  own when it is not root, else 65534), a wall-clock limit that kills, logs capped on disk and
  in what we read;
- every container and image of the job carries the job's label and is removed in a `finally`;
  `sweep` removes what a crashed process left behind.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
from docker.models.containers import Container
from docker.models.images import Image
from docker.utils import build as build_utils
from docker.utils.json_stream import json_stream

from bot.labs.cgroups import limit_build_pids
from bot.labs.imagefacts import inspect_image
from bot.labs.preflight import CREATED_LABEL, JOB_LABEL
from bot.labs.results import (
    STOP_GRACE,
    BuildResult,
    Capped,
    ImageFacts,
    Job,
    Outcome,
    RunResult,
)
from bot.labs.settings import LabSettings
from content.model import Lab

log = logging.getLogger(__name__)

DEFAULT_SOCKET = "unix:///var/run/docker.sock"  # what docker.from_env uses without DOCKER_HOST
NOBODY = 65534  # the uid and gid a job runs as when its image's would be 0
POLL = 0.2  # seconds between watchdog looks
LATE_CLEANUP = 120.0  # seconds an aborted build may keep the daemon busy before we give up
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    """Output as a learner may see it: terminal escape codes and control characters dropped."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


class SandboxUnavailable(Exception):
    """No Docker daemon configured or reachable."""


@contextlib.contextmanager
def daemon_failures() -> Iterator[None]:
    """The daemon or the connection to it failing, as SandboxUnavailable."""
    try:
        yield
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise SandboxUnavailable(str(exc)) from None


def _tar_context(files: Mapping[str, str]) -> bytes:
    """The build context as tar bytes, with .dockerignore applied as the docker CLI does."""
    with tempfile.TemporaryDirectory(prefix="tutor-lab-") as root:
        for name, text in files.items():
            path = Path(root, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        ignore = files.get(".dockerignore", "")
        exclude = [
            line.strip()
            for line in ignore.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        with build_utils.tar(root, exclude=exclude, dockerfile=("Dockerfile", None)) as archive:
            return archive.read()


def start_failure(message: str) -> str:
    """The part of runc's error a learner can act on (`exec: "sh": ... not found`)."""
    for marker in ("unable to start container process: ", "starting container process caused: "):
        if marker in message:
            message = message.split(marker, 1)[1]
    return printable(message.removesuffix(": unknown").strip())[:300]


def _clean_log(text: str, aliases: Mapping[str, str]) -> str:
    """The build output as the learner should read it: our LABEL steps and ids left out, and
    each base image named as the learner wrote it."""
    text = printable(text)
    for local, name in aliases.items():
        text = text.replace(local, name)
    kept = []
    skip = False
    for line in text.splitlines():
        if line.startswith("Step ") and " : " in line:
            skip = f"LABEL {JOB_LABEL}=" in line
            line = line.split(" : ", 1)[1]
            if not skip:
                kept.append(f"> {line}")
            continue
        if skip or line.startswith((" ---> ", "Removing intermediate container")):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


class Sandbox:
    def __init__(
        self,
        settings: LabSettings,
        client_factory: Callable[[], docker.DockerClient] | None = None,
    ) -> None:
        self.settings = settings
        self._client_factory = client_factory or self.connect
        self.build_pids_limited = False

    # --- the daemon -----------------------------------------------------------------------

    def connect(self) -> docker.DockerClient:
        host = self.settings.docker_host
        if host:
            return docker.DockerClient(base_url=host, timeout=30)
        return docker.from_env(timeout=30)

    def client(self) -> docker.DockerClient:
        with daemon_failures():
            client = self._client_factory()
            client.ping()
        return client

    def socket_identity(self) -> tuple[int, int, int] | None:
        """Device, inode and change time of the daemon's unix socket: a daemon that makes its
        own socket (dockerd -H unix://…) makes it anew when it restarts, so a new identity may
        be a new daemon with other settings. None for a daemon over TCP, or no socket."""
        host = self.settings.docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
        if not host.startswith("unix://"):
            return None
        try:
            found = os.stat(host.removeprefix("unix://"))
        except OSError:
            return None
        return found.st_dev, found.st_ino, found.st_ctime_ns

    def available(self) -> bool:
        try:
            self.client().close()
        except SandboxUnavailable:
            return False
        return True

    def prepare(self) -> None:
        """Cap the processes of build steps, where the host lets us (see bot.labs.cgroups)."""
        if not self.settings.build_cgroup:
            return
        with daemon_failures(), contextlib.closing(self.client()) as client:
            driver = client.info().get("CgroupDriver", "")
        self.build_pids_limited = limit_build_pids(
            self.settings.build_cgroup, self.settings.build_pids, driver
        )
        if not self.build_pids_limited:
            log.warning(
                "build steps run without a pids limit: cannot set pids.max of cgroup %r",
                self.settings.build_cgroup,
            )

    def fetches_for_learners(self) -> bool:
        """Whether the lab daemon reaches this host's network: asked to `ADD` a URL served here
        on 127.0.0.1, does it get the file? A daemon in a network namespace of its own cannot."""
        with _ProbeServer() as url:
            return self.daemon_fetches(url)

    def daemon_fetches(self, url: str) -> bool:
        """Whether the daemon can build `ADD <url>` (the daemon fetches, not a container)."""
        client = self.client()
        job_id = Job.new_id()
        labels = {JOB_LABEL: job_id, CREATED_LABEL: str(int(time.time()))}
        context = _tar_context({"Dockerfile": f"FROM scratch\nADD {url} /probe\n"})
        with daemon_failures(), contextlib.closing(client):
            try:
                stream = client.api.build(
                    fileobj=io.BytesIO(context),
                    custom_context=True,
                    labels=labels,
                    rm=True,
                    forcerm=True,
                    pull=False,
                    network_mode="none",
                    decode=True,
                    timeout=60,
                )
                messages = list(stream)
            finally:
                self.remove_job(client, job_id)
        failed = any("error" in message for message in messages)
        return not failed and any("aux" in message for message in messages)

    def missing_images(self, client: docker.DockerClient, refs: list[str]) -> list[str]:
        missing = []
        for ref in refs:
            try:
                client.images.get(ref)
            except docker.errors.ImageNotFound:
                missing.append(ref)
        return missing

    # --- one job --------------------------------------------------------------------------

    def run_job(self, job: Job, base_refs: list[str]) -> Outcome:
        """Build, inspect, run and grade-ready facts; everything the job made is removed."""
        client = self.client()
        try:
            missing = self.missing_images(client, base_refs)
            if missing:
                note = ", ".join(missing)
                return Outcome(
                    job.id,
                    BuildResult(False, 0.0, ""),
                    refused=f"base image {note} is not on this server (the sandbox never pulls)",
                )
            build = self._build(client, job)
            outcome = Outcome(job.id, build)
            if not build.ok or build.image_id is None:
                return outcome
            image = client.images.get(build.image_id)
            outcome.image = inspect_image(client, job, image)
            if job.lab.expect.runs:
                outcome.run = self._run(client, job, image, outcome.image)
            return outcome
        finally:
            self.remove_job(client, job.id)
            client.close()

    def _build_params(self, job: Job) -> dict[str, Any]:
        memory = job.memory_mb * 1024 * 1024
        params: dict[str, Any] = {
            "t": f"tutor-lab/job:{job.id}",
            "dockerfile": "Dockerfile",
            "nocache": True,  # no cache shared between learners, no chains shared between jobs
            "rm": True,
            "forcerm": True,
            "pull": False,
            "networkmode": "none",
            "memory": memory,
            "memswap": memory,
            "cpuperiod": 100_000,
            "cpuquota": int(self.settings.cpus * 100_000),
            "labels": json.dumps(job.labels),
        }
        if self.build_pids_limited:
            params["cgroupparent"] = self.settings.build_cgroup
        return params

    def _build(self, client: docker.DockerClient, job: Job) -> BuildResult:
        """The classic builder through the API (the SDK's build() cannot set a cgroup parent)."""
        api = client.api
        started = time.monotonic()
        deadline = started + self.settings.build_timeout
        output = Capped(self.settings.max_output_kb * 1024)
        response = api.post(
            f"{api.base_url}/v{api.api_version}/build",
            params=self._build_params(job),
            data=_tar_context(job.files),
            headers={"Content-Type": "application/x-tar"},
            stream=True,
            timeout=(10, self.settings.build_timeout + 5),
        )
        watchdog = _BuildWatchdog(self, job.id, deadline, response)
        watchdog.start()
        error, image_id = "", None
        try:
            if response.status_code >= 400:
                error = response.text.strip()[:300]
            else:
                for message in json_stream(response.iter_content(chunk_size=4096)):
                    if "stream" in message:
                        output.add(str(message["stream"]))
                    if "error" in message:
                        error = str(message["error"]).strip()
                    if "aux" in message and isinstance(message["aux"], dict):
                        image_id = message["aux"].get("ID", image_id)
        except (requests.RequestException, docker.errors.DockerException) as exc:
            error = error or f"the build stopped: {exc.__class__.__name__}"
        finally:
            watchdog.stop()
            response.close()
        if watchdog.reason:
            error = watchdog.reason
            self._clean_up_later(job.id)
        seconds = time.monotonic() - started
        log_text = _clean_log(output.text, job.aliases)
        if output.truncated:
            log_text += "\n[output truncated]"
        ok = not error and image_id is not None
        return BuildResult(ok, seconds, log_text, error.splitlines()[0] if error else "", image_id)

    def _host_config(self, job: Job) -> dict[str, Any]:
        memory = job.memory_mb * 1024 * 1024
        return {
            "network_mode": "none",
            "mem_limit": memory,
            "memswap_limit": memory,
            "nano_cpus": int(self.settings.cpus * 1e9),
            "pids_limit": self.settings.pids,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "read_only": True,
            "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={self.settings.tmpfs_mb}m"},
            # at most 2 MB on disk; two files, so a rotation never leaves the log empty
            "log_config": docker.types.LogConfig(
                type="json-file", config={"max-size": "1m", "max-file": "2"}
            ),
            "labels": job.labels,
            "hostname": "lab",
            "shm_size": 1024 * 1024,  # /dev/shm is not a second, unmetered /tmp
        }

    def _run(
        self, client: docker.DockerClient, job: Job, image: Image, facts: ImageFacts
    ) -> RunResult:
        lab = job.lab
        # numeric ids the bot chose: never a name the image's own /etc/passwd could make root
        user = f"{facts.uid or NOBODY}:{facts.gid or NOBODY}"
        container = client.containers.create(
            image.id,
            command=list(lab.command) if lab.command else None,
            user=user,
            detach=True,
            **self._host_config(job),
        )
        timeout = min(lab.timeout, self.settings.run_timeout)
        started = time.monotonic()
        result = RunResult(None, False, False, "", "", False, 0.0)
        try:
            container.start()
        except docker.errors.APIError as exc:
            result.start_error = start_failure(str(exc.explanation or exc))
            return result
        if lab.expect.running_for is not None:
            self._watch_running(container, lab, started, timeout, result)
        else:
            try:
                container.wait(timeout=timeout)
            except requests.RequestException:
                result.timed_out = True
                _kill(container)
        result.seconds = time.monotonic() - started
        container.reload()
        state = container.attrs.get("State") or {}
        result.exit_code = (
            result.stop_exit_code if result.stop_exit_code is not None else state.get("ExitCode")
        )
        result.oom_killed = bool(state.get("OOMKilled"))
        limit = self.settings.max_output_kb * 1024
        stdout = printable(container.logs(stdout=True, stderr=False).decode("utf-8", "replace"))
        stderr = printable(container.logs(stdout=False, stderr=True).decode("utf-8", "replace"))
        result.truncated = len(stdout) > limit or len(stderr) > limit
        result.stdout, result.stderr = stdout[:limit], stderr[:limit]
        return result

    def _watch_running(
        self, container: Container, lab: Lab, started: float, timeout: float, result: RunResult
    ) -> None:
        """Running mode: it must still run after `running_for` s, healthy if it can tell."""
        assert lab.expect.running_for is not None
        check_at = started + lab.expect.running_for
        while True:
            container.reload()
            state = container.attrs.get("State") or {}
            result.health = (state.get("Health") or {}).get("Status")
            now = time.monotonic()
            if state.get("Status") != "running":
                return
            past = now >= check_at
            settled = result.health in (None, "healthy")
            if past and (settled or now - started >= timeout):
                break
            time.sleep(POLL)
        result.running_at_check = True
        if lab.expect.exit_on_stop is not None:
            begun = time.monotonic()
            container.stop(timeout=STOP_GRACE)
            result.stop_seconds = time.monotonic() - begun
            container.reload()
            result.stop_exit_code = (container.attrs.get("State") or {}).get("ExitCode")
        else:
            _kill(container)

    # --- cleanup --------------------------------------------------------------------------

    def remove_job(self, client: docker.DockerClient, job_id: str) -> None:
        self._remove(client, {"label": f"{JOB_LABEL}={job_id}"})

    def _clean_up_later(self, job_id: str) -> None:
        """An aborted build may still be committing a step after we hung up: once the daemon
        has no container of the job left, remove what it made meanwhile."""

        def clean() -> None:
            filters = {"label": f"{JOB_LABEL}={job_id}"}
            give_up = time.monotonic() + LATE_CLEANUP
            try:
                client = self.client()
            except SandboxUnavailable:
                return
            try:
                while time.monotonic() < give_up:
                    busy = client.api.containers(all=True, filters=filters)
                    self.remove_job(client, job_id)
                    if not busy and not _job_objects(client, job_id):
                        return
                    time.sleep(1)
                log.warning("job %s still had objects after %.0f s", job_id, LATE_CLEANUP)
            except (docker.errors.DockerException, requests.RequestException) as exc:
                log.warning("late cleanup of job %s failed: %s", job_id, exc)
            finally:
                client.close()

        threading.Thread(target=clean, name=f"lab-clean-{job_id}", daemon=True).start()

    def sweep(self, older_than: float) -> int:
        """Remove what earlier jobs left (a crash mid-job); returns how many objects went."""
        with daemon_failures(), contextlib.closing(self.client()) as client:
            return self._remove(client, {"label": JOB_LABEL}, time.time() - older_than)

    def _remove(
        self, client: docker.DockerClient, filters: dict[str, str], cutoff: float | None = None
    ) -> int:
        def old(labels: Mapping[str, str] | None) -> bool:
            stamp = (labels or {}).get(CREATED_LABEL, "0")
            if cutoff is None or not stamp.isdigit():
                return True
            return int(stamp) < cutoff or int(stamp) > time.time() + 3600  # a forged stamp

        removed = 0
        # the plain list: the SDK's containers.list inspects each one, racing the daemon's
        # own removal of build containers (a NotFound mid-list)
        for info in client.api.containers(all=True, filters=filters):
            if old(info.get("Labels")):
                remove = partial(client.api.remove_container, info["Id"], force=True, v=True)
                removed += _quietly(remove)
        images = [i for i in client.api.images(all=True, filters=filters) if old(i.get("Labels"))]
        images.sort(key=lambda i: int(i.get("Created") or 0), reverse=True)
        for image in images:  # newest first: removing a child prunes its untagged parents
            removed += _quietly(partial(client.api.remove_image, image["Id"], force=True))
        return removed

    def leftovers(self, job_ids: Iterable[str]) -> list[str]:
        """What these jobs left behind (`container <id>`, `image <id>`); empty when clean."""
        client = self.client()
        try:
            return [found for job_id in job_ids for found in _job_objects(client, job_id)]
        finally:
            client.close()


def _job_objects(client: docker.DockerClient, job_id: str) -> list[str]:
    """The containers and images of one job that still exist (`container <id>`, `image <id>`).
    The plain container list: the SDK's containers.list inspects each one, racing removals."""
    filters = {"label": f"{JOB_LABEL}={job_id}"}
    found = [f"container {c['Id'][:12]}" for c in client.api.containers(all=True, filters=filters)]
    found += [f"image {i.short_id}" for i in client.images.list(all=True, filters=filters)]
    return found


class _BuildWatchdog:
    """Ends the build when it runs out of time or a step writes too much: kills the job's build
    containers and hangs up, so the job ends on time even while the daemon commits a layer or
    runs metadata steps that have no container to kill."""

    def __init__(
        self, sandbox: Sandbox, job_id: str, deadline: float, response: requests.Response
    ) -> None:
        self.sandbox, self.job_id, self.deadline = sandbox, job_id, deadline
        self.response = response
        self.limit = sandbox.settings.max_write_mb * 1024 * 1024
        self.reason = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"lab-watch-{job_id}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        client = self.sandbox._client_factory()
        try:
            while not self._stop.wait(POLL):
                running = client.api.containers(
                    size=True, filters={"label": f"{JOB_LABEL}={self.job_id}"}
                )
                if time.monotonic() > self.deadline:
                    self._abort(client, running, self._timeout_reason())
                    return
                written = max((c.get("SizeRw") or 0 for c in running), default=0)
                if written > self.limit:
                    mb = self.sandbox.settings.max_write_mb
                    self._abort(client, running, f"a build step wrote more than {mb} MB")
                    return
        except (docker.errors.DockerException, requests.RequestException) as exc:
            log.warning("build watchdog of job %s failed: %s", self.job_id, exc)
        finally:
            client.close()

    def _timeout_reason(self) -> str:
        return f"the build took longer than {self.sandbox.settings.build_timeout:g} s"

    def _abort(self, client: docker.DockerClient, running: list[dict[str, Any]], why: str) -> None:
        self.reason = why
        for info in running:
            _quietly(partial(client.api.kill, info["Id"]))
        _hang_up(self.response)


def _quietly(action: Callable[[], object]) -> int:
    """Run a removal that may race with the daemon's own cleanup; 1 when it happened."""
    try:
        action()
    except (docker.errors.NotFound, docker.errors.APIError):
        return 0
    return 1


class _ProbeServer:
    """A one-file HTTP server on 127.0.0.1 for the isolation check; `with` gives its URL."""

    def __enter__(self) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"the lab daemon reached the bot's host\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/probe"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _hang_up(response: requests.Response) -> None:
    """Shut the build's connection down. Closing alone does not wake a thread blocked reading
    the socket; a shutdown does, and the daemon cancels a build whose client went away."""
    sock = getattr(getattr(response.raw, "_connection", None), "sock", None)
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        response.close()


def _kill(container: Container) -> None:
    _quietly(container.kill)
    with contextlib.suppress(requests.RequestException):
        container.wait(timeout=10)
