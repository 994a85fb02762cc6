"""Shared look of the bot's embeds."""

import discord

BRAND_COLOUR = discord.Colour(0x1D63ED)  # Docker blue
ERROR_COLOUR = discord.Colour.red()


def fit(text: str, limit: int) -> str:
    """Cut text to a Discord limit, marking the cut (content is validated to fit already)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_EMBEDS_PER_MESSAGE = 10
MAX_EMBED_TOTAL = 6000


def embed_batches(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages within Discord's 10 embeds and 6000 characters a message."""
    batches: list[list[discord.Embed]] = [[]]
    size = 0
    for embed in embeds:
        length = len(embed)
        if batches[-1] and (
            size + length > MAX_EMBED_TOTAL or len(batches[-1]) == MAX_EMBEDS_PER_MESSAGE
        ):
            batches.append([])
            size = 0
        batches[-1].append(embed)
        size += length
    return batches
