"""Problems found while reading the course, each bound to its file and line; reading a file."""

from __future__ import annotations

from pathlib import Path

from content.chunker import normalize_newlines
from content.model import Problem, Severity


class Problems:
    """Collects problems, bound to one file at a time."""

    def __init__(self, sink: list[Problem], path: Path):
        self.sink, self.path = sink, path

    def error(self, line: int, message: str) -> None:
        self.add(line, message, "error")

    def warn(self, line: int, message: str) -> None:
        self.add(line, message, "warning")

    def add(self, line: int, message: str, severity: Severity) -> None:
        self.sink.append(Problem(self.path, line, message, severity))


def read_text(path: Path, problems: list[Problem]) -> str:
    """The file as text; bytes that are not UTF-8 are reported by line and replaced."""
    raw = path.read_bytes()
    report = Problems(problems, path)
    if raw.startswith(b"\xef\xbb\xbf"):
        report.error(1, "the file starts with a byte order mark: save it as UTF-8 without BOM")
        raw = raw[3:]
    try:
        return normalize_newlines(raw.decode("utf-8"))
    except UnicodeDecodeError:
        for number, line in enumerate(raw.split(b"\n"), 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                report.error(
                    number,
                    f"not valid UTF-8: byte 0x{line[exc.start]:02x} at column {exc.start + 1}",
                )
        return normalize_newlines(raw.decode("utf-8", errors="replace"))
