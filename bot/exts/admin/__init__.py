from bot.bot import TutorBot
from bot.exts.admin._cog import Admin


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Admin(bot))
