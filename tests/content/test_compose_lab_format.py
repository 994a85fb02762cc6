"""The ```toml lab block's [compose] table: a Compose lab, every mistake on its line."""

from __future__ import annotations

import pytest

from content.model import ComposeExpect, ComposeRequire, Lab
from tests.content.conftest import MakeCourse
from tests.content.test_lab_format import assert_refused_on_line, exercise, with_lab

COMPOSE_LAB = """
```toml lab
task = "Paste both files."
submit = ["compose.yaml", "compose.override.yaml"]

[compose]
services = ["web", "db"]
clean = ["depends-on-healthy", "no-restart-policy"]

[[compose.require]]
check = "web waits until db is healthy"
path = "services.web.depends_on.db.condition"
equals = "service_healthy"

[[compose.require]]
check = "the source is mounted in development"
path = "services.web.volumes"
contains = "./src:/app/src"
file = "compose.override.yaml"

[[compose.require]]
check = "every service rotates its logs"
path = "services.*.logging.options.max-size"
present = true
```
"""


def compose_lab(make_course: MakeCourse) -> Lab:
    found, errors = exercise(make_course, with_lab(COMPOSE_LAB))
    assert errors == []
    assert found.lab is not None
    return found.lab


def test_a_compose_block_becomes_a_compose_lab(make_course: MakeCourse) -> None:
    lab = compose_lab(make_course)
    assert lab.submit == ("compose.yaml", "compose.override.yaml")
    assert lab.base_images == ()
    assert lab.compose == ComposeExpect(
        services=("web", "db"),
        clean=("depends-on-healthy", "no-restart-policy"),
        require=(
            ComposeRequire(
                "web waits until db is healthy",
                ("services", "web", "depends_on", "db", "condition"),
                "compose.yaml",
                equals="service_healthy",
            ),
            ComposeRequire(
                "the source is mounted in development",
                ("services", "web", "volumes"),
                "compose.override.yaml",
                contains="./src:/app/src",
            ),
            ComposeRequire(
                "every service rotates its logs",
                ("services", "*", "logging", "options", "max-size"),
                "compose.yaml",
                present=True,
            ),
        ),
    )


@pytest.mark.parametrize(
    ("lines", "message", "offset"),
    [
        (["[compose]", 'clean = ["image-latests"]'], "did you mean 'image-latest'", 2),
        (['base_images = ["busybox"]', "[compose]", 'services = ["a"]'], "does not apply", 1),
        (['submit = ["Dockerfile"]', "[compose]", 'services = ["a"]'], "compose file name", 1),
        (["[compose]"], "needs 'services', 'clean'", 1),
        (["[[compose.require]]", 'check = "x"', 'path = "a..b"', "present = true"], "dotted", 3),
        (["[[compose.require]]", 'check = "x"', 'path = "a"'], "exactly one of", 3),
        (
            [
                "[[compose.require]]",
                'check = "x"',
                'path = "a"',
                "present = true",
                'file = "b.yml"',
            ],
            "one of the submitted files",
            5,
        ),
        (["[compose]", 'servics = ["a"]'], "did you mean 'services'", 2),
    ],
)
def test_compose_mistakes_are_errors_on_their_line(
    make_course: MakeCourse, lines: list[str], message: str, offset: int
) -> None:
    assert_refused_on_line(make_course, lines, message, offset)
