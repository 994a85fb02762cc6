from bot.bot import TutorBot
from bot.exts.reading._cog import Reading
from bot.exts.reading._views import ConfirmDoneButton, ReadButton, ReadPartButton, SectionSelect


async def setup(bot: TutorBot) -> None:
    bot.add_dynamic_items(ReadButton, ConfirmDoneButton, SectionSelect, ReadPartButton)
    await bot.add_cog(Reading(bot))
