"""/lab review and /lab start end to end: the real bot against the loopback Discord.

The review needs no daemon: it is tested with the sandbox off (switched off, or a Docker host
that does not answer). The graded journey runs on the real daemon, on a copy of the course with
the lab snippets pasted in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import App, build_bot, open_app
from bot.bot import TutorBot
from bot.config import load_settings
from bot.labs.sandbox import Sandbox
from storage.models import ExerciseCompletion
from tests.bot.test_journey import button, custom_ids, enrol
from tests.fake_discord import FakeDiscord, InteractionResult
from tests.labs.conftest import TEST_IMAGE, solution

TYPICAL = """\
FROM python:3.11
COPY . .
RUN pip install -r requirements.txt
ENV API_TOKEN=abc123
CMD python app.py
"""
IMAGES = f"busybox:latest={TEST_IMAGE},debian:bookworm-slim={TEST_IMAGE}"


async def running_bot(
    database_url: str, tmp_path: Path, fake: FakeDiscord, content: Path | None = None
) -> AsyncIterator[tuple[App, TutorBot]]:
    overrides: dict[str, Any] = {"content_dir": content} if content else {}
    settings = load_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        discord_token="fake-bot-token",
        **overrides,
    )
    async with open_app(settings) as app:
        bot = build_bot(app)
        async with fake.running(bot):
            await bot.tree.sync()
            yield app, bot


@pytest.fixture
async def no_sandbox(
    database_url: str,
    tmp_path: Path,
    fake: FakeDiscord,
    lab_course: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[TutorBot]:
    """The bot on a server whose Docker host does not answer."""
    monkeypatch.setenv("LAB_DOCKER_HOST", f"unix://{tmp_path}/no-such-docker.sock")
    async for _app, bot in running_bot(database_url, tmp_path, fake, lab_course):
        yield bot


def text_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{e.get('title', '')}\n{e.get('description', '')}\n{e.get('footer', {}).get('text', '')}"
        for message in messages
        for e in message.get("embeds", [])
    )


async def test_review_by_modal_groups_findings_and_names_the_parts(
    no_sandbox: TutorBot, fake: FakeDiscord
) -> None:
    opened = await fake.slash("lab review")
    assert opened.modal is not None and opened.modal["custom_id"] == "labreviewmodal"
    answered = await fake.submit_modal(
        "labreviewmodal", {"dockerfile": TYPICAL, "dockerignore": ""}
    )
    await answered.wait(lambda r: bool(r.followups), timeout=10)
    assert answered.rejections == []
    shown = text_of(answered.followups)
    assert shown.startswith("Dockerfile review")
    assert shown.index("Errors (1)") < shown.index("Warnings") < shown.index("Suggestions")
    assert "`L4`" in shown and "see **Part 8 · Configuration**" in shown
    assert "[DL3042](https://github.com/hadolint/hadolint/wiki/DL3042)" in shown
    assert "hadolint + the course's rules" in shown
    assert answered.followups[0]["flags"] & 64  # ephemeral in a server


async def test_a_review_sent_while_restarting_is_refused_and_given_back(
    no_sandbox: TutorBot, fake: FakeDiscord
) -> None:
    opened = await fake.slash("lab review")
    assert opened.modal is not None
    assert await no_sandbox.drain(grace=1) == 0  # shutting down: nothing else was running
    refused = await fake.submit_modal(
        "labreviewmodal", {"dockerfile": TYPICAL, "dockerignore": ".git\n"}
    )
    await refused.wait(lambda r: bool(r.embeds), timeout=10)
    assert refused.ephemeral
    assert "restarting" in refused.embeds[0]["description"]
    assert "What you typed is attached" in refused.embeds[0]["description"]
    (request,) = fake.find_requests("POST", f"/interactions/{refused.id}/*")
    assert request.files == {
        "dockerfile.txt": TYPICAL.encode(),
        "dockerignore.txt": b".git\n",
    }


async def test_review_of_an_attached_file(no_sandbox: TutorBot, fake: FakeDiscord) -> None:
    served = web.Application()
    files = {"Dockerfile": TYPICAL.encode(), ".dockerignore": b".git\n"}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=files[request.match_info["name"]])

    served.router.add_get("/{name}", serve)
    runner = web.AppRunner(served)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        attach = {
            "file": {
                "filename": "Dockerfile",
                "size": len(files["Dockerfile"]),
                "url": f"http://127.0.0.1:{port}/Dockerfile",
            },
            "dockerignore": {
                "filename": ".dockerignore",
                "size": 5,
                "url": f"http://127.0.0.1:{port}/.dockerignore",
            },
        }
        answered = await fake.slash("lab review", attach)
        await answered.wait(lambda r: bool(r.followups), timeout=10)
    finally:
        await runner.cleanup()
    shown = text_of(answered.followups)
    assert "deps-after-source" in shown
    assert "no-dockerignore" not in shown  # the attached .dockerignore counts


async def test_with_no_daemon_lab_start_offers_the_review(
    no_sandbox: TutorBot, fake: FakeDiscord, tmp_path: Path
) -> None:
    await enrol(fake)
    shown = await lab_start(fake, "p02-ex-ghost-file")
    assert "sandbox is off" in text_of([shown.message or {}])
    assert not any(c.startswith("labsubmit:") for c in custom_ids(shown.message))
    review = button(shown.message, "labreview:")
    opened = await fake.click(shown.message, review)
    assert opened.modal is not None


async def test_the_rest_of_the_bot_works_without_a_daemon(
    no_sandbox: TutorBot, fake: FakeDiscord
) -> None:
    assert not await no_sandbox.services.labs.sandbox_on()
    await enrol(fake)
    reading = await fake.slash("read")
    assert reading.embeds and reading.embeds[0]["title"].startswith("Part 0")


# --- graded, on the real daemon ---------------------------------------------------------------


@pytest.fixture
async def lab_bot(
    database_url: str,
    tmp_path: Path,
    fake: FakeDiscord,
    lab_course: Path,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[App, TutorBot]]:
    monkeypatch.setenv("LAB_IMAGES", IMAGES)
    monkeypatch.setenv("LAB_COOLDOWN", "0")
    async for app, bot in running_bot(database_url, tmp_path, fake, lab_course):
        app.services.labs.sandbox = sandbox  # the session's sandbox: its jobs are checked
        yield app, bot


async def lab_start(fake: FakeDiscord, exercise: str) -> InteractionResult:
    """/lab start, once its card has replaced the "thinking" answer (the command defers: the
    first lab after the daemon comes up waits for its isolation check)."""
    started = await fake.slash("lab start", {"exercise": exercise})
    return await started.wait(lambda r: bool(r.embeds), timeout=30)


async def submit(
    fake: FakeDiscord, message: dict[str, Any], exercise_id: str, files: dict[str, str]
) -> InteractionResult:
    opened = await fake.click(message, button(message, f"labsubmit:{fake.user.id}:{exercise_id}"))
    modal = opened.modal
    assert modal is not None
    result = await fake.submit_modal(
        modal["custom_id"], {f"file:{name}": text for name, text in files.items()}
    )
    await result.wait(lambda r: bool(r.embeds or r.followups), timeout=30)
    return result


@pytest.mark.docker
async def test_start_submit_and_pass_marks_the_exercise_done(
    lab_bot: tuple[App, TutorBot], fake: FakeDiscord
) -> None:
    app, _ = lab_bot
    await enrol(fake)
    choices = await fake.autocomplete("lab start", {"exercise": "count-layers"}, "exercise")
    assert [c["value"] for c in choices.choices or []] == ["p02-ex-count-layers"]
    task = await lab_start(fake, "p02-ex-count-layers")
    assert task.rejections == []
    card = text_of([task.message or {}]) + str(task.message)
    assert "Lab · Part 2 · Count the layers" in card
    assert "it adds at most 1 layer to its base image" in card
    modal_opened = await fake.click(
        task.message, button(task.message, f"labsubmit:{fake.user.id}:p02-ex-count-layers")
    )
    prefilled = modal_opened.modal["components"][0]["components"][0]  # type: ignore[index]
    assert prefilled["value"].startswith("FROM busybox:latest")  # the fixture, to edit

    failed = await submit(
        fake, task.message, "p02-ex-count-layers", solution("p02-ex-count-layers", "fail")
    )
    result = failed.embeds[0]
    assert result["title"].startswith("❌ Not yet")
    wanted = "❌ **adds at most 1 layer to its base image** — 2 layers on top"
    assert wanted in result["description"]
    assert any(c.startswith("labsubmit:") for c in custom_ids(failed.message))
    edits = [e.get("content") for e in failed.edits]
    assert any(text and "Building" in text for text in edits)  # the learner saw the progress

    passed = await submit(
        fake, failed.message, "p02-ex-count-layers", solution("p02-ex-count-layers", "pass")
    )
    embed = passed.embeds[0]
    assert embed["title"].startswith("✅ Passed")
    assert embed["footer"]["text"].startswith("Exercise done ✓")
    assert "image 33." in embed["description"] or "image 3" in embed["description"]
    async with app.services.sessions() as session:
        done = list(await session.scalars(select(ExerciseCompletion.exercise_id)))
    assert done == ["p02-ex-count-layers"]
    again = await fake.autocomplete("lab start", {"exercise": "layers"}, "exercise")
    assert again.choices and again.choices[0]["name"].endswith("✓")


@pytest.mark.docker
async def test_a_refused_submission_says_why_and_runs_nothing(
    lab_bot: tuple[App, TutorBot], fake: FakeDiscord
) -> None:
    await enrol(fake)
    task = await lab_start(fake, "p02-ex-ghost-file")
    refused = await submit(
        fake, task.message, "p02-ex-ghost-file", {"Dockerfile": "FROM alpine:3.20\nRUN true\n"}
    )
    shown = text_of([*refused.followups, refused.message or {}])
    assert "Nothing was built" in shown and "`alpine:3.20` is not allowed here" in shown


RISKY_COMPOSE = """\
services:
  web:
    image: shop/web
    privileged: true
  db:
    image: postgres:16
    ports: ["5432:5432"]
"""


async def test_review_tells_a_compose_file_apart_and_refuses_a_yaml_bomb(
    no_sandbox: TutorBot, fake: FakeDiscord
) -> None:
    await fake.slash("lab review")
    answered = await fake.submit_modal(
        "labreviewmodal", {"dockerfile": RISKY_COMPOSE, "dockerignore": ""}
    )
    await answered.wait(lambda r: bool(r.followups), timeout=10)
    shown = text_of(answered.followups)
    assert shown.startswith("Compose file review")
    assert "`L4` Remove `privileged: true`" in shown
    assert "see **Part 12 · Container security**" in shown
    assert "`db-port-public`" in shown and "`L7`" in shown
    assert "Checked with the course's Compose rules." in shown
    assert "DL" not in shown  # hadolint reads no YAML

    bomb = "services: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"x-{i}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6)
    )
    await fake.slash("lab review")
    refused = await fake.submit_modal("labreviewmodal", {"dockerfile": bomb, "dockerignore": ""})
    await refused.wait(lambda r: bool(r.followups), timeout=10)
    said = str(refused.followups)
    assert "refused as a YAML bomb" in said, said
    assert "Compose file review" not in text_of(refused.followups)
