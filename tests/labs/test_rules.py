"""The Dockerfile reader and each of the course's own review rules, firing and staying quiet."""

from __future__ import annotations

import pytest

from bot.labs.dockerfile import parse
from bot.labs.rules import RULES, Finding, RuleContext, course_findings


def findings(text: str, *, dockerignore: bool = False) -> list[Finding]:
    return course_findings(parse(text), RuleContext(dockerignore_offered=dockerignore))


def codes(text: str, **kwargs: bool) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in findings(text, **kwargs)]


GOOD = """\
FROM python:3.12-slim AS base
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
USER 10001
HEALTHCHECK CMD ["python", "-c", "import app"]
CMD ["python", "app.py"]
"""


def test_the_reader_joins_continuations_and_keeps_lines() -> None:
    text = (
        "# escape=\\\nFROM busybox AS Build\nRUN echo a \\\n  # a comment\n  && echo b\n"
        "COPY --from=build --chown=1:1 /a /b\n"
    )
    dockerfile = parse(text)
    run = dockerfile.instructions[1]
    assert (run.keyword, run.args, run.line, run.end_line) == ("RUN", "echo a   && echo b", 3, 5)
    copy = dockerfile.instructions[2]
    assert copy.flags == {"from": "build", "chown": "1:1"} and copy.words() == ["/a", "/b"]
    assert [(s.image, s.name, s.line) for s in dockerfile.stages] == [("busybox", "build", 2)]
    assert parse('CMD ["a", "b"]').instructions[0].json_args == ["a", "b"]
    assert parse("CMD a b").instructions[0].json_args is None


def test_a_tidy_dockerfile_has_no_course_findings() -> None:
    assert findings(GOOD, dockerignore=True) == []


def test_every_finding_names_a_part_and_a_one_line_fix() -> None:
    text = "FROM x\nADD . /app\nRUN npm ci\nENV API_TOKEN=s3cr3t\nCMD node app.js\n"
    found = findings(text)
    assert {f.code for f in found} >= {"no-dockerignore", "deps-after-source", "runs-as-root"}
    for finding in found:
        assert finding.part == RULES[finding.code].part
        assert finding.fix and "\n" not in finding.fix
        assert finding.why


def test_copy_of_the_whole_context_wants_a_dockerignore() -> None:
    assert ("no-dockerignore", 5) in codes(GOOD)
    assert "no-dockerignore" not in dict(codes(GOOD, dockerignore=True))
    assert "no-dockerignore" not in dict(codes("FROM x\nCOPY --from=build . /app\n"))
    assert "no-dockerignore" not in dict(codes("FROM x\nCOPY src/ /app/\n"))


def test_installing_after_copying_the_source() -> None:
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "s.js"]\n'
    assert ("deps-after-source", 4) in codes(text)
    assert "deps-after-source" not in dict(codes(GOOD))
    # a second install after the manifests were installed first is fine
    again = GOOD.replace("COPY . .\n", "COPY . .\nRUN pip install --no-deps .\n")
    assert "deps-after-source" not in dict(codes(again))
    other_stage = "FROM a AS one\nCOPY . .\nFROM b\nRUN npm ci\n"
    assert "deps-after-source" not in dict(codes(other_stage))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('FROM x\nCMD ["a"]\n', 1),
        ("FROM x\nUSER app\nUSER root\n", 3),
        ("FROM x\nUSER 0:0\n", 2),
        ("FROM x AS build\nUSER 1000\nFROM busybox\nCOPY --from=build /a /a\n", 3),
    ],
)
def test_running_as_root(text: str, line: int) -> None:
    assert ("runs-as-root", line) in codes(text)


def test_a_user_inherited_from_an_earlier_stage_counts() -> None:
    text = 'FROM x AS base\nUSER 1000\nFROM base\nCMD ["a"]\n'
    assert "runs-as-root" not in dict(codes(text))


def test_no_healthcheck_is_a_suggestion() -> None:
    found = [f for f in findings('FROM x\nUSER 1\nCMD ["a"]\n') if f.code == "no-healthcheck"]
    assert [(f.severity, f.line) for f in found] == [("info", 1)]
    assert "no-healthcheck" not in dict(codes("FROM x\nHEALTHCHECK NONE\n"))


def test_shell_form_cmd_and_entrypoint() -> None:
    text = "FROM x\nENTRYPOINT /run.sh --fast\nCMD python app.py && echo done\n"
    found = {f.line: f for f in findings(text) if f.code == "shell-form"}
    assert set(found) == {2, 3}
    assert '`ENTRYPOINT ["/run.sh", "--fast"]`' in found[2].fix
    assert "script that ends with `exec`" in found[3].fix
    assert "SIGTERM" in found[2].why
    assert "shell-form" not in dict(codes('FROM x\nCMD ["python", "app.py"]\n'))
    assert "shell-form" not in dict(codes('FROM x AS b\nCMD make\nFROM y\nCMD ["a"]\n'))


def test_secrets_in_env_arg_and_label() -> None:
    text = (
        "FROM x\nENV DB_PASSWORD=hunter2 MODE=prod\nARG NPM_TOKEN\n"
        "ENV API_KEY_FILE=/run/secrets/k\n"
        'LABEL note="AKIAABCDEFGHIJKLMNOP"\n'
        "ENV GITHUB_TOKEN ghp_0123456789abcdefghijklmnopqrstuvwxyz\n"
    )
    found = {f.line: f.severity for f in findings(text) if f.code == "secret-in-config"}
    assert found == {2: "error", 3: "warning", 5: "error", 6: "error"}
    assert "secret-in-config" not in dict(codes("FROM x\nENV TOKEN_PATH=/t AUTHOR_NAME=me\n"))


def test_add_of_a_url_and_add_where_copy_is_meant() -> None:
    text = "FROM x\nADD https://e.org/a.tgz /tmp/\nADD app.py /app/\nADD vendor.tar.gz /opt/\n"
    added = [(code, line) for code, line in codes(text) if code.startswith("add-")]
    assert added == [("add-url", 2), ("add-for-copy", 3)]
