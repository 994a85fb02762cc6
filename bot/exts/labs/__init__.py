from bot.bot import TutorBot
from bot.exts.labs._cog import Labs
from bot.exts.labs._views import ReviewButton, SubmitButton


async def setup(bot: TutorBot) -> None:
    bot.add_dynamic_items(SubmitButton, ReviewButton)
    await bot.add_cog(Labs(bot))
