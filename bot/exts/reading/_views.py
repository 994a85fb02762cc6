"""The reading message: a chunk in an embed, with previous / next / section / done controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.services.reading import Finished, Page, UnfinishedPart
from bot.ui.embeds import BRAND_COLOUR
from bot.ui.items import OwnedItem, services_of

if TYPE_CHECKING:
    from bot.bot import TutorBot

ACTIONS = {"prev": ("◀ Previous", -1), "next": ("Next ▶", 1)}


def page_message(owner: int, page: Page) -> tuple[discord.Embed, discord.ui.View]:
    embed = discord.Embed(
        title=f"Part {page.part.number} · {page.part.title}",
        description=page.chunk.text,
        colour=BRAND_COLOUR,
    )
    footer = page.footer + (" · done ✓" if page.completed else "")
    embed.set_footer(text=footer)
    view = discord.ui.View(timeout=None)
    view.add_item(ReadButton(owner, page.part.number, "prev", disabled=page.at_start))
    view.add_item(ReadButton(owner, page.part.number, "next", disabled=page.at_end))
    view.add_item(ReadButton(owner, page.part.number, "done", highlight=page.at_end))
    view.add_item(SectionSelect(owner, page))
    return embed, view


def finished_message(owner: int, finished: Finished) -> tuple[discord.Embed, discord.ui.View]:
    from bot.exts.quiz import QuizPartButton  # the quiz feature owns its button

    part = finished.part
    lines = [f"**Part {part.number} · {part.title}** is done. Nice work."]
    view = discord.ui.View(timeout=None)
    if finished.questions:
        lines.append(f"Check yourself with its {finished.questions} Debug This questions.")
        view.add_item(QuizPartButton(owner, part.number))
    nxt = finished.next_part
    if nxt is not None and finished.next_written:
        lines.append(f"Next in your track: **Part {nxt.number} · {nxt.title}**.")
        view.add_item(ReadPartButton(owner, nxt.number))
    elif nxt is not None:
        lines.append(f"Next in your track: Part {nxt.number} · {nxt.title} (coming soon).")
    else:
        lines.append("That was the last part of your track. 🎉 See `/progress`.")
    embed = discord.Embed(description="\n".join(lines), colour=BRAND_COLOUR)
    return embed, view


def confirm_done_message(
    owner: int, unread: UnfinishedPart
) -> tuple[discord.Embed, discord.ui.View]:
    part = unread.part
    embed = discord.Embed(
        description=(
            f"{unread} Mark **Part {part.number} · {part.title}** done anyway?\n"
            "Your reading hours count the chunks you read."
        ),
        colour=BRAND_COLOUR,
    )
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmDoneButton(owner, part.number, "yes"))
    view.add_item(ConfirmDoneButton(owner, part.number, "no"))
    return embed, view


class ReadButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="read:{owner:int}:{part:int}:{action:prev|next|done}",
):
    def __init__(
        self, owner: int, part: int, action: str, *, disabled: bool = False, highlight: bool = False
    ) -> None:
        if action == "done":
            label, style = (
                "Mark done ✓",
                (discord.ButtonStyle.success if highlight else discord.ButtonStyle.secondary),
            )
        else:
            label, style = ACTIONS[action][0], discord.ButtonStyle.primary
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                disabled=disabled,
                custom_id=self.custom_id_for(owner=owner, part=part, action=action),
            )
        )
        self.owner_id, self.part, self.action = owner, part, action

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        reading = services_of(interaction).reading
        if self.action == "done":
            try:
                finished = await reading.finish(self.owner_id, self.part)
            except UnfinishedPart as unread:  # ask first, in a message of its own
                embed, view = confirm_done_message(self.owner_id, unread)
                await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
                return
            embed, view = finished_message(self.owner_id, finished)
        else:
            page = await reading.turn(self.owner_id, self.part, ACTIONS[self.action][1])
            embed, view = page_message(self.owner_id, page)
        await interaction.response.edit_message(embed=embed, view=view)


class ConfirmDoneButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="readdone:{owner:int}:{part:int}:{answer:yes|no}",
):
    """Yes / Cancel on "mark this part done before its end?"."""

    def __init__(self, owner: int, part: int, answer: str) -> None:
        label, style = (
            ("Yes, mark it done", discord.ButtonStyle.success)
            if answer == "yes"
            else ("Cancel", discord.ButtonStyle.secondary)
        )
        custom_id = self.custom_id_for(owner=owner, part=part, answer=answer)
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.owner_id, self.part, self.answer = owner, part, answer

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        if self.answer == "no":
            kept = discord.Embed(
                description=f"Part {self.part} is not marked done; keep reading where you are.",
                colour=BRAND_COLOUR,
            )
            await interaction.response.edit_message(embed=kept, view=None)
            return
        finished = await services_of(interaction).reading.finish(
            self.owner_id, self.part, confirmed=True
        )
        embed, view = finished_message(self.owner_id, finished)
        await interaction.response.edit_message(embed=embed, view=view)


class SectionSelect(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Select],
    id_format="readjump:{owner:int}:{part:int}",
):
    def __init__(self, owner: int, page: Page | None = None, part: int | None = None) -> None:
        number = page.part.number if page is not None else part
        if number is None:
            raise TypeError("a section select needs a page or a part number")
        options = []
        if page is not None:
            current = page.chunk.section
            options = [
                discord.SelectOption(label=name[:100], value=name[:100], default=name == current)
                for name, _start in page.sections[:25]
            ]
        super().__init__(
            discord.ui.Select(
                placeholder="Jump to a section…",
                options=options or [discord.SelectOption(label="…")],
                custom_id=self.custom_id_for(owner=owner, part=number),
            )
        )
        self.owner_id, self.part = owner, number

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        section = self.item.values[0]
        page = await services_of(interaction).reading.jump(self.owner_id, self.part, section)
        embed, view = page_message(self.owner_id, page)
        await interaction.response.edit_message(embed=embed, view=view)


class ReadPartButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="readpart:{owner:int}:{part:int}",
):
    def __init__(self, owner: int, part: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Read Part {part}",
                style=discord.ButtonStyle.primary,
                custom_id=self.custom_id_for(owner=owner, part=part),
            )
        )
        self.owner_id, self.part = owner, part

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        page = await services_of(interaction).reading.open(self.owner_id, self.part)
        embed, view = page_message(self.owner_id, page)
        await interaction.response.edit_message(embed=embed, view=view)
