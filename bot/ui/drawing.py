"""What the bot's pictures share: the palette, fonts, safe one-line text, bars, round corners.

Pure Pillow, CPU bound, safe in worker threads (fonts are cached per thread). The progress
card (bot.ui.progress_card) and the server dashboard (bot.ui.dashboard) draw with these.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

# Palette: a dark card that stands out on both Discord themes.
BACKGROUND: RGB = (22, 27, 34)
BORDER: RGB = (48, 54, 61)
PANEL: RGB = (30, 36, 45)
TEXT: RGB = (230, 237, 243)
MUTED: RGB = (139, 148, 158)
ACCENT: RGB = (29, 99, 237)  # Docker blue #1D63ED

_MAX_TEXT_CHARS = 400  # nothing longer can fit on a card anyway
_ELLIPSIS = "…"

_fonts = threading.local()


def font(size: int) -> Font:
    """Pillow's bundled font at ``size``, cached per thread (FreeType faces aren't thread-safe)."""
    cache: dict[int, Font] | None = getattr(_fonts, "cache", None)
    if cache is None:
        cache = _fonts.cache = {}
    found = cache.get(size)
    if found is None:
        try:
            found = ImageFont.load_default(size=size)
        except (ImportError, OSError):  # Pillow built without FreeType
            found = ImageFont.load_default()
        cache[size] = found
    return found


def clean_text(text: object) -> str:
    """Make user text safe to draw on one line, otherwise keeping it literal.

    Control characters and line breaks become spaces, invisible format characters
    (zero-width spaces, bidi overrides, BOMs) are dropped, lone surrogates become
    U+FFFD, and runs of whitespace collapse. Markdown and mentions stay as typed.
    """
    out: list[str] = []
    for ch in str(text)[: _MAX_TEXT_CHARS * 4]:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif cat == "Cf":
            continue
        elif cat == "Cs":
            out.append("\ufffd")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def text_width(face: Font, text: str) -> float:
    return face.getlength(text) if text else 0.0


def line_height(face: Font) -> int:
    """Ascent + descent: the height of one line drawn with the default anchor."""
    if isinstance(face, ImageFont.FreeTypeFont):
        ascent, descent = face.getmetrics()
        return ascent + descent
    return int(face.getbbox("Ag")[3]) + 1


def fit_text(text: str, face: Font, max_width: float) -> str:
    """Return ``text`` (already cleaned), cut with an ellipsis so it is at most ``max_width``."""
    capped = text[:_MAX_TEXT_CHARS]
    if len(capped) == len(text) and text_width(face, capped) <= max_width:
        return text
    lo, hi = 0, len(capped)  # invariant: capped[:lo] + ellipsis fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(face, capped[:mid].rstrip() + _ELLIPSIS) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    head = capped[:lo].rstrip()
    return head + _ELLIPSIS if text_width(face, _ELLIPSIS) <= max_width else head


def draw_text_clipped(
    card: Image.Image,
    x0: int,
    y: int,
    x1: int,
    text: str,
    face: Font,
    fill: RGB,
    *,
    y1: int | None = None,
) -> None:
    """Draw text at (x0, y), truncated to end by ``x1`` and clipped to its line box.

    The box runs from ``y`` to ``y1`` (default: one line height). Clipping makes sure
    nothing (stacked marks, odd glyphs) spills outside it, whatever the text.
    """
    text = fit_text(text, face, x1 - x0)
    if not text or x1 <= x0:
        return
    box = (x0, y, x1, y + line_height(face) if y1 is None else y1)
    mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
    ImageDraw.Draw(mask).text((0, 0), text, font=face, fill=255)
    card.paste(fill, box, mask)


def text_right(
    draw: ImageDraw.ImageDraw, right: float, y: float, text: str, face: Font, fill: RGB
) -> None:
    draw.text((right - text_width(face, text), y), text, font=face, fill=fill)


def finite(value: float, default: float = 0.0) -> float:
    """``value`` as a finite float, else ``default`` (NaN, infinities, junk)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


def as_int(value: float, default: int = 0) -> int:
    return int(finite(value, default))


def bar(draw: ImageDraw.ImageDraw, box: Box, ratio: float, colour: RGB = ACCENT) -> None:
    """A rounded progress bar; any progress above zero shows at least a dot."""
    x0, y0, x1, y1 = box
    radius = (y1 - y0) // 2
    draw.rounded_rectangle(box, radius=radius, fill=BORDER)
    ratio = max(0.0, min(1.0, ratio))
    if ratio > 0:
        end = max(x0 + (y1 - y0), round(x0 + ratio * (x1 - x0)))
        draw.rounded_rectangle((x0, y0, end, y1), radius=radius, fill=colour)


@lru_cache(maxsize=4)
def rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    """Anti-aliased rounded-corner alpha mask of ``size`` (4x supersampled, cached)."""
    scale = 4
    width, height = size
    big = Image.new("L", (width * scale, height * scale), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, width * scale - 1, height * scale - 1), radius=radius * scale, fill=255
    )
    return big.resize(size, Image.Resampling.BOX)
