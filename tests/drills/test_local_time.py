"""Local times as UTC: the next occurrence, clock changes, the weekly day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.services.local_time import local_instant, next_local, parse_clock, span

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("18:00", time(18)), ("7:30", time(7, 30)), ("0730", time(7, 30)), (" 9 ", time(9))],
)
def test_clock_times(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["24:00", "18:60", "6pm", "", "18:0", "noon"])
def test_bad_clock_times_say_how_to_write_one(text: str) -> None:
    with pytest.raises(UserError, match="24-hour clock"):
        parse_clock(text)


def test_next_occurrence_is_today_or_tomorrow() -> None:
    morning = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # 14:00 in Berlin
    assert next_local(morning, BERLIN, time(18)) == (
        date(2026, 6, 1),
        datetime(2026, 6, 1, 16, 0, tzinfo=UTC),
    )
    assert next_local(morning, BERLIN, time(9))[0] == date(2026, 6, 2)
    assert next_local(morning, BERLIN, time(18), later_than_day=date(2026, 6, 1))[0] == date(
        2026, 6, 2
    )


def test_the_same_local_time_across_a_clock_change() -> None:
    before = next_local(datetime(2026, 3, 7, 12, tzinfo=UTC), NEW_YORK, time(18))
    after = next_local(before[1], NEW_YORK, time(18))
    assert before[1] == datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # EST, UTC-5
    assert after[1] == datetime(2026, 3, 8, 22, 0, tzinfo=UTC)  # EDT, UTC-4: 23 h later
    assert after[1].astimezone(NEW_YORK).time() == time(18)


def test_a_time_that_does_not_exist_happens_the_gap_later() -> None:
    # 8 March 2026, New York: 02:00 jumps to 03:00, so 02:30 does not exist; it is 03:30 EDT.
    day, instant = next_local(datetime(2026, 3, 8, 5, tzinfo=UTC), NEW_YORK, time(2, 30))
    assert day == date(2026, 3, 8)
    assert instant == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert instant.astimezone(NEW_YORK).time() == time(3, 30)


def test_a_time_that_happens_twice_is_taken_once_at_the_first() -> None:
    # 1 November 2026, New York: 02:00 goes back to 01:00, so 01:30 happens twice.
    first = local_instant(date(2026, 11, 1), time(1, 30), NEW_YORK)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    day, instant = next_local(first, NEW_YORK, time(1, 30))
    assert day == date(2026, 11, 2)  # not 06:30 UTC (the second 01:30) on the same day
    assert instant == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST


def test_weekly_keeps_the_weekday() -> None:
    day, instant = next_local(
        datetime(2026, 3, 25, tzinfo=UTC), BERLIN, time(10), weekday=0
    )  # a Wednesday
    assert day == date(2026, 3, 30) and day.weekday() == 0
    assert instant == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # CEST by then


@given(
    after=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    at=st.times(),
)
def test_the_next_occurrence_is_soon_and_one_per_local_day(
    after: datetime, zone: str, at: time
) -> None:
    tz = ZoneInfo(zone)
    day, instant = next_local(after, tz, at)
    assert after < instant <= after + timedelta(hours=26)
    following_day, following = next_local(instant, tz, at)
    assert following_day == day + timedelta(days=1)
    assert timedelta(hours=22) <= following - instant <= timedelta(hours=26)
    local = instant.astimezone(tz)
    assert local.date() == day or (local - timedelta(hours=1)).date() == day


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 s"),
        (59, "59 s"),
        (180, "3 min"),
        (7200, "2 h"),
        (7500, "2 h 5 min"),
        (259_200, "3 d"),
        (273_600, "3 d 4 h"),
    ],
)
def test_durations_read_as_people_say_them(seconds: int, said: str) -> None:
    assert span(timedelta(seconds=seconds)) == said
