from bot.bot import TutorBot
from bot.exts.drills._cog import Drills
from bot.exts.drills._views import DrillAnswerButton
from bot.services.drills import POST_KIND, REVEAL_KIND


async def setup(bot: TutorBot) -> None:
    cog = Drills(bot)
    bot.add_dynamic_items(DrillAnswerButton)
    bot.outbox_renderers.register(POST_KIND, cog.delivery.render_post)
    bot.outbox_renderers.register(REVEAL_KIND, cog.delivery.render_reveal)
    await bot.add_cog(cog)
