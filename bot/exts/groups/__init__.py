from functools import partial

from bot.bot import TutorBot
from bot.exts.groups._cog import Groups
from bot.exts.groups._live import AnswerButton
from bot.exts.groups._views import JoinButton, render_weekly
from bot.services.groups import WEEKLY_KIND


async def setup(bot: TutorBot) -> None:
    bot.add_dynamic_items(JoinButton, AnswerButton)
    bot.outbox_renderers.register(WEEKLY_KIND, partial(render_weekly, bot.services))
    await bot.add_cog(Groups(bot))
