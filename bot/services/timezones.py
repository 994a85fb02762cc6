"""IANA time zones: validation, autocomplete, and local dates that survive DST changes."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError

# Offered first when the learner has typed nothing yet.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
MAX_ZONE_LENGTH = 64


@cache
def _all_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def parse_zone(name: str) -> ZoneInfo:
    """The zone for an IANA name (case-insensitive); a clear error for anything else."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_ZONE_LENGTH:
        raise UserError("Give a time zone such as `Europe/Berlin` or `America/New_York`.")
    exact = {z.lower(): z for z in _all_zones()}.get(cleaned.lower().replace(" ", "_"))
    try:
        if exact is None:
            raise ZoneInfoNotFoundError(cleaned)
        return ZoneInfo(exact)
    except (ZoneInfoNotFoundError, ValueError):
        suggestions = suggest_zones(cleaned, limit=3)
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise UserError(
            f"{cleaned[:MAX_ZONE_LENGTH]!r} is not a time zone I know (IANA names such as "
            f"`Europe/Berlin`).{hint}"
        ) from None


def suggest_zones(typed: str, limit: int = 25) -> list[str]:
    """Autocomplete: common zones first when nothing is typed, else the best matches."""
    needle = typed.strip().lower().replace(" ", "_")[:MAX_ZONE_LENGTH]
    if not needle:
        return list(COMMON_ZONES[:limit])
    starts = [z for z in _all_zones() if z.lower().startswith(needle)]
    city = [z for z in _all_zones() if z.lower().split("/")[-1].startswith(needle)]
    inside = [z for z in _all_zones() if needle in z.lower()]
    seen: dict[str, None] = {}
    for zone in (*starts, *city, *inside):
        seen.setdefault(zone, None)
    return list(seen)[:limit]


def local_date(moment: datetime, zone_name: str) -> date:
    """The learner's calendar date at `moment` (an aware datetime)."""
    return moment.astimezone(ZoneInfo(zone_name)).date()
