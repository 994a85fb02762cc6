from bot.bot import TutorBot
from bot.exts.practice._cog import Practice
from bot.exts.practice._views import PracticeButton, PracticeNextButton


async def setup(bot: TutorBot) -> None:
    bot.add_dynamic_items(PracticeButton, PracticeNextButton)
    await bot.add_cog(Practice(bot))
