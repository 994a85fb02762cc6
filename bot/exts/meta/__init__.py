from bot.bot import TutorBot
from bot.exts.meta._cog import Meta


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Meta(bot))
