from bot.bot import TutorBot
from bot.exts.server._cog import ServerSettings


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(ServerSettings(bot))
