"""Render a learner's progress card (stats plus an activity heatmap) as a PNG.

Pure Pillow, CPU bound: call it from async code with
``await asyncio.to_thread(render_progress_card, data)``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from bot.ui.drawing import (
    ACCENT,
    BACKGROUND,
    BORDER,
    MUTED,
    PANEL,
    RGB,
    TEXT,
    Box,
    clean_text,
    fit_text,
    rounded_mask,
)
from bot.ui.drawing import as_int as _int
from bot.ui.drawing import bar as _bar
from bot.ui.drawing import draw_text_clipped as _draw_text_clipped
from bot.ui.drawing import finite as _finite
from bot.ui.drawing import font as _font
from bot.ui.drawing import text_right as _text_right
from bot.ui.drawing import text_width as _text_width

__all__ = [
    "CARD_SIZE",
    "HEAT_COLOURS",
    "MAX_WEEKS",
    "TITLE_BOX",
    "ProgressCardData",
    "activity_level",
    "clean_text",
    "fit_text",
    "heatmap_cell_box",
    "heatmap_month_labels",
    "render_progress_card",
]

CARD_SIZE: tuple[int, int] = (800, 400)
# The learner's name is drawn inside this box (x0, y0, x1, y1; end-exclusive) and
# clipped to it, so no name can spill over the rest of the card.
TITLE_BOX: tuple[int, int, int, int] = (28, 22, 772, 60)
MAX_WEEKS = 26  # half a year; more would shrink the cells below legibility

# Palette (bot.ui.drawing has the rest).
TODAY_OUTLINE: RGB = (240, 246, 252)
# Heatmap buckets, index = activity level (0 = no events).
HEAT_COLOURS: tuple[RGB, ...] = (
    (45, 51, 59),
    (16, 56, 138),
    (22, 78, 190),
    (29, 99, 237),
    (120, 168, 255),
)

# Layout (pixels).
_W, _H = CARD_SIZE
_MARGIN = 28
_RADIUS = 18
_LEFT_X1 = 412  # right edge of the stats column
_HEAT_X0 = 440  # left edge of the heatmap area (weekday labels included)
_HEAT_LABEL_W = 36
_HEAT_TOP = 140  # top of the heatmap grid at full cell size
_HEAT_MAX_PITCH = 24
_WEEKDAY_LABELS = {0: "Mon", 2: "Wed", 4: "Fri"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class ProgressCardData:
    """Everything the card shows; values out of range are clamped when drawn."""

    learner_name: str
    track_name: str
    parts_done: int
    parts_total: int
    hours_read: float
    hours_estimate: float
    current_streak: int
    best_streak: int
    quiz_accuracy: float | None  # 0..1; None = no quiz answers yet
    activity: Mapping[dt.date, int] = field(repr=False)  # learning events per local day
    today: dt.date  # the learner's local date
    next_up: str
    weeks: int = 12


# --------------------------------------------------------------------------- heatmap geometry


def _as_date(day: dt.date) -> dt.date:
    return day.date() if isinstance(day, dt.datetime) else day


def _clamp_weeks(weeks: int) -> int:
    return max(1, min(MAX_WEEKS, _int(weeks, default=12)))


def _heat_start(today: dt.date, weeks: int) -> dt.date:
    """Monday of the first (leftmost) column."""
    today = _as_date(today)
    days = today.weekday() + 7 * (_clamp_weeks(weeks) - 1)
    # Near date.min, start at 0001-01-01, which happens to be a Monday.
    return today - dt.timedelta(days=min(days, today.toordinal() - 1))


def _heat_pitch(weeks: int) -> tuple[int, int]:
    """(pitch, gap) of the heatmap grid in pixels."""
    avail = _W - _MARGIN - _HEAT_X0 - _HEAT_LABEL_W
    pitch = max(3, min(_HEAT_MAX_PITCH, avail // _clamp_weeks(weeks)))
    return pitch, max(1, round(pitch / 6))


def _heat_grid_y(weeks: int) -> int:
    """Top of the grid; smaller grids (many weeks) are centred on the full-size one."""
    pitch, gap = _heat_pitch(weeks)
    full = 7 * _HEAT_MAX_PITCH - 4
    return _HEAT_TOP + (full - (7 * pitch - gap)) // 2


def _heat_column_x(col: int, weeks: int) -> int:
    pitch, gap = _heat_pitch(weeks)
    grid_x0 = _W - _MARGIN - (_clamp_weeks(weeks) * pitch - gap)
    return grid_x0 + col * pitch


def heatmap_cell_box(day: dt.date, *, today: dt.date, weeks: int = 12) -> Box | None:
    """Pixel box (x0, y0, x1, y1), inclusive, of ``day``'s heatmap cell; None if not drawn.

    Columns are weeks (oldest left, today's week right), rows are Monday..Sunday.
    Days before the window or after ``today`` have no cell.
    """
    day, today = _as_date(day), _as_date(today)
    start = _heat_start(today, weeks)
    if day < start or day > today:
        return None
    offset = (day - start).days
    pitch, gap = _heat_pitch(weeks)
    x0 = _heat_column_x(offset // 7, weeks)
    y0 = _heat_grid_y(weeks) + (offset % 7) * pitch
    return (x0, y0, x0 + pitch - gap - 1, y0 + pitch - gap - 1)


def heatmap_month_labels(today: dt.date, weeks: int = 12) -> list[tuple[int, str]]:
    """(column, month abbreviation) where a month begins, plus the first column.

    A column belongs to the month of its Monday, as on GitHub. Labels that would
    collide are dropped when drawing.
    """
    start = _heat_start(today, weeks)
    labels: list[tuple[int, str]] = []
    prev_month = None
    for col in range(_clamp_weeks(weeks)):
        month = (start + dt.timedelta(weeks=col)).month
        if month != prev_month:
            labels.append((col, _MONTHS[month - 1]))
            prev_month = month
    return labels


def activity_level(count: int, peak: int) -> int:
    """Colour bucket 0..4 for ``count`` events, relative to the busiest day ``peak``."""
    if count <= 0 or peak <= 0:
        return 0
    return max(1, min(4, math.ceil(4 * count / peak)))


# --------------------------------------------------------------------------- drawing


def _fmt_hours(hours: float) -> str:
    if hours >= 100:
        return f"{hours:.0f}"
    return f"{hours:.1f}".rstrip("0").rstrip(".")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _draw_header(card: Image.Image, draw: ImageDraw.ImageDraw, data: ProgressCardData) -> None:
    draw.rectangle((0, 0, _W, 5), fill=ACCENT)
    name = clean_text(data.learner_name) or "Learner"  # blank names get a placeholder
    x0, y0, x1, y1 = TITLE_BOX
    _draw_text_clipped(card, x0, y0, x1, name, _font(30), TEXT, y1=y1)
    track = clean_text(data.track_name)
    _draw_text_clipped(card, _MARGIN, 64, _W - _MARGIN, track, _font(18), MUTED)
    draw.line((_MARGIN, 100, _W - _MARGIN, 100), fill=BORDER, width=1)


def _draw_tile(
    card: Image.Image,
    draw: ImageDraw.ImageDraw,
    box: Box,
    label: str,
    value: str | None,
    sub: str,
    ratio: float,
) -> None:
    """A stat tile: small label, big value (None = dash), caption, thin bar."""
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, radius=10, fill=PANEL)
    pad = 12
    inner = (x0 + pad, x1 - pad)
    _draw_text_clipped(card, inner[0], y0 + 10, inner[1], label, _font(14), MUTED)
    if value is None:  # the font has no dash glyph, so draw one
        draw.rounded_rectangle((inner[0], y0 + 47, inner[0] + 22, y0 + 50), radius=1, fill=MUTED)
    else:
        _draw_text_clipped(card, inner[0], y0 + 30, inner[1], value, _font(26), TEXT)
    _draw_text_clipped(card, inner[0], y0 + 64, inner[1], sub, _font(14), MUTED)
    _bar(draw, (inner[0], y1 - 14, inner[1], y1 - 10), ratio)


def _draw_stats(card: Image.Image, draw: ImageDraw.ImageDraw, data: ProgressCardData) -> None:
    x0, x1 = _MARGIN, _LEFT_X1
    total = max(0, _int(data.parts_total))
    done = max(0, _int(data.parts_done))
    ratio = done / total if total else 0.0
    small, mid = _font(15), _font(22)

    draw.text((x0, 118), "Track progress", font=small, fill=MUTED)
    _text_right(draw, x1, 118, f"{round(min(1.0, ratio) * 100)}%", small, TEXT)
    _bar(draw, (x0, 142, x1, 156), ratio)
    draw.text((x0, 166), f"{done}/{total} parts", font=mid, fill=TEXT)

    gap = 8
    tile_w = (x1 - x0 - 2 * gap) // 3
    top, bottom = 204, 306
    boxes = [
        (x0 + i * (tile_w + gap), top, x0 + i * (tile_w + gap) + tile_w, bottom) for i in (0, 1, 2)
    ]

    read = max(0.0, _finite(data.hours_read))
    estimate = max(0.0, _finite(data.hours_estimate))
    sub = f"of ~{_fmt_hours(estimate)} h" if estimate > 0 else "no estimate"
    read_ratio = read / estimate if estimate > 0 else 0.0
    _draw_tile(card, draw, boxes[0], "Hours read", f"{_fmt_hours(read)} h", sub, read_ratio)

    acc = data.quiz_accuracy
    acc = None if acc is None else _finite(acc, default=math.nan)
    if acc is None or math.isnan(acc):
        _draw_tile(card, draw, boxes[1], "Quiz accuracy", None, "no answers yet", 0.0)
    else:
        acc = max(0.0, min(1.0, acc))
        _draw_tile(card, draw, boxes[1], "Quiz accuracy", f"{round(acc * 100)}%", "correct", acc)

    current = max(0, _int(data.current_streak))
    best = max(current, _int(data.best_streak))
    streak_ratio = current / best if best else 0.0
    _draw_tile(
        card, draw, boxes[2], "Streak", _plural(current, "day"), f"best {best}", streak_ratio
    )


def _draw_heatmap(card: Image.Image, draw: ImageDraw.ImageDraw, data: ProgressCardData) -> None:
    today = _as_date(data.today)
    weeks = _clamp_weeks(data.weeks)
    start = _heat_start(today, weeks)
    counts: dict[dt.date, int] = {}
    for day, count in data.activity.items():
        day = _as_date(day)
        if start <= day <= today:
            counts[day] = counts.get(day, 0) + max(0, _int(count))
    peak = max(counts.values(), default=0)
    pitch, gap = _heat_pitch(weeks)
    label_font = _font(13)
    cell = pitch - gap
    radius = max(0, min(4, cell // 5))

    # Weekday labels, vertically centred on their row.
    grid_y0 = _heat_grid_y(weeks)
    _, top, _, bottom = label_font.getbbox("Mon")
    if 2 * pitch >= bottom - top + 4:  # room between labelled rows
        for row, name in _WEEKDAY_LABELS.items():
            y = grid_y0 + row * pitch + (cell - (bottom - top)) / 2 - top
            draw.text((_HEAT_X0, y), name, font=label_font, fill=MUTED)

    # Month labels; when two collide the later wins only over the first column's.
    placed: list[tuple[int, str]] = []
    for col, name in heatmap_month_labels(today, weeks):
        x = min(_heat_column_x(col, weeks), _W - _MARGIN - math.ceil(_text_width(label_font, name)))
        if placed and x < placed[-1][0] + _text_width(label_font, placed[-1][1]) + 6:
            if len(placed) > 1:
                continue
            placed.pop()  # the first column's month is only partly shown
        placed.append((x, name))
    for x, name in placed:
        draw.text((x, grid_y0 - 22), name, font=label_font, fill=MUTED)

    # Cells.
    for offset in range((today - start).days + 1):
        day = start + dt.timedelta(days=offset)
        box = heatmap_cell_box(day, today=today, weeks=weeks)
        if box is not None:
            colour = HEAT_COLOURS[activity_level(counts.get(day, 0), peak)]
            draw.rounded_rectangle(box, radius=radius, fill=colour)
    # Today: outline drawn in the gap around the cell, so the fill stays visible.
    box = heatmap_cell_box(today, today=today, weeks=weeks) or (0, 0, 0, 0)
    ring = min(2, gap // 2)
    width = max(1, ring)
    draw.rounded_rectangle(
        (box[0] - ring, box[1] - ring, box[2] + ring, box[3] + ring),
        radius=radius + ring,
        outline=TODAY_OUTLINE,
        width=width,
    )

    # Footer: active days on the left, "Less ▪▪▪▪▪ More" on the right.
    y = _HEAT_TOP + 7 * _HEAT_MAX_PITCH + 8
    grid_x0 = _heat_column_x(0, weeks)
    right = _W - _MARGIN
    swatch, step = 11, 15
    more_w = _text_width(label_font, "More")
    less_w = _text_width(label_font, "Less")
    legend_x0 = right - more_w - 6 - len(HEAT_COLOURS) * step - less_w - 2
    draw.text((legend_x0, y), "Less", font=label_font, fill=MUTED)
    sx = legend_x0 + less_w + 6
    sy = y + (label_font.getbbox("Less")[1] + label_font.getbbox("Less")[3]) / 2 - swatch / 2
    for colour in HEAT_COLOURS:
        draw.rounded_rectangle((sx, sy, sx + swatch - 1, sy + swatch - 1), radius=2, fill=colour)
        sx += step
    draw.text((right - more_w, y), "More", font=label_font, fill=MUTED)
    active = sum(1 for c in counts.values() if c > 0)
    caption = _plural(active, "active day")
    caption_x = min(grid_x0, _HEAT_X0 + _HEAT_LABEL_W)
    _draw_text_clipped(card, caption_x, y, int(legend_x0) - 10, caption, label_font, MUTED)


def _draw_next(card: Image.Image, draw: ImageDraw.ImageDraw, data: ProgressCardData) -> None:
    box = (_MARGIN, 334, _W - _MARGIN, 374)
    draw.rounded_rectangle(box, radius=10, fill=PANEL)
    draw.rounded_rectangle((box[0], box[1], box[0] + 4, box[3]), radius=2, fill=ACCENT)
    font = _font(18)
    _, top, _, bottom = font.getbbox("Next:")
    y = box[1] + (box[3] - box[1] - (bottom - top)) / 2 - top
    x = box[0] + 18
    draw.text((x, y), "Next:", font=font, fill=ACCENT)
    x += math.ceil(_text_width(font, "Next: "))
    text = clean_text(data.next_up) or "You're all caught up"
    _draw_text_clipped(card, x, round(y), box[2] - 14, text, font, TEXT)


def _render_image(data: ProgressCardData) -> Image.Image:
    card = Image.new("RGB", CARD_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(card)
    _draw_header(card, draw, data)
    _draw_stats(card, draw, data)
    _draw_heatmap(card, draw, data)
    _draw_next(card, draw, data)
    draw.rounded_rectangle((0, 0, _W - 1, _H - 1), radius=_RADIUS, outline=BORDER, width=1)
    card.putalpha(rounded_mask(CARD_SIZE, _RADIUS))
    return card


def render_progress_card(data: ProgressCardData) -> bytes:
    """Draw ``data`` as an 800x400 RGBA PNG and return its bytes."""
    buf = io.BytesIO()
    _render_image(data).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()
