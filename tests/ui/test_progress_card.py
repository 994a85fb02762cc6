"""The progress card: a valid PNG, a truthful heatmap, and safe with hostile names."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageChops, ImageFont

from bot.ui.progress_card import (
    BACKGROUND,
    CARD_SIZE,
    HEAT_COLOURS,
    MAX_WEEKS,
    TITLE_BOX,
    TODAY_OUTLINE,
    ProgressCardData,
    activity_level,
    clean_text,
    fit_text,
    heatmap_cell_box,
    heatmap_month_labels,
    render_progress_card,
)

TODAY = dt.date(2025, 3, 12)  # a Wednesday, so the rest of this week has no cells
DAY = dt.timedelta(days=1)


def make_data(**overrides: object) -> ProgressCardData:
    """A typical learner; override any field."""
    fields: dict[str, object] = {
        "learner_name": "Ada Lovelace",
        "track_name": "Docker Fundamentals",
        "parts_done": 7,
        "parts_total": 21,
        "hours_read": 6.5,
        "hours_estimate": 18.0,
        "current_streak": 5,
        "best_streak": 12,
        "quiz_accuracy": 0.82,
        "activity": {TODAY - 3 * DAY: 5, TODAY - 10 * DAY: 2},
        "today": TODAY,
        "next_up": "Part 5 · Dockerfile optimization",
    }
    fields.update(overrides)
    return ProgressCardData(**fields)  # type: ignore[arg-type]


def render(data: ProgressCardData) -> Image.Image:
    """Render and decode, checking it is a well-formed PNG on the way."""
    png = render_progress_card(data)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(png)).verify()  # checks chunk CRCs; leaves the image unusable
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGBA")


def centre(day: dt.date, *, today: dt.date = TODAY, weeks: int = 12) -> tuple[int, int]:
    box = heatmap_cell_box(day, today=today, weeks=weeks)
    assert box is not None, day
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def changed_area(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the pixels that differ (in colour or transparency)."""
    return ImageChops.difference(a, b).getbbox(alpha_only=False)


def rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    r, g, b, _ = image.getpixel(xy)
    return (r, g, b)


# --------------------------------------------------------------------------- the image


def test_output_is_a_png_of_the_card_size() -> None:
    image = render(make_data())
    assert image.size == CARD_SIZE == (800, 400)
    # Opaque in the middle, transparent rounded corners.
    assert image.getpixel((400, 200))[3] == 255
    assert image.getpixel((0, 0))[3] == 0


def test_rendering_is_deterministic_across_threads() -> None:
    """Callers use asyncio.to_thread, so concurrent renders must not interfere."""
    data = make_data()
    expected = render_progress_card(data)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_progress_card(data), range(8)))
    assert all(result == expected for result in results)


@pytest.mark.parametrize(
    "change",
    [
        {"parts_done": 8},
        {"parts_total": 22},
        {"hours_read": 7.5},
        {"hours_estimate": 20.0},
        {"quiz_accuracy": 0.5},
        {"quiz_accuracy": None},
        {"current_streak": 6},
        {"best_streak": 13},
        {"track_name": "Docker Compose"},
        {"next_up": "Part 6 · Volumes"},
        {"learner_name": "Grace Hopper"},
    ],
)
def test_every_stat_is_drawn(change: dict[str, object]) -> None:
    """Changing any shown value changes the picture."""
    before = render(make_data())
    after = render(make_data(**change))
    assert changed_area(before, after) is not None


# --------------------------------------------------------------------------- the heatmap


def test_active_day_is_coloured_and_empty_day_is_not() -> None:
    active, empty = TODAY - 3 * DAY, TODAY - 4 * DAY
    image = render(make_data(activity={active: 5}))
    assert rgb(image, centre(active)) != rgb(image, centre(empty))
    assert rgb(image, centre(active)) == HEAT_COLOURS[4]  # the busiest day
    assert rgb(image, centre(empty)) == HEAT_COLOURS[0]


def test_colour_intensity_follows_the_count() -> None:
    days = [TODAY - n * DAY for n in (1, 2, 3, 4)]
    image = render(make_data(activity=dict(zip(days, (1, 2, 3, 4), strict=True))))
    assert [rgb(image, centre(d)) for d in days] == list(HEAT_COLOURS[1:])


def test_activity_level_buckets() -> None:
    assert activity_level(0, 10) == 0
    assert activity_level(-3, 10) == 0
    assert activity_level(1, 0) == 0
    assert activity_level(1, 100) == 1
    assert activity_level(10, 10) == 4
    levels = [activity_level(n, 20) for n in range(21)]
    assert levels == sorted(levels)
    assert set(levels) == {0, 1, 2, 3, 4}


def test_datetime_keys_count_for_their_day() -> None:
    day = TODAY - 2 * DAY
    stamp = dt.datetime.combine(day, dt.time(21, 30))
    image = render(make_data(activity={stamp: 3}))
    assert rgb(image, centre(day)) == HEAT_COLOURS[4]


def test_today_is_outlined() -> None:
    image = render(make_data(activity={}))
    for day, expected in ((TODAY, TODAY_OUTLINE), (TODAY - DAY, BACKGROUND)):
        box = heatmap_cell_box(day, today=TODAY)
        assert box is not None
        x, y = box[0] - 1, (box[1] + box[3]) // 2  # just left of the cell, in the gap
        assert rgb(image, (x, y)) == expected, day


def test_grid_is_weeks_by_weekdays() -> None:
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    boxes = [heatmap_cell_box(monday + n * DAY, today=TODAY) for n in range(3)]
    assert all(box is not None for box in boxes)
    xs = {box[0] for box in boxes if box}
    ys = [box[1] for box in boxes if box]
    assert len(xs) == 1  # one week = one column
    assert ys == sorted(ys) and len(set(ys)) == 3  # Mon, Tue, Wed downwards
    last_week = heatmap_cell_box(monday - 7 * DAY, today=TODAY)
    assert last_week is not None and last_week[0] < boxes[0][0]  # type: ignore[index]
    assert last_week[1] == boxes[0][1]  # type: ignore[index]


@pytest.mark.parametrize("weeks", [1, 4, 12, MAX_WEEKS])
def test_window_is_the_last_n_weeks_ending_today(weeks: int) -> None:
    first = TODAY - dt.timedelta(days=TODAY.weekday() + 7 * (weeks - 1))
    assert heatmap_cell_box(first, today=TODAY, weeks=weeks) is not None
    assert heatmap_cell_box(first - DAY, today=TODAY, weeks=weeks) is None
    assert heatmap_cell_box(TODAY + DAY, today=TODAY, weeks=weeks) is None
    width, height = CARD_SIZE
    for day in (first, TODAY):
        x0, y0, x1, y1 = heatmap_cell_box(day, today=TODAY, weeks=weeks)  # type: ignore[misc]
        assert 0 < x0 < x1 < width and 0 < y0 < y1 < height


def test_future_days_have_no_cell_drawn() -> None:
    image = render(make_data())
    today_x, today_y = centre(TODAY)
    pitch = today_y - centre(TODAY - DAY)[1]
    tomorrow = (today_x, today_y + pitch)  # where Thursday's cell would be
    assert rgb(image, tomorrow) == BACKGROUND


def test_month_labels_mark_where_months_start() -> None:
    # The 12 weeks ending Fri 2024-03-15 start on Mon 2023-12-25.
    assert heatmap_month_labels(dt.date(2024, 3, 15)) == [
        (0, "Dec"),
        (1, "Jan"),
        (6, "Feb"),
        (10, "Mar"),
    ]


def test_month_labels_are_drawn_above_their_columns() -> None:
    today = dt.date(2024, 3, 15)
    image = render(make_data(today=today, activity={}))
    for col, labelled in ((6, True), (8, False)):
        box = heatmap_cell_box(dt.date(2023, 12, 25) + dt.timedelta(weeks=col), today=today)
        assert box is not None
        band = image.crop((box[0], box[1] - 22, box[2] + 1, box[1] - 4)).convert("RGB")
        colours = {colour for _, colour in band.getcolors(maxcolors=1024) or []}
        assert (colours != {BACKGROUND}) is labelled, col


def test_zero_state_renders_empty_heatmap_and_legend() -> None:
    image = render(
        make_data(
            learner_name="",
            parts_done=0,
            hours_read=0.0,
            current_streak=0,
            best_streak=0,
            quiz_accuracy=None,
            activity={},
        )
    )
    first = TODAY - dt.timedelta(days=TODAY.weekday() + 7 * 11)
    day = first
    while day <= TODAY:
        assert rgb(image, centre(day)) == HEAT_COLOURS[0], day
        day += DAY
    # With no activity the brighter colours can only come from the less/more legend.
    present = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
    assert set(HEAT_COLOURS) <= present


@pytest.mark.parametrize(
    "change",
    [
        {"parts_done": 99, "parts_total": 21},
        {"parts_done": -1, "parts_total": 0},
        {"hours_read": float("inf"), "hours_estimate": float("nan")},
        {"hours_read": -2.0, "hours_estimate": 0.0},
        {"quiz_accuracy": 1.7},
        {"quiz_accuracy": float("nan")},
        {"current_streak": 9, "best_streak": 3},
        {"activity": {TODAY: -4, TODAY + DAY: 3, TODAY - 400 * DAY: 9}},
        {"weeks": 0},
        {"weeks": 1000},
        {"next_up": ""},
        {"track_name": "x" * 10_000},
        {"today": dt.date.max},
        {"today": dt.date.min},
        {"today": dt.datetime(2025, 3, 12, 23, 59)},
    ],
)
def test_out_of_range_values_still_render(change: dict[str, object]) -> None:
    assert render(make_data(**change)).size == CARD_SIZE


# --------------------------------------------------------------------------- hostile text

HOSTILE_NAMES = [
    "W" * 10_000,
    "😀🐳🔥" * 50,
    "👩‍👩‍👧‍👦 family",
    "山田太郎" * 100,
    "a\u200bb\u200c\u200d\u2060\ufeffc" * 200,
    "line one\nline two\r\nline three\tend",
    "@everyone @here <@123456789> **bold** `code` ||spoiler||",
    "\u202eevil.exe\u202c",
    "Z\u0301\u0302\u0303\u0304\u0305" * 300,
    "\x00\x07\x1b[31mred",
    "bad \ud800 surrogate",
    "",
    " \n\t ",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_name_stays_inside_the_title_box(name: str) -> None:
    baseline = render(make_data(learner_name="A"))
    image = render(make_data(learner_name=name))
    changed = changed_area(baseline, image)
    if changed is not None:
        x0, y0, x1, y1 = TITLE_BOX
        assert x0 <= changed[0] and y0 <= changed[1], changed
        assert changed[2] <= x1 and changed[3] <= y1, changed


def test_long_name_is_truncated_not_hidden() -> None:
    image = render(make_data(learner_name="W" * 10_000)).convert("RGB")
    x0, y0, x1, y1 = TITLE_BOX
    right_half = image.crop(((x0 + x1) // 2, y0, x1, y1))
    assert {c for _, c in right_half.getcolors(maxcolors=1 << 16) or []} != {BACKGROUND}


def test_newlines_render_as_spaces() -> None:
    one_line = render_progress_card(make_data(learner_name="Ada Lovelace"))
    assert render_progress_card(make_data(learner_name="Ada\nLovelace")) == one_line
    assert render_progress_card(make_data(learner_name="Ada \r\n\t Lovelace")) == one_line


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("@everyone **bold** <@1>", "@everyone **bold** <@1>"),
        ("a\nb\r\nc\td", "a b c d"),
        ("a\u200bb\u200dc\u202ed\ufeff", "abcd"),
        ("  spaced   out  ", "spaced out"),
        ("x\ud800y", "x\ufffdy"),
        ("日本語 😀", "日本語 😀"),
        ("\x00\x1b", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_fit_text_truncates_with_an_ellipsis() -> None:
    font = ImageFont.load_default(size=30)
    assert fit_text("Ada", font, 500) == "Ada"
    cut = fit_text("W" * 10_000, font, 500)
    assert cut.endswith("…") and cut.startswith("WWW")
    assert font.getlength(cut) <= 500
    assert font.getlength(cut[:-1] + "W…") > 500  # as long as fits, no shorter


@pytest.mark.parametrize("field", ["track_name", "next_up"])
def test_other_user_text_is_drawn_literally_and_safely(field: str) -> None:
    for value in HOSTILE_NAMES:
        assert render(make_data(**{field: value})).size == CARD_SIZE


def test_data_is_frozen() -> None:
    data = make_data()
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.parts_done = 8  # type: ignore[misc]
    assert data.weeks == 12
