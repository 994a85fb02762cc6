"""Which track a learner follows, and what comes next in it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import current_track
from bot.services.errors import UnknownTrack
from content.model import Course, Track
from storage.models import Learner

FALLBACK_TRACK = "complete"  # a learner who has not picked a track yet reads everything


async def track_of(session: AsyncSession, learner: Learner, course: Course) -> Track:
    slug = await current_track(session, learner.id)
    track = course.track(slug or FALLBACK_TRACK) or course.tracks[-1]
    return track


def find_track(course: Course, text: str) -> Track:
    """A track by slug or name, case-insensitive."""
    wanted = text.strip().lower()
    for track in course.tracks:
        if wanted in (track.slug, track.name.lower()):
            return track
    raise UnknownTrack(text[:50], [t.slug for t in course.tracks])


def next_in_track(track: Track, part: int) -> int | None:
    """The part after `part` in the track's reading order (None at the end or off-track)."""
    sequence = track.sequence
    if part in sequence:
        index = sequence.index(part)
        return sequence[index + 1] if index + 1 < len(sequence) else None
    later = [number for number in sequence if number > part]
    return later[0] if later else None
