"""Delivering the outbox: the dispatcher loop (core logic, any sender) and the Discord sender.

What features use when they register how their outbox kinds look.
"""

from bot.delivery.discord_sender import DiscordSender, Rendered, Renderers
from bot.delivery.dispatcher import Dispatcher, NothingToSend, TryLater, Undeliverable

__all__ = [
    "DiscordSender",
    "Dispatcher",
    "NothingToSend",
    "Rendered",
    "Renderers",
    "TryLater",
    "Undeliverable",
]
