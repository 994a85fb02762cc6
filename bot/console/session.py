"""One console learner's session: commands in, text out, state between commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot import __version__
from bot.console.labs import read_file, review_markdown
from bot.errors import UserError
from bot.services import Services
from bot.services.learners import KEEP
from bot.services.practice import SOURCE as PRACTICE
from bot.services.practice import PracticeSummary, new_session
from bot.services.progress import day_count, progress_bar
from bot.services.quiz import RATINGS, Graded
from bot.services.reading import Page, UnfinishedPart
from content.model import Card, Question
from content.reader import quiz_hint

CONSOLE_LEARNER = 0  # Discord ids are never 0, so the console learner cannot collide

Handler = Callable[["ConsoleSession", list[str]], Awaitable[str]]
Render = Callable[[str], str]  # Markdown in, text to print out


def as_written(markdown: str) -> str:
    return markdown


@dataclass
class _Command:
    handler: Handler
    usage: str
    help: str


COMMANDS: dict[str, _Command] = {}


def command(name: str, usage: str, help_: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = _Command(handler, usage, help_)
        return handler

    return register


class ConsoleSession:
    def __init__(
        self, services: Services, learner: int = CONSOLE_LEARNER, markdown: Render = as_written
    ) -> None:
        self.services = services
        self.learner = learner
        self.markdown = markdown  # course Markdown and hints: drawn at a terminal
        self.part: int | None = None  # the article being read
        self.question: Question | None = None
        self.card: Card | None = None
        self.reviewing_since: datetime | None = None  # set during a review session
        self.practicing: str | None = None  # the practice session's token, during one

    @property
    def source(self) -> str:
        if self.practicing is not None:
            return PRACTICE
        return "learn" if self.reviewing_since is None else "review"

    async def next_practice(self) -> str:
        """The practice session's next item, or its one-line summary, which ends it."""
        assert self.practicing is not None
        step = await self.services.practice.step(self.learner, self.practicing)
        if isinstance(step, PracticeSummary):
            self.practicing = self.question = self.card = None
            return step.line
        why = "due for review" if step.due else "from a part you find hard"
        header = f"Practice {step.position}/{step.size}, {why}:\n"
        index = self.services.practice.items()
        if step.item_id in index.questions:
            return header + self.show_question(index.questions[step.item_id])
        return header + self.show_card(index.cards[step.item_id])

    async def next_review(self) -> str:
        """The next due card of the review session, or its summary."""
        assert self.reviewing_since is not None
        due = await self.services.review.due(self.learner, limit=1)
        if due:
            index = self.services.review.items()
            item = due[0].item_id
            if item in index.questions:
                return self.show_question(index.questions[item])
            return self.show_card(index.cards[item])
        summary = await self.services.review.summary(self.learner, since=self.reviewing_since)
        self.reviewing_since = self.question = self.card = None
        when = f" Next card due {summary.next_due:%Y-%m-%d %H:%M} UTC." if summary.next_due else ""
        return f"Review done: {summary.reviewed} reviewed, {summary.correct} right.{when}"

    async def handle(self, line: str) -> str:
        words = line.split()
        name, args = words[0].lower(), words[1:]
        if name == "help":
            return help_text()
        entry = COMMANDS.get(name)
        if entry is None:
            shown = name if len(name) <= 30 else name[:29] + "…"
            return f"Unknown command {shown!r}. Type 'help' for the list."
        try:
            return await entry.handler(self, args)
        except UserError as exc:
            return self.markdown(f"! {str(exc).replace('`/', '`')}")

    def show_page(self, page: Page) -> str:
        self.part = page.part.number
        done = " · done" if page.completed else ""
        number = page.part.number
        header = f"── Part {number} · {page.part.title} ──"
        chunk = page.chunk.text.replace(quiz_hint(number), quiz_hint(number, "quiz"))
        text = f"{header}\n{self.markdown(chunk)}\n── {page.footer}{done} ──"
        if page.at_end:
            finish = "" if page.completed else "`done` marks it finished, "
            text += "\n" + self.markdown(f"End of Part {number}: {finish}`quiz {number}` tests it.")
        return text

    def show_question(self, question: Question) -> str:
        self.question = question
        index, total = self.services.quiz.position(question)
        letters = [c.letter for c in question.choices]
        how = f"answer {letters[0]}-{letters[-1]}" if letters else "show, then had / missed"
        return (
            f"── Debug This · Part {question.part} · {index}/{total}: {question.title} ──\n"
            f"{self.markdown(question.body)}\n── {how} ──"
        )

    async def after_answer(self, graded: Graded, verdict: str) -> str:
        text = f"{verdict}\n\n{self.markdown(graded.question.solution)}"
        if self.practicing is not None:
            return text + "\n\n" + await self.next_practice()
        if self.reviewing_since is not None:
            return text + "\n\n" + await self.next_review()
        if graded.next_id is None:
            self.question = None
            return text + f"\n\nThat was the last question of Part {graded.question.part}."
        return text + "\n\n" + self.show_question(self.services.quiz.question(graded.next_id))

    def show_card(self, card: Card) -> str:
        self.card = card
        front = self.markdown(card.front)
        return f"── Interview · Part {card.part} ──\n{front}\n── show, then rate 1-4 ──"


def help_text() -> str:
    width = max(len(c.usage) for c in COMMANDS.values())
    lines = [f"  {c.usage:<{width}}  {c.help}" for c in COMMANDS.values()]
    lines += [f"  {'help':<{width}}  this list", f"  {'quit':<{width}}  leave (or Ctrl-D)"]
    return "Commands:\n" + "\n".join(lines)


def _int(text: str, what: str) -> int:
    """A whole number (a sign allowed: the service says what range it takes)."""
    cleaned = text.strip()
    if not cleaned.lstrip("+-").isdecimal():
        raise UserError(f"{what} must be a whole number, not {text[:20]!r}.")
    return int(cleaned)


@command("about", "about", "what this tutor teaches")
async def _about(s: ConsoleSession, _args: list[str]) -> str:
    course = s.services.learners.course
    return (
        f"{course.title}: {len(course.parts)} parts, {len(course.tracks)} tracks. "
        f"tutorbot {__version__}"
    )


@command("parts", "parts", "list the course's parts")
async def _parts(s: ConsoleSession, _args: list[str]) -> str:
    return "\n".join(
        f"{p.info.number:>2}  {p.info.title}  ({p.info.block}, {p.info.minutes} min)"
        + ("" if p.written else "  [coming soon]")
        for p in s.services.learners.course.parts.values()
    )


@command("start", "start [TRACK] [ZONE]", "begin, or change track and time zone")
async def _start(s: ConsoleSession, args: list[str]) -> str:
    track = args[0] if args else None
    zone = args[1] if len(args) > 1 else None
    profile = await s.services.learners.start(s.learner, track=track, time_zone=zone)
    tracks = "\n".join(
        f"  {t.slug:<12} {t.name} · {t.hours:g} h · parts {', '.join(map(str, t.sequence))}"
        + ("  ← yours" if t == profile.track else "")
        for t in s.services.learners.course.tracks
    )
    hint = "" if profile.track else "\nPick one with: start TRACK"
    return f"Time zone {profile.time_zone}. Tracks:\n{tracks}{hint}"


@command("track", "track [TRACK]", "show or change your track")
async def _track(s: ConsoleSession, args: list[str]) -> str:
    if args:
        profile = await s.services.learners.set_track(s.learner, " ".join(args))
    else:
        found = await s.services.learners.profile(s.learner)
        if found is None:
            return "! You haven't started yet. Run: start TRACK"
        profile = found
    track = profile.track
    if track is None:
        return "No track yet. Run: track TRACK"
    return f"Track: {track.name} ({track.hours:g} h), parts {', '.join(map(str, track.sequence))}"


@command("read", "read [PART]", "read where you left off, or a part")
async def _read(s: ConsoleSession, args: list[str]) -> str:
    number = s.services.reading.find_part(" ".join(args)) if args else None
    return s.show_page(await s.services.reading.open(s.learner, number))


async def _turn(s: ConsoleSession, step: int) -> str:
    if s.part is None:
        return await _read(s, [])
    return s.show_page(await s.services.reading.turn(s.learner, s.part, step))


@command("next", "next", "the next chunk")
async def _next(s: ConsoleSession, _args: list[str]) -> str:
    return await _turn(s, 1)


@command("prev", "prev", "the previous chunk")
async def _prev(s: ConsoleSession, _args: list[str]) -> str:
    return await _turn(s, -1)


@command("jump", "jump SECTION", "jump to a section, e.g. jump Deep Dive")
async def _jump(s: ConsoleSession, args: list[str]) -> str:
    if not args:
        return "! Name a section: jump Deep Dive (any case)"
    part = await _reading_part(s)
    return s.show_page(await s.services.reading.jump(s.learner, part, " ".join(args)))


async def _reading_part(s: ConsoleSession) -> int:
    """The part on screen; after a restart, the one read last (as `read` resumes it)."""
    if s.part is None:
        s.part = await s.services.quiz.default_part(s.learner)
    return s.part


@command("done", "done [yes]", "mark the part you are reading as done (yes: before its end)")
async def _done(s: ConsoleSession, args: list[str]) -> str:
    confirmed = [a.lower() for a in args] == ["yes"]
    if args and not confirmed:
        raise UserError("`done` marks the part done; `done yes` does so before its last chunk.")
    part = await _reading_part(s)
    try:
        finished = await s.services.reading.finish(s.learner, part, confirmed=confirmed)
    except UnfinishedPart as unread:
        return s.markdown(
            f"{unread} Mark Part {part} done anyway? `done yes` "
            "(your reading hours count the chunks you read)"
        )
    lines = [f"Part {finished.part.number} · {finished.part.title} is done."]
    if finished.questions:
        lines.append(f"Try its {finished.questions} Debug This questions: quiz {part}")
    if finished.next_part is not None:
        soon = "" if finished.next_written else " (coming soon)"
        lines.append(
            f"Next in your track: Part {finished.next_part.number} · "
            f"{finished.next_part.title}{soon}: read {finished.next_part.number}"
        )
    return "\n".join(lines)


async def _practice_part(s: ConsoleSession, args: list[str]) -> int:
    """The part named, else the one read last; leaves any review or practice session."""
    s.reviewing_since = s.practicing = None
    quiz = s.services.quiz
    return quiz.find_part(" ".join(args)) if args else await quiz.default_part(s.learner)


@command("quiz", "quiz [PART]", "Debug This questions of a part")
async def _quiz(s: ConsoleSession, args: list[str]) -> str:
    return s.show_question(s.services.quiz.questions(await _practice_part(s, args))[0])


@command("answer", "answer LETTER", "answer the current question")
async def _answer(s: ConsoleSession, args: list[str]) -> str:
    if s.question is None:
        return "! Start a quiz first, then: answer B"
    if not args:
        return "! Name your choice: answer B"
    letter = args[0].upper()
    graded = await s.services.quiz.answer(
        s.learner, s.question.id, letter, source=s.source, session=s.practicing
    )
    verdict = (
        f"Right: {letter}."
        if graded.correct
        else f"Not quite: you chose {letter}, the answer is {graded.question.correct}."
    )
    return await s.after_answer(graded, verdict)


@command("show", "show", "reveal the answer (self-graded questions, interview cards)")
async def _show(s: ConsoleSession, _args: list[str]) -> str:
    if s.card is not None:
        ratings = ", ".join(f"{k} {v}" for k, v in RATINGS.items())
        return f"{s.markdown(s.card.back)}\n── rate 1-4: {ratings} ──"
    if s.question is not None:
        return f"{s.markdown(s.question.solution)}\n── had / missed ──"
    return "! Nothing to show: start a quiz or an interview first."


async def _self_grade(s: ConsoleSession, had: bool) -> str:
    if s.question is None:
        return "! Start a quiz first."
    graded = await s.services.quiz.self_grade(
        s.learner, s.question.id, had, source=s.source, session=s.practicing
    )
    return await s.after_answer(
        graded, "Noted: you had it." if had else "Noted: it will come back."
    )


@command("had", "had", "you found it (self-graded)")
async def _had(s: ConsoleSession, _args: list[str]) -> str:
    return await _self_grade(s, True)


@command("missed", "missed", "you missed it (self-graded)")
async def _missed(s: ConsoleSession, _args: list[str]) -> str:
    return await _self_grade(s, False)


@command("interview", "interview [PART]", "interview questions as flash cards")
async def _interview(s: ConsoleSession, args: list[str]) -> str:
    return s.show_card(s.services.quiz.interview_cards(await _practice_part(s, args))[0])


@command("rate", "rate 1-4", "rate the current card: 1 again, 2 hard, 3 good, 4 easy")
async def _rate(s: ConsoleSession, args: list[str]) -> str:
    if s.card is None or not args:
        return "! Start an interview first, then: rate 3"
    rating = _int(args[0], "A rating")
    following = await s.services.quiz.rate_card(
        s.learner, s.card.id, rating, source=s.source, session=s.practicing
    )
    if s.practicing is not None:
        return "Rated.\n" + await s.next_practice()
    if s.reviewing_since is not None:
        return "Rated.\n" + await s.next_review()
    if following is None:
        s.card = None
        return "Rated. That was the last card of this part."
    return "Rated.\n" + s.show_card(following)


@command("review", "review", "review the cards that are due (spaced repetition)")
async def _review(s: ConsoleSession, _args: list[str]) -> str:
    if not await s.services.review.due(s.learner, limit=1):
        summary = await s.services.review.summary(s.learner, since=s.services.clock())
        if summary.next_due is None:
            return "Nothing is due right now. Answer a quiz or an interview: its cards come here."
        when = f"{summary.next_due:%Y-%m-%d %H:%M} UTC"
        return f"Nothing is due right now. The next card is due {when}."
    s.reviewing_since, s.practicing = s.services.clock(), None
    return await s.next_review()


@command("practice", "practice [PART]", "a short practice: due cards and your weakest parts")
async def _practice(s: ConsoleSession, args: list[str]) -> str:
    practice = s.services.practice
    part = practice.check_part(practice.find_part(" ".join(args))) if args else None
    s.reviewing_since, s.practicing = None, new_session(part)
    try:
        return await s.next_practice()
    except UserError:
        s.practicing = None
        raise


@command("quickref", "quickref PART", "a part's Quick Reference card")
async def _quickref(s: ConsoleSession, args: list[str]) -> str:
    if not args:
        return "! Which part? quickref 3"
    number = s.services.quiz.find_part(" ".join(args))
    card = s.services.quiz.quickref(number)
    await s.services.review.meet_quickref(s.learner, card.id, number)
    return f"── {card.front} ──\n{s.markdown(card.back)}"


@command("lab", "lab review FILE [DOCKERIGNORE]", "review a Dockerfile or a compose file")
async def _lab(s: ConsoleSession, args: list[str]) -> str:
    if len(args) < 2 or args[0].lower() != "review" or len(args) > 3:
        return "! Give a file: lab review Dockerfile, lab review compose.yaml"
    text = read_file(args[1])
    ignore = read_file(args[2]) if len(args) == 3 else None
    review = await s.services.labs.review(text, ignore)
    return s.markdown(review_markdown(s.services.labs, review, args[1]))


@command("progress", "progress", "your progress, streak and what's next")
async def _progress(s: ConsoleSession, _args: list[str]) -> str:
    report = await s.services.progress.report(s.learner)
    done, total = report.parts_done, len(report.parts)
    lines = [
        f"Track: {report.track.name}",
        f"[{progress_bar(done, total)}] {done}/{total} parts",
        f"Read ~{report.hours_read:g} h of ~{report.track.hours:g} h",
        f"Streak: {day_count(report.current_streak)} (best {day_count(report.best_streak)})",
    ]
    if report.labs:
        lines.append(f"Labs passed: {report.labs_passed}/{report.labs}")
    lines += [
        f"Part {p.info.number} quiz: {p.correct}/{p.answered}" for p in report.parts if p.answered
    ]
    nxt = report.next_up
    lines.append(f"Next: Part {nxt.number} · {nxt.title}" if nxt else "Track complete!")
    return "\n".join(lines)


@command("settings", "settings [zone Z|hour H|quiet 22-7|quiet off]", "show or change settings")
async def _settings(s: ConsoleSession, args: list[str]) -> str:
    learners = s.services.learners
    if len(args) == 1:
        return "! Give a value too: settings hour 9, settings quiet 22-7, settings quiet off."
    if len(args) >= 2:
        key, value = args[0].lower(), " ".join(args[1:])
        if key == "zone":
            await learners.update_settings(s.learner, time_zone=value)
        elif key == "hour":
            await learners.update_settings(s.learner, reminder_hour=_int(value, "The hour"))
        elif key == "quiet":
            start, _, end = value.partition("-")
            hours = None if value == "off" else (_int(start, "An hour"), _int(end, "An hour"))
            await learners.update_settings(s.learner, quiet_hours=hours)
        else:
            return "! Settings: zone, hour, quiet."
    profile = await learners.update_settings(s.learner, time_zone=KEEP)
    quiet = "-".join(map(str, profile.quiet_hours)) if profile.quiet_hours else "none"
    return (
        f"Time zone {profile.time_zone}; reminders at {profile.reminder_hour:02d}:00 by "
        f"{profile.delivery}; quiet hours {quiet}"
    )
