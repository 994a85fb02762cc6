"""Local wall-clock times (a drill at 18:00, a group's weekly note on Monday 10:00) as UTC,
and durations written as people say them.

The next occurrence is computed from the IANA zone every time it is needed, never by adding
24 hours to the last one, so clock changes cannot drift a schedule. Two deliberate choices,
the same as the learners' reminders (bot.services.reminder_times):
- a local time that does not exist (spring forward: 02:30 on the night clocks jump from 02:00
  to 03:00) happens the gap's length later, at 03:30 local, on the same local day;
- a local time that happens twice (fall back: 02:30 on the night clocks go from 03:00 back to
  02:00) is taken at its first occurrence, so it still happens once.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError

_CLOCK = re.compile(r"^\s*(\d{1,2})(?::?(\d{2}))?\s*$")


def parse_clock(text: str) -> time:
    """ "18:00", "7:30", "0730" or "18" as a time of day; a UserError for anything else."""
    match = _CLOCK.match(text or "")
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    raise UserError("Give a time of day on the 24-hour clock, such as `18:00` or `07:30`.")


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of `at` on `day` in `zone` (gaps and overlaps as the module says)."""
    # fold=0: the first of two occurrences; in a gap zoneinfo applies the offset from before
    # the change, which lands exactly the gap's length later.
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def next_local(
    after: datetime,
    zone: ZoneInfo,
    at: time,
    *,
    weekday: int | None = None,
    later_than_day: date | None = None,
) -> tuple[date, datetime]:
    """The first (local day, UTC instant) of `at` strictly after `after`.

    `weekday` (0 = Monday) keeps only that day of the week; `later_than_day` skips local days
    up to and including it (the drill after today's, even when today's went out early).
    """
    day = after.astimezone(zone).date() - timedelta(days=1)
    while True:
        instant = local_instant(day, at, zone)
        wanted_day = weekday is None or day.weekday() == weekday
        fresh_day = later_than_day is None or day > later_than_day
        if instant > after and wanted_day and fresh_day:
            return day, instant
        day += timedelta(days=1)


def span(delta: timedelta) -> str:
    """A duration as people say it: 45 s, 3 min, 2 h, 2 h 5 min, 3 d, 3 d 4 h."""
    seconds = max(0, int(delta.total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{minutes} min"
    if seconds < 86400:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"
