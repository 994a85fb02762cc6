"""Reminder times across time zones and DST changes (property tests over real IANA zones)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.reminder_times import ReminderPrefs, in_quiet_hours, local_to_utc, next_reminder

# Zones with DST in both hemispheres, a half-hour offset, a 30-minute DST, and none at all.
ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "UTC",
    "Asia/Tokyo",
]
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
hours = st.integers(min_value=0, max_value=23)
quiet = st.one_of(st.none(), st.tuples(hours, hours))


@settings(max_examples=400, deadline=None)
@given(zone=st.sampled_from(ZONES), hour=hours, after=instants, quiet_hours=quiet)
def test_next_reminder_is_the_next_local_hour(
    zone: str, hour: int, after: datetime, quiet_hours: tuple[int, int] | None
) -> None:
    prefs = ReminderPrefs(zone, hour, quiet_hours)
    due = next_reminder(prefs, after)
    assert due > after
    assert due - after <= timedelta(days=1, hours=2)  # at most a day (plus a DST change)
    local = due.astimezone(ZoneInfo(zone))
    wanted = quiet_hours[1] if in_quiet_hours(hour, quiet_hours) and quiet_hours else hour
    assert local.minute in (0, 30) or zone == "Pacific/Chatham"
    # The local hour is the one asked for, or later by a spring-forward gap.
    assert (local.hour - wanted) % 24 in (0, 1)
    assert not in_quiet_hours(local.hour, quiet_hours) or local.hour != wanted


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES), hour=hours, after=instants, days=st.integers(1, 60))
def test_paused_reminders_wait(zone: str, hour: int, after: datetime, days: int) -> None:
    until = after + timedelta(days=days)
    due = next_reminder(ReminderPrefs(zone, hour, paused_until=until), after)
    assert until <= due < until + timedelta(days=1, hours=2)


def test_eight_oclock_stays_eight_oclock_across_dst() -> None:
    prefs = ReminderPrefs("Europe/Berlin", 8)
    before = next_reminder(prefs, datetime(2026, 3, 28, 12, tzinfo=UTC))  # Sat, UTC+1
    after = next_reminder(prefs, before)  # Sun 29 March: clocks go to UTC+2
    assert before == datetime(2026, 3, 29, 6, tzinfo=UTC)  # 08:00 CEST already
    assert after == datetime(2026, 3, 30, 6, tzinfo=UTC)
    autumn = next_reminder(prefs, datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert autumn == datetime(2026, 10, 25, 7, tzinfo=UTC)  # 08:00 CET after fall-back


def test_gap_and_repeated_hours_are_handled_deliberately() -> None:
    ny = ZoneInfo("America/New_York")
    # 02:00 does not exist on 8 March 2026: it becomes 03:00 EDT (07:00 UTC).
    assert local_to_utc(date(2026, 3, 8), 2, ny) == datetime(2026, 3, 8, 7, tzinfo=UTC)
    # 01:00 happens twice on 1 November 2026: the first one (EDT, 05:00 UTC) is used.
    assert local_to_utc(date(2026, 11, 1), 1, ny) == datetime(2026, 11, 1, 5, tzinfo=UTC)


def test_quiet_hours_wrap_midnight_and_push_the_reminder_out() -> None:
    assert in_quiet_hours(23, (22, 7)) and in_quiet_hours(3, (22, 7))
    assert not in_quiet_hours(7, (22, 7)) and not in_quiet_hours(12, (22, 7))
    due = next_reminder(ReminderPrefs("UTC", 6, (22, 7)), datetime(2026, 1, 1, tzinfo=UTC))
    assert due == datetime(2026, 1, 1, 7, tzinfo=UTC)
