"""The course the bot serves: parsed once at start-up, reloadable without a restart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from content.chunker import DEFAULT_TARGET
from content.model import Course, Problem
from content.validator import validate


class CourseLoadError(Exception):
    """The course has errors; the message lists them as file:line: message."""

    def __init__(self, problems: tuple[Problem, ...]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class CourseStore:
    """Holds the current course. Readers take `store.course` and keep that object for as long
    as they need a consistent view; `reload()` swaps in a new one in a single assignment.

    Reloading parses every article (a fraction of a second for the shipped course, see
    bench/README.md); from async code call it through `asyncio.to_thread`.
    """

    def __init__(self, directory: Path, *, target: int = DEFAULT_TARGET):
        self.directory = Path(directory)
        self.target = target
        self._lock = threading.Lock()  # one reload at a time; reading needs no lock
        result = validate(self.directory, target=target)
        if result.course is None or result.errors:
            raise CourseLoadError(result.errors)
        self._course: Course = result.course
        self.problems = result.problems  # the warnings of the course in use
        self.generation = 1  # counts the courses loaded, for caches keyed on the course
        self.loaded_at = datetime.now(UTC)  # when the course in use was loaded

    @property
    def course(self) -> Course:
        return self._course

    def reload(self) -> tuple[Problem, ...]:
        """Parse the course again and return its problems. With any error the course in use
        stays; otherwise the new one replaces it."""
        with self._lock:
            result = validate(self.directory, target=self.target)
            if result.course is not None and not result.errors:
                self._course = result.course
                self.problems = result.problems
                self.generation += 1
                self.loaded_at = datetime.now(UTC)
            return result.problems
