from functools import partial

from bot.bot import TutorBot
from bot.exts.reminders._views import DigestButton, render_digest
from bot.services.reminders import DIGEST


async def setup(bot: TutorBot) -> None:
    bot.add_dynamic_items(DigestButton)
    bot.outbox_renderers.register(DIGEST, partial(render_digest, bot.services))
