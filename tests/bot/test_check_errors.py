"""An exception inside an interaction check (the database down while the bot admits a command,
a button press or a modal) takes the one error path: the learner gets the error embed with an
id, and the interaction is counted as an error."""

from __future__ import annotations

import logging
import re

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.ui.modals import TutorModal
from tests.bot.test_journey import enrol
from tests.bot.test_metrics import registry_samples, value
from tests.fake_discord import FakeDiscord, InteractionResult


class DatabaseDown(Exception):
    pass


async def database_down(*_args: object) -> None:
    raise DatabaseDown("connection refused")


def errors_counted(tutor: TutorBot, command: str) -> float:
    samples = registry_samples(tutor.metrics)
    return value(samples, "tutorbot_interactions_total", command=command, outcome="error")


def told_error_id(result: InteractionResult, caplog: pytest.LogCaptureFixture) -> None:
    """The learner got the error embed, privately, with the id the log has the cause under."""
    assert result.rejections == [] and result.ephemeral
    shown = result.embeds[0]["description"]
    found = re.search(r"error id: `([0-9a-f]{8})`", shown)
    assert found, shown
    (record,) = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert record.exc_info and isinstance(record.exc_info[1], DatabaseDown)


async def test_a_command_whose_check_fails_gets_the_error_reply(
    tutor: TutorBot,
    fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(tutor.services.outbox, "unreachable_notice", database_down)
    with caplog.at_level(logging.ERROR, logger="bot.bot"):
        result = await fake.slash("about")
    told_error_id(result, caplog)
    assert errors_counted(tutor, "about") == 1


async def test_a_button_whose_check_fails_gets_the_error_reply(
    tutor: TutorBot,
    fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await enrol(fake)
    reading = await fake.slash("read")
    monkeypatch.setattr(tutor, "note_dms_used", database_down)
    with caplog.at_level(logging.ERROR, logger="bot.bot"):
        pressed = await fake.click(reading.message, f"read:{fake.user.id}:0:next")
    told_error_id(pressed, caplog)
    assert errors_counted(tutor, "reading") == 1


async def test_autocomplete_does_no_bookkeeping_per_keystroke(
    tutor: TutorBot, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check's database work (the unreachable-reminders notice, which is given once, and the
    note of where the learner learns) waits for the command itself: typing neither costs a
    query per keystroke nor uses the notice up before the learner can see it."""
    monkeypatch.setattr(tutor.services.outbox, "unreachable_notice", database_down)
    monkeypatch.setattr(tutor, "note_dms_used", database_down)
    choices = await fake.autocomplete("start", {"time_zone": "berl"}, "time_zone")
    assert choices.rejections == [] and choices.choices[0]["value"] == "Europe/Berlin"


class CheckFails(TutorModal, title="A form"):
    """A modal of the bot's whose check raises after the base's (which counts it)."""

    answer: discord.ui.TextInput[CheckFails] = discord.ui.TextInput(
        label="Anything", custom_id="answer"
    )

    def __init__(self) -> None:
        super().__init__(custom_id="probeform")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        await super().interaction_check(interaction)
        raise DatabaseDown("connection refused")


class Probe(commands.Cog):
    @app_commands.command(name="form", description="opens a form")
    async def form(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(CheckFails())


async def test_a_modal_whose_check_fails_gets_the_error_reply(
    tutor: TutorBot, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    await tutor.add_cog(Probe())
    await tutor.tree.sync()
    assert (await fake.slash("form")).modal is not None
    with caplog.at_level(logging.ERROR, logger="bot.bot"):
        submitted = await fake.submit_modal("probeform", {"answer": "hello"})
    told_error_id(submitted, caplog)
    assert errors_counted(tutor, "other") == 1  # a modal outside bot/exts has no feature
