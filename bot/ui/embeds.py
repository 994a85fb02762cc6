"""Shared look of the bot's embeds."""

import discord

BRAND_COLOUR = discord.Colour(0x1D63ED)  # Docker blue
ERROR_COLOUR = discord.Colour.red()
