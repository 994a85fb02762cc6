"""Errors the services raise for things a learner can fix. Adapters show them as they are."""

from bot.errors import UserError


class NotStarted(UserError):
    """The learner has not run /start yet."""

    def __init__(self) -> None:
        super().__init__(
            "You haven't started the course yet. Run `/start` to pick a track (it takes a minute)."
        )


class UnknownPart(UserError):
    def __init__(self, text: str, last: int) -> None:
        super().__init__(f"There is no part {text!r}. The course has parts 0 to {last}.")


class UnknownTrack(UserError):
    def __init__(self, text: str, known: list[str]) -> None:
        super().__init__(f"There is no track {text!r}. Choose one of: {', '.join(known)}.")


class UnwrittenPart(UserError):
    def __init__(self, number: int, title: str) -> None:
        super().__init__(f"Part {number} · {title} is coming soon: it isn't written yet.")
