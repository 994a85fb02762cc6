"""Render a server's dashboard (/server stats) as a PNG: the class picture for moderators.

Pure Pillow, CPU bound: call it with ``await asyncio.to_thread(render_dashboard, stats, name)``.
The same numbers go beside it as text (bot.exts.server), for screen readers; both write a
share with `share_text`, which falls back to counts for buckets too small to share.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from bot.services.server_stats import PRIVATE_BELOW, ServerStats, Share
from bot.ui.drawing import (
    ACCENT,
    BACKGROUND,
    BORDER,
    MUTED,
    PANEL,
    RGB,
    TEXT,
    Box,
    bar,
    clean_text,
    draw_text_clipped,
    font,
    rounded_mask,
    text_right,
    text_width,
)

__all__ = ["DASHBOARD_SIZE", "render_dashboard", "share_text"]

DASHBOARD_SIZE: tuple[int, int] = (1000, 760)
STARTED: RGB = (70, 84, 102)  # the funnel's "started" columns, behind "finished"
WARN: RGB = (240, 136, 62)  # wrong answers, failed reminders

_W, _H = DASHBOARD_SIZE
_M = 28  # margin
_GAP = 16
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def share_text(share: Share) -> str:
    """`62%` where the bucket is large enough, else the counts: `3 of 4`."""
    percent = share.percent
    return f"{percent}%" if percent is not None else f"{share.count:,} of {share.of:,}"


def _short_day(day: object) -> str:
    month = getattr(day, "month", 1)
    return f"{_MONTHS[month - 1]} {getattr(day, 'day', 1)}"


def _panel(card: Image.Image, draw: ImageDraw.ImageDraw, box: Box, title: str) -> Box:
    """A panel with its title; returns the box left for its content."""
    draw.rounded_rectangle(box, radius=10, fill=PANEL)
    x0, y0, x1, y1 = box
    draw_text_clipped(card, x0 + 14, y0 + 10, x1 - 14, title, font(16), TEXT)
    return (x0 + 14, y0 + 38, x1 - 14, y1 - 12)


def _columns(
    card: Image.Image,
    draw: ImageDraw.ImageDraw,
    box: Box,
    series: Sequence[Sequence[int]],
    colours: Sequence[RGB],
    labels: Sequence[str],
) -> None:
    """Columns side by side, one slot per label; each slot stacks its series' values in front
    of each other (the first drawn behind), with the front value written above."""
    x0, y0, x1, y1 = box
    small = font(12)
    slots = max(1, len(labels))
    pitch = (x1 - x0) / slots
    width = max(2, int(pitch * 0.62))
    peak = max((v for values in series for v in values), default=0) or 1
    top, bottom = y0 + 16, y1 - 18
    for i, label in enumerate(labels):
        cx = x0 + pitch * i + pitch / 2
        left = round(cx - width / 2)
        for values, colour in zip(series, colours, strict=True):
            value = values[i] if i < len(values) else 0
            height = round((bottom - top) * value / peak)
            if value > 0:
                column = (left, bottom - max(1, height), left + width - 1, bottom)
                draw.rectangle(column, fill=colour)
        front = series[-1][i] if i < len(series[-1]) else 0
        shown = f"{front:,}" if front < 10_000 else f"{front // 1000}k"
        back = max(values[i] for values in series if i < len(values))
        label_y = bottom - round((bottom - top) * back / peak) - 15
        x = cx - text_width(small, shown) / 2
        draw.text((x, label_y), shown, font=small, fill=MUTED)
        draw.text((cx - text_width(small, label) / 2, bottom + 3), label, font=small, fill=MUTED)
    draw.line((x0, bottom, x1, bottom), fill=BORDER, width=1)


def _header(card: Image.Image, draw: ImageDraw.ImageDraw, stats: ServerStats, name: str) -> None:
    draw.rectangle((0, 0, _W, 5), fill=ACCENT)
    title = clean_text(name) or "This server"
    draw_text_clipped(card, _M, 20, _W - _M, title, font(28), TEXT)
    week = stats.weekly_active[-1].start if stats.weekly_active else stats.today
    learners = "1 learner" if stats.learners == 1 else f"{stats.learners:,} learners"
    line = f"{learners} · week of {_short_day(week)} {week.year}"
    if stats.small:
        line += f" · counts only (fewer than {PRIVATE_BELOW} learners)"
    draw_text_clipped(card, _M, 56, _W - _M, line, font(16), MUTED)


def _tracks(card: Image.Image, draw: ImageDraw.ImageDraw, box: Box, stats: ServerStats) -> None:
    x0, y0, x1, _y1 = _panel(card, draw, box, "Learners by track")
    face = font(14)
    if not stats.tracks:
        draw.text((x0, y0 + 6), "No learners yet", font=face, fill=MUTED)
    for row, track in enumerate(stats.tracks[:5]):
        y = y0 + row * 30
        count = f"{track.learners.count:,}"
        percent = track.learners.percent
        right = f"{count} · {percent}%" if percent is not None else count
        text_right(draw, x1, y, right, face, TEXT)
        name_end = int(x1 - text_width(face, right) - 10)
        draw_text_clipped(card, x0, y, name_end, track.name, face, TEXT)
        ratio = track.learners.count / track.learners.of if track.learners.of else 0.0
        bar(draw, (x0, y + 19, x1, y + 23), ratio)


def _weekly(card: Image.Image, draw: ImageDraw.ImageDraw, box: Box, stats: ServerStats) -> None:
    inner = _panel(card, draw, box, "Active learners per week (last 12 weeks)")
    weeks = stats.weekly_active
    labels = [_short_day(w.start) if i % 3 == 0 else "" for i, w in enumerate(weeks)]
    _columns(card, draw, inner, [[w.count for w in weeks]], [ACCENT], labels)


def _funnel(card: Image.Image, draw: ImageDraw.ImageDraw, box: Box, stats: ServerStats) -> None:
    inner = _panel(card, draw, box, "How far they got: started and finished, per part")
    _x0, y0, x1, _y1 = inner
    face = font(12)
    legend = [("started", STARTED), ("finished (the number)", ACCENT)]
    lx: float = x1
    for label, colour in reversed(legend):
        lx -= text_width(face, label)
        draw.text((lx, y0 - 26), label, font=face, fill=MUTED)
        lx -= 16
        draw.rounded_rectangle((lx, y0 - 24, lx + 10, y0 - 14), radius=2, fill=colour)
        lx -= 12
    started = [p.started for p in stats.funnel]
    finished = [p.finished.count for p in stats.funnel]
    labels = [str(p.number) for p in stats.funnel]
    _columns(card, draw, inner, [started, finished], [STARTED, ACCENT], labels)


def _hardest(card: Image.Image, draw: ImageDraw.ImageDraw, box: Box, stats: ServerStats) -> None:
    x0, y0, x1, _y1 = _panel(card, draw, box, "Debug This questions answered wrong most")
    face, small = font(14), font(12)
    if not stats.hardest:
        draw.text((x0, y0 + 6), "No wrong answers yet", font=face, fill=MUTED)
    for row, question in enumerate(stats.hardest):
        y = y0 + row * 36
        wrong = share_text(question.wrong) + " wrong"
        text_right(draw, x1, y, wrong, face, WARN)
        title = f"Part {question.part} · {clean_text(question.title)}"
        draw_text_clipped(card, x0, y, int(x1 - text_width(face, wrong) - 10), title, face, TEXT)
        if question.top_wrong:
            detail = f"most chose {question.top_wrong} ({question.top_wrong_count:,})"
        else:
            detail = "self-graded"
        detail += f" · {question.wrong.of:,} answers"
        draw_text_clipped(card, x0, y + 17, x1, detail, small, MUTED)


def _drill_and_reminders(
    card: Image.Image, draw: ImageDraw.ImageDraw, box: Box, stats: ServerStats
) -> None:
    x0, y0, x1, y1 = _panel(card, draw, box, "Daily drill: answers per week")
    face = font(14)
    chart = (x0, y0, x1, y1 - 58)
    if stats.drill is None:
        draw.text((x0, y0 + 6), "No daily drill in this server", font=face, fill=MUTED)
    else:
        labels = [_short_day(w.start) if i % 3 == 0 else "" for i, w in enumerate(stats.drill)]
        _columns(card, draw, chart, [[w.answers for w in stats.drill]], [ACCENT], labels)
    reminders = stats.reminders
    failed = reminders.failed
    y = y1 - 46
    draw.line((x0, y - 6, x1, y - 6), fill=BORDER, width=1)
    draw.text((x0, y), "Reminders, last 12 weeks", font=face, fill=TEXT)
    summary = f"{reminders.delivered:,} delivered · {failed.count:,} failed (DMs closed)"
    draw_text_clipped(card, x0, y + 18, x1, summary, font(13), MUTED)
    # delivered in blue, failed in orange after it
    total = failed.of
    draw.rounded_rectangle((x0, y + 38, x1, y + 42), radius=2, fill=WARN if total else BORDER)
    if reminders.delivered:
        end = x0 + max(4, round((x1 - x0) * reminders.delivered / total))
        draw.rounded_rectangle((x0, y + 38, end, y + 42), radius=2, fill=ACCENT)


def render_image(stats: ServerStats, server_name: str) -> Image.Image:
    card = Image.new("RGB", DASHBOARD_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(card)
    _header(card, draw, stats, server_name)
    half = (_W - 2 * _M - _GAP) // 2
    left = (_M, _M + half)
    right = (_M + half + _GAP, _W - _M)
    _tracks(card, draw, (left[0], 92, left[1], 272), stats)
    _weekly(card, draw, (right[0], 92, right[1], 272), stats)
    _funnel(card, draw, (_M, 286, _W - _M, 476), stats)
    _hardest(card, draw, (left[0], 490, left[1], _H - _M), stats)
    _drill_and_reminders(card, draw, (right[0], 490, right[1], _H - _M), stats)
    draw.rounded_rectangle((0, 0, _W - 1, _H - 1), radius=18, outline=BORDER, width=1)
    card.putalpha(rounded_mask(DASHBOARD_SIZE, 18))
    return card


def render_dashboard(stats: ServerStats, server_name: str) -> bytes:
    """Draw the server's dashboard as a 1000x760 RGBA PNG and return its bytes."""
    buf = io.BytesIO()
    render_image(stats, server_name).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()
