"""Reading articles chunk by chunk, resumable, with the learner's place stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.services.activity import record_activity
from bot.services.base import ServiceBase, lock_learner
from bot.services.tracks import next_in_track, track_of
from content.model import Chunk, Part, PartInfo
from content.reader import part_chunks
from storage.models import Learner, ReadingProgress

# Given the current position and the part's chunks, where to go.
Mover = Callable[[int, tuple[Chunk, ...]], int]


@dataclass(frozen=True)
class Page:
    """One chunk of an article as the learner should see it now."""

    part: PartInfo
    chunk: Chunk
    position: int  # 0-based over the whole part
    total: int
    sections: tuple[tuple[str, int], ...]  # (section name, its first position)
    completed: bool

    @property
    def at_start(self) -> bool:
        return self.position == 0

    @property
    def at_end(self) -> bool:
        return self.position == self.total - 1

    @property
    def footer(self) -> str:
        return f"{self.chunk.label} · {self.position + 1}/{self.total} in this part"


class UnfinishedPart(UserError):
    """Marking a part done before its last chunk was reached: the adapters ask first."""

    def __init__(self, part: PartInfo, read: int, total: int) -> None:
        self.part, self.read, self.total = part, read, total
        super().__init__(f"You have read {read} of {total} chunks of Part {part.number}.")


@dataclass(frozen=True)
class Finished:
    part: PartInfo
    questions: int  # Debug This questions waiting in its quiz
    next_part: PartInfo | None
    next_written: bool


class ReadingService(ServiceBase):
    async def open(self, discord_id: int, part: int | None = None) -> Page:
        """The chunk where the learner left off: in `part`, or their current article."""
        async with self.sessions.begin() as session:
            learner = await lock_learner(session, discord_id)
            number = part if part is not None else await self._current_part(session, learner)
            progress = await self._progress(session, learner, self.part(number))
            await record_activity(session, learner, self.clock())
            return self._page(self.part(number), progress)

    async def turn(self, discord_id: int, part: int, step: int) -> Page:
        """Move `step` chunks forward (or back); stops at either end."""
        return await self._move(discord_id, part, lambda position, _chunks: position + step)

    async def jump(self, discord_id: int, part: int, section: str) -> Page:
        wanted = " ".join(section.split()).casefold()  # "deep  dive" finds "Deep Dive"

        def first_of_section(_position: int, chunks: tuple[Chunk, ...]) -> int:
            for index, chunk in enumerate(chunks):
                if chunk.section.casefold() == wanted:
                    return index
            names = ", ".join(dict.fromkeys(chunk.section for chunk in chunks))
            raise UserError(f"Part {part} has no section {section[:60]!r}. Its sections: {names}.")

        return await self._move(discord_id, part, first_of_section)

    async def finish(self, discord_id: int, part: int, *, confirmed: bool = False) -> Finished:
        """Mark the part done (idempotent) and suggest what comes next. Before its last chunk
        was reached this raises UnfinishedPart unless `confirmed`; the place is kept."""
        article = self.part(part)
        total = len(part_chunks(article))
        async with self.sessions.begin() as session:
            learner = await lock_learner(session, discord_id)
            progress = await self._progress(session, learner, article)
            if progress.completed_at is None:
                read = chunks_read(progress, total)
                if read < total and not confirmed:
                    raise UnfinishedPart(article.info, read, total)
                progress.completed_at = self.clock()
            await record_activity(session, learner, self.clock())
            track = await track_of(session, learner, self.course)
        following = next_in_track(track, part)
        next_info = self.course.parts[following].info if following is not None else None
        written = following is not None and self.course.parts[following].written
        return Finished(article.info, len(article.questions), next_info, written)

    async def _move(self, discord_id: int, part: int, where: Mover) -> Page:
        article = self.part(part)
        chunks = part_chunks(article)
        async with self.sessions.begin() as session:
            learner = await lock_learner(session, discord_id)
            progress = await self._progress(session, learner, article)
            progress.position = clamped(where(progress.position, chunks), len(chunks))
            progress.furthest = max(progress.furthest, progress.position)
            await record_activity(session, learner, self.clock())
            return self._page(article, progress)

    async def _progress(
        self, session: AsyncSession, learner: Learner, part: Part
    ) -> ReadingProgress:
        """The learner's place in the part, within its chunks: a reload may have shortened the
        article, and Prev and Next move from the chunk the learner was shown."""
        progress = await session.get(ReadingProgress, (learner.id, part.info.number))
        if progress is None:
            now = self.clock()
            progress = ReadingProgress(
                learner_id=learner.id, part=part.info.number, started_at=now, updated_at=now
            )
            session.add(progress)
            await session.flush()
        progress.position = clamped(progress.position, len(part_chunks(part)))
        progress.updated_at = self.clock()
        return progress

    async def _current_part(self, session: AsyncSession, learner: Learner) -> int:
        """The unfinished part read last; else the first unfinished part of the track."""
        rows = (
            await session.execute(
                select(ReadingProgress.part, ReadingProgress.completed_at)
                .where(ReadingProgress.learner_id == learner.id)
                .order_by(ReadingProgress.updated_at.desc())
            )
        ).all()
        for number, completed_at in rows:
            if completed_at is None and number in self.course.parts:
                return int(number)
        done = {int(number) for number, completed_at in rows if completed_at is not None}
        track = await track_of(session, learner, self.course)
        for number in track.sequence:
            if number not in done:
                return number
        return track.sequence[-1]

    def _page(self, part: Part, progress: ReadingProgress) -> Page:
        chunks = part_chunks(part)
        starts: dict[str, int] = {}
        for index, chunk in enumerate(chunks):
            starts.setdefault(chunk.section, index)
        return Page(
            part=part.info,
            chunk=chunks[progress.position],  # within the chunks: see _progress
            position=progress.position,
            total=len(chunks),
            sections=tuple(starts.items()),
            completed=progress.completed_at is not None,
        )


def clamped(position: int, total: int) -> int:
    """`position` moved onto one of a part's `total` chunks."""
    return max(0, min(position, total - 1))


def chunks_read(progress: ReadingProgress, total: int) -> int:
    """How many chunks of the part the learner has read: up to the furthest they reached
    (at most the part's chunks: an article may have shrunk since)."""
    return min(progress.furthest + 1, total)
