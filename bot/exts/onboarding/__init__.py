from bot.bot import TutorBot
from bot.exts.onboarding._cog import Onboarding
from bot.exts.onboarding._views import TrackSelect


async def setup(bot: TutorBot) -> None:
    bot.add_dynamic_items(TrackSelect)
    await bot.add_cog(Onboarding(bot))
