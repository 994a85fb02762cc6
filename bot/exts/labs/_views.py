"""Lab messages: the review, the task card, the submit modal and the graded result.

Buttons are persistent DynamicItems owned by one learner (`labsubmit:<owner>:<exercise>`,
`labreview:<owner>`); the modals they open are short-lived and carry what they need.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord

from bot.labs.review import Review, rule_url
from bot.labs.rules import Finding
from bot.services.labs import Grade, LabService, LabTask
from bot.ui.embeds import BRAND_COLOUR, embed_batches, fit
from bot.ui.items import OwnedItem, in_server, services_of
from bot.ui.modals import TutorModal
from content.model import ComposeExpect, Exercise, Lab, LabExpect

if TYPE_CHECKING:
    from bot.bot import TutorBot

log = logging.getLogger(__name__)

PASSED, FAILED = discord.Colour.green(), discord.Colour.orange()
MODAL_TIMEOUT = 15 * 60.0
INPUT_LIMIT = 4000  # a modal text input
DESCRIPTION_TARGET = 3800  # room below an embed's 4096
HEADINGS = {"error": "🛑 Errors", "warning": "⚠️ Warnings", "info": "💡 Suggestions"}


def inert(text: str) -> str:
    """User-derived text made safe inside inline code and code blocks."""
    return text.replace("```", "'''").replace("@", "@\u200b")


# --- review -----------------------------------------------------------------------------------


def finding_line(labs: LabService, finding: Finding) -> str:
    codes = [finding.code, *finding.also]
    shown = []
    for code in codes:
        url = rule_url(code)
        shown.append(f"[{code}]({url})" if url else f"`{code}`")
    where = f"`L{finding.line}`"
    if finding.more_lines:
        where += f" and {len(finding.more_lines):,} more (× {len(finding.more_lines) + 1:,})"
    text = f"{where} {inert(finding.fix)} ({', '.join(shown)})"
    if finding.why:
        text += f"\n  {inert(finding.why)}"
    label = labs.part_label(finding.part)
    if label:
        text += f"\n  → see **{label}**"
    return text


def review_embeds(labs: LabService, review: Review) -> list[discord.Embed]:
    """The findings grouped by severity, spread over as many embeds as they need."""
    blocks: list[str] = []
    for severity, findings in review.grouped():
        blocks.append(f"**{HEADINGS[severity]} ({len(findings)})**")
        blocks += [finding_line(labs, finding) for finding in findings]
    if review.hidden:
        blocks.append(f"…and {review.hidden:,} more findings not listed.")
    if not blocks:
        blocks = ["No findings: hadolint and the course's rules have nothing to add. 🎉"]
    pages: list[str] = [""]
    for block in blocks:
        if pages[-1] and len(pages[-1]) + len(block) + 1 > DESCRIPTION_TARGET:
            pages.append("")
        pages[-1] = f"{pages[-1]}\n{block}".strip()
    embeds = [
        discord.Embed(description=fit(page, 4096), colour=BRAND_COLOUR) for page in pages if page
    ]
    embeds[0].title = f"{review.kind} review"
    source = "hadolint + the course's rules"
    if review.kind != "Dockerfile":
        source = "the course's Compose rules"
    elif not review.hadolint_ran:
        source = f"the course's rules only ({review.note})"
    embeds[-1].set_footer(text=fit(f"Checked with {source}. Lines refer to your file.", 2048))
    return embeds


async def answer_review(
    interaction: discord.Interaction[TutorBot], text: str, dockerignore: str | None
) -> None:
    """Review and answer an interaction that was deferred."""
    labs = services_of(interaction).labs
    review = await labs.review(text, dockerignore, owner=interaction.user.id)
    for batch in embed_batches(review_embeds(labs, review)):
        await interaction.followup.send(embeds=batch, ephemeral=in_server(interaction))


class ReviewModal(TutorModal, title="Review a Dockerfile or compose file"):
    dockerfile: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
        label="Dockerfile or compose file",
        style=discord.TextStyle.paragraph,
        max_length=INPUT_LIMIT,
        placeholder="FROM python:3.12-slim\n...",
        custom_id="dockerfile",
    )
    dockerignore: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
        label=".dockerignore (optional)",
        style=discord.TextStyle.paragraph,
        max_length=1000,
        required=False,
        custom_id="dockerignore",
    )

    def __init__(self) -> None:
        super().__init__(timeout=MODAL_TIMEOUT, custom_id="labreviewmodal")

    async def submit(self, interaction: discord.Interaction[TutorBot]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=in_server(interaction))
        await answer_review(interaction, self.dockerfile.value, self.dockerignore.value or None)


# --- the task card ----------------------------------------------------------------------------


def compose_expectations(expect: ComposeExpect, files: tuple[str, ...]) -> list[str]:
    lines = [f"{', '.join(f'`{name}`' for name in files)} read as Compose reads them"]
    lines += [f"it defines service `{service}`" for service in expect.services]
    lines += [f"the Compose review finds no `{rule}`" for rule in expect.clean]
    lines += [inert(requirement.check) for requirement in expect.require]
    return lines


def expectations(lab: Lab) -> list[str]:
    """The checks in words, as the learner will see them graded."""
    if lab.compose is not None:
        return compose_expectations(lab.compose, lab.submit)
    expect: LabExpect = lab.expect
    lines = ["the image builds (no network, only " + ", ".join(lab.base_images) + ")"]
    if expect.non_root:
        lines.append("it runs as a non-root user")
    if expect.healthcheck:
        lines.append("it declares a HEALTHCHECK")
    if expect.max_size_mb is not None:
        lines.append(f"the image is under {expect.max_size_mb:g} MB")
    if expect.max_layers is not None:
        lines.append(f"at most {expect.max_layers} layers")
    if expect.max_added_mb is not None:
        lines.append(f"it adds at most {expect.max_added_mb:g} MB to its base image")
    if expect.max_added_layers is not None:
        layers = "layer" if expect.max_added_layers == 1 else "layers"
        lines.append(f"it adds at most {expect.max_added_layers} {layers} to its base image")
    lines += [f"no trace of `{s[:3]}…` in the image" for s in expect.no_secret]
    if expect.oom_killed is not None:
        never = "" if expect.oom_killed else "never "
        lines.append(f"the OOM killer {never}ends it")
    lines += [f"its output never shows `{s[:3]}…`" for s in expect.output_excludes]
    lines += [f"`{path}` is absent" for path in expect.absent]
    run = f"`{' '.join(lab.command)}`" if lab.command else "the default command"
    if expect.running_for is not None:
        lines.append(f"{run} keeps running (healthy) for {expect.running_for:g} s")
        if expect.exit_on_stop is not None:
            lines.append(f"`docker stop` ends it quickly with code {expect.exit_on_stop}")
    elif expect.exit_code is not None:
        lines.append(f"{run} exits with code {expect.exit_code}")
    lines += [f"its output contains `{inert(text)}`" for text in expect.stdout_contains]
    return lines


def fixture_block(name: str, text: str, limit: int = 1000) -> str:
    language = "dockerfile" if name.endswith("Dockerfile") else ""
    if name.endswith((".yaml", ".yml")):
        language = "yaml"
    body = inert(text.rstrip("\n"))
    if len(body) > limit:
        body = body[:limit] + "\n… (cut: the full file is in the article)"
    return f"**{name}**\n```{language}\n{body}\n```"


def task_message(owner: int, task: LabTask) -> tuple[list[discord.Embed], discord.ui.View]:
    exercise, lab = task.exercise, task.lab
    text = exercise.task
    if lab.task:
        text += f"\n\n**In the sandbox:** {lab.task}"
    embed = discord.Embed(
        title=fit(f"Lab · Part {exercise.part} · {exercise.title}", 256),
        description=fit(text, 4096),
        colour=BRAND_COLOUR,
    )
    embed.add_field(
        name="Graded checks",
        value=fit("\n".join(f"• {line}" for line in expectations(lab)), 1024),
        inline=False,
    )
    embed.add_field(name="You submit", value=", ".join(f"`{n}`" for n in lab.submit))
    embeds = [embed]
    files = {**exercise.files, **lab.context}
    if files:
        shown = "\n".join(fixture_block(name, body) for name, body in files.items())
        title = "Files to start from" if lab.compose else "Files in the build context"
        embeds.append(discord.Embed(title=title, description=fit(shown, 4096)))
    view = discord.ui.View(timeout=None)
    if task.sandbox_on:
        view.add_item(SubmitButton(owner, exercise.id))
        footer = "Passed before ✓ — submit again any time." if task.done else ""
        if lab.compose:
            footer += " Graded at once from the file itself: nothing is run."
        else:
            footer += " The build has no network; nothing is pulled."
        embeds[-1].set_footer(text=footer.strip())
    else:
        embeds[-1].set_footer(
            text="The lab sandbox is off on this server: you cannot be graded here, but the "
            "review below checks any Dockerfile."
        )
        view.add_item(ReviewButton(owner))
    return embeds, view


# --- submitting and the result ----------------------------------------------------------------


def result_embed(grade: Grade) -> discord.Embed:
    exercise = grade.exercise
    verdict = "✅ Passed" if grade.passed else "❌ Not yet"
    lines = [f"{'✅' if c.passed else '❌'} **{c.name}** — {inert(c.detail)}" for c in grade.checks]
    if exercise.lab is None or exercise.lab.compose is None:
        facts = f"Build {grade.build_seconds:.1f} s"
        if grade.image_bytes is not None:
            facts += f" · image {grade.image_bytes / 1_000_000:.1f} MB"
        lines.append(f"\n{facts}")
    if grade.log.strip():
        tail = inert(grade.log.strip())[-1200:]
        what = "Build log (end)" if not grade.checks[0].passed else "Output"
        lines.append(f"**{what}**\n```\n{tail}\n```")
    embed = discord.Embed(
        title=fit(f"{verdict} · {exercise.title}", 256),
        description=fit("\n".join(lines), 4096),
        colour=PASSED if grade.passed else FAILED,
    )
    if grade.passed:
        embed.set_footer(
            text="Exercise done ✓ — saved to your progress."
            if grade.newly_done
            else "Passed again. It was already in your progress."
        )
    else:
        embed.set_footer(text="Fix what failed and submit again.")
    return embed


Edit = Callable[..., Coroutine[Any, Any, Any]]


async def run_submission(
    interaction: discord.Interaction[TutorBot],
    owner: int,
    exercise: Exercise,
    files: dict[str, str],
) -> None:
    """Defer, show the place in the queue while waiting, then the graded result."""
    await interaction.response.defer(thinking=True, ephemeral=in_server(interaction))
    edit: Edit = interaction.edit_original_response

    async def progress(place: int) -> None:
        text = (
            "🔨 Building and running your image in the sandbox…"
            if place == 0
            else f"⏳ In the queue: you are **#{place}**. Your image builds when its turn comes."
        )
        try:
            await edit(content=text)
        except discord.HTTPException:
            log.debug("could not show the queue place", exc_info=True)

    grade = await services_of(interaction).labs.submit(owner, exercise.id, files, progress)
    view = discord.ui.View(timeout=None)
    if not grade.passed:
        view.add_item(SubmitButton(owner, exercise.id, again=True))
    await edit(content=None, embed=result_embed(grade), view=view)


class SubmitModal(TutorModal):
    def __init__(self, owner: int, exercise: Exercise) -> None:
        super().__init__(
            title=fit(f"Submit · {exercise.title}", 45),
            timeout=MODAL_TIMEOUT,
            custom_id=f"labmodal:{exercise.id}",
        )
        self.owner, self.exercise = owner, exercise
        lab = exercise.lab
        assert lab is not None
        self.inputs: dict[str, discord.ui.TextInput[SubmitModal]] = {}
        for name in lab.submit:
            start = exercise.files.get(name, "")
            text_input: discord.ui.TextInput[SubmitModal] = discord.ui.TextInput(
                label=fit(name, 45),
                style=discord.TextStyle.paragraph,
                max_length=INPUT_LIMIT,
                default=start if 0 < len(start) <= INPUT_LIMIT else None,
                required=name != ".dockerignore",  # an empty .dockerignore is an answer too
                custom_id=f"file:{name}"[:100],
            )
            self.inputs[name] = text_input
            self.add_item(text_input)

    async def submit(self, interaction: discord.Interaction[TutorBot]) -> None:
        files = {name: text_input.value for name, text_input in self.inputs.items()}
        await run_submission(interaction, self.owner, self.exercise, files)


class SubmitButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="labsubmit:{owner:int}:{exercise_id:slug}",
):
    def __init__(self, owner: int, exercise_id: str, *, again: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Submit again" if again else "Submit your files",
                style=discord.ButtonStyle.success,
                custom_id=self.custom_id_for(owner=owner, exercise_id=exercise_id),
            )
        )
        self.owner_id, self.exercise_id = owner, exercise_id

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        exercise = services_of(interaction).labs.exercise(self.exercise_id)
        await interaction.response.send_modal(SubmitModal(self.owner_id, exercise))


class ReviewButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="labreview:{owner:int}",
):
    def __init__(self, owner: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Review a Dockerfile",
                style=discord.ButtonStyle.primary,
                custom_id=self.custom_id_for(owner=owner),
            )
        )
        self.owner_id = owner

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        await interaction.response.send_modal(ReviewModal())
