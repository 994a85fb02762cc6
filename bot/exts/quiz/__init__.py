from bot.bot import TutorBot
from bot.exts.quiz._cog import Quiz
from bot.exts.quiz._views import (
    CardButton,
    ChoiceButton,
    NextQuestionButton,
    QuizPartButton,
    RevealButton,
    ReviewNextButton,
    SelfGradeButton,
    due_message,
    review_session,
)

# What other features may use: reading offers the quiz after a part, reminders open a review.
__all__ = ["QuizPartButton", "due_message", "review_session", "setup"]


async def setup(bot: TutorBot) -> None:
    bot.add_dynamic_items(
        ChoiceButton,
        RevealButton,
        SelfGradeButton,
        NextQuestionButton,
        ReviewNextButton,
        QuizPartButton,
        CardButton,
    )
    await bot.add_cog(Quiz(bot))
