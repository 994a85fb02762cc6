from bot.bot import TutorBot
from bot.exts.progress._cog import Progress


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Progress(bot))
