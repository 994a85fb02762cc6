"""When a learner's daily reminder is due, in their own time zone, DST included.

Local times are turned into UTC at each scheduling from the IANA zone (bot.services.local_time,
shared with drills and group notes), so a reminder set for 08:00 arrives at 08:00 before and
after a clock change; gaps and repeated hours are handled as that module describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.local_time import local_instant, next_local


@dataclass(frozen=True)
class ReminderPrefs:
    time_zone: str
    hour: int  # 0..23 local
    quiet: tuple[int, int] | None = None  # [start, end) local hours; may wrap midnight
    paused_until: datetime | None = None  # UTC


def in_quiet_hours(hour: int, quiet: tuple[int, int] | None) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    if start == end:
        return False
    return start <= hour < end if start < end else hour >= start or hour < end


def local_to_utc(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of `hour`:00 on `day` in `zone`."""
    return local_instant(day, time(hour), zone)


def send_hour(prefs: ReminderPrefs) -> int:
    """The reminder hour, moved to the end of the quiet hours when it falls inside them."""
    if in_quiet_hours(prefs.hour, prefs.quiet):
        assert prefs.quiet is not None
        return prefs.quiet[1]
    return prefs.hour


def next_reminder(prefs: ReminderPrefs, after: datetime) -> datetime:
    """The first reminder instant strictly after `after` (UTC), honouring quiet hours and pause."""
    zone = ZoneInfo(prefs.time_zone)
    start = after
    if prefs.paused_until is not None and prefs.paused_until > start:
        start = prefs.paused_until - timedelta(microseconds=1)
    return next_local(start, zone, time(send_hour(prefs)))[1]
