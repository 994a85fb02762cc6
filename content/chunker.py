"""Turn a section's Markdown into Discord-sized chunks (see content/README.md, "Chunking").

The text is first rendered for Discord, which shows neither HTML comments, `<details>` tags,
indented code blocks nor tables: comments are dropped, `<summary>X</summary>` becomes `**X**`,
top-level indented code is fenced, tables become aligned monospace blocks. The result is cut into
*atoms* (a line, or a piece of an over-long line), each scored for how good a place it is to
start a new chunk. Chunks are packed greedily up to a soft `target` size, breaking at the
best-scored place that leaves the chunk at least half full, and never over the hard `limit`.

A fenced block cut between two chunks is closed at the end of the first and re-opened with the
same fence and info string at the start of the next, so no chunk holds an open fence. Sizes are
UTF-16 code units, never less than what Discord counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

EMBED_LIMIT = 4096  # an embed description
DEFAULT_TARGET = 1800  # one phone screen; also fits plain message content (2000) with a label

# How good a place an atom is to start a new chunk. NEVER is taken only when nothing else fits.
NEVER, MID_LINE, MID_BLOCK, INNER_BLOCK, LIST_ITEM, BLOCK, HEADING, END = range(8)

_OPEN, _BODY, _CLOSE = range(3)
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\u3164\ufe00-\ufe0f\ufeff"
)
_BLANK = re.compile(rf"[\s{_INVISIBLE}]*")
_LIST_MARKER = re.compile(r"[-+*]|\d{1,9}[.)]")
_CONTAINER_PREFIX = re.compile(r"(?:[ \t]*>)*[ \t]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)?")
_QUOTE_MARKER = re.compile(r"[ \t]*>")
_DETAILS_TAG = re.compile(r"</?details(?:\s[^>]*)?>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary(?:\s[^>]*)?>(.*?)</summary>", re.IGNORECASE)
_COMMENT_BLOCK = re.compile(r"\s*<!--.*?-->\s*", re.DOTALL)
_WORDS = re.compile(r"\S+\s*|\s+")
_BACKTICKS = re.compile(r"`{3,}")
_REGIONS = ("fence", "table_open", "html_block")
# a paragraph that is one bold line, optionally ending in a colon: `**2. Two names.**`
PSEUDO_HEADING = re.compile(r"(\*\*|__)(?=\S)(?:(?!\1).)+?(?<=\S)\1:?")

_block_parser = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
_inline_parser = MarkdownIt("commonmark")


def measure(text: str) -> int:
    """Length as Discord may count it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) >> 1


def is_blank(text: str) -> bool:
    """True for text with nothing visible: whitespace, zero-width characters, selectors."""
    return _BLANK.fullmatch(text) is not None


@lru_cache(maxsize=8192)
def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Cf", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns the text takes in a monospace font: CJK and emoji take two, joiners none."""
    if text.isascii():
        return len(text)
    width, joined = 0, False
    for char in text:
        width += 0 if joined else _char_width(char)
        joined = char == "\u200d"  # what follows a zero-width joiner is drawn with what precedes
    return width


def fence_for(text: str) -> str:
    """A backtick fence that no line of `text` can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=2)
    return "`" * (longest + 1)


def fence_block(code: str, info: str = "") -> str:
    """`code` as a fenced block with the given info string."""
    code = code.rstrip("\n")
    fence = fence_for(code)
    return f"{fence}{info}\n{code}\n{fence}"


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def chunk_markdown(
    text: str, *, target: int = DEFAULT_TARGET, limit: int = EMBED_LIMIT
) -> list[str]:
    """Split standalone Markdown into chunks of at most `limit`, aiming at `target`."""
    text = normalize_newlines(text)
    lines = text.split("\n")
    tokens = _block_parser.parse(text)
    return chunk_tokens(lines, tokens, 0, len(lines), target=target, limit=limit)


def chunk_tokens(
    lines: Sequence[str],
    tokens: Sequence[Token],
    start: int,
    end: int,
    *,
    target: int = DEFAULT_TARGET,
    limit: int = EMBED_LIMIT,
) -> list[str]:
    """Chunk lines[start:end] of a document already parsed into block `tokens`.

    The parser hands over the tokens of the whole article, so each file is parsed once.
    """
    target = max(1, min(target, limit))
    atoms = _split_long(_AtomBuilder(lines, tokens, start, end).build(), target, limit)
    chunks: list[str] = []
    for first, stop in _pack(atoms, target, limit):
        text = _trim(_join(atoms, first, stop))
        if not text:  # blank lines and zero-width characters show nothing: no chunk
            continue
        # Over the limit only when a fence's own lines are absurd (a 3000-character info
        # string): the limit still holds, the fence does not.
        chunks.extend(_hard_split(text, limit) if measure(text) > limit else [text])
    return chunks


def render(lines: Sequence[str], tokens: Sequence[Token], start: int, end: int) -> str:
    """lines[start:end] rendered for Discord as one piece (for fields shown whole)."""
    return "\n".join(chunk_tokens(lines, tokens, start, end, target=1 << 30, limit=1 << 30))


# --- atoms ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Fence:
    reopen: str  # starts a chunk that begins inside the block
    close: str  # ends a chunk that stops inside it
    indent: str  # the container prefix of its lines (quote markers, list indentation)
    overhead: int  # room the fence lines may take in one chunk


@dataclass(slots=True)
class _Atom:
    text: str
    score: int
    fence: _Fence | None = None
    role: int = _BODY
    joiner: str = "\n"  # what goes between the previous atom and this one


def _fence(opening: str, reopen: str, close: str, indent: str = "") -> _Fence:
    overhead = max(measure(opening), measure(reopen)) + measure(close) + 2
    return _Fence(reopen, close, indent, overhead)


def _continuation(prefix: str) -> str:
    """What continues a container prefix on the next lines: list markers become spaces."""
    return _LIST_MARKER.sub(lambda m: " " * len(m.group()), prefix)


def fence_is_closed(lines: Sequence[str], token: Token, stop: int | None = None) -> bool:
    """Whether a fence token ends with a closing fence line (else the block or file ended it)."""
    assert token.map is not None
    first = token.map[0]
    stop = token.map[1] if stop is None else stop
    prefix = lines[first][: lines[first].find(token.markup)]
    return stop - first >= 2 and _closes(lines[stop - 1], token.markup, prefix.count(">"))


def _closes(line: str, markup: str, quotes: int) -> bool:
    """Whether `line` closes a fence opened with `markup` inside `quotes` block quotes."""
    for _ in range(quotes):
        found = _QUOTE_MARKER.match(line)
        if found:
            line = line[found.end() :]
    line = line.strip()
    return len(line) >= len(markup) and line == markup[0] * len(line)


def _dedent(line: str) -> str:
    """An indented code line without its four columns of indentation."""
    if line.startswith("\t"):
        return line[1:]
    return line[min(4, len(line) - len(line.lstrip(" "))) :]


class _AtomBuilder:
    """Renders one range of a parsed document for Discord, as atoms."""

    def __init__(self, lines: Sequence[str], tokens: Sequence[Token], start: int, end: int):
        self.lines, self.start, self.end = lines, start, end
        self.scores: dict[int, int] = {}
        self.regions: dict[int, tuple[Token, list[Token]]] = {}  # first line -> block, its inside
        self.heading_ends: set[int] = set()
        self.atoms: list[_Atom] = []
        self.glue = False  # the next visible atom follows a heading and must stay with it
        self.lead_in = False  # the last visible line ends with a colon
        self._index(tokens)

    def _index(self, tokens: Sequence[Token]) -> None:
        table: list[Token] | None = None
        for token in tokens:
            if table is not None:
                if token.type == "table_close":
                    table = None
                else:
                    table.append(token)
                continue
            if token.map is None or token.nesting == -1 or token.type == "inline":
                continue
            first, stop = token.map
            if not self.start <= first < self.end:
                continue
            if token.level == 0:
                score = HEADING if token.type == "heading_open" else BLOCK
            elif token.type == "list_item_open" and token.level == 1:
                score = LIST_ITEM
            else:
                score = INNER_BLOCK
            if token.type == "paragraph_open" and token.level == 0 and self._pseudo(first, stop):
                score = HEADING  # `**2. One layer, several names.**` reads as a heading
                self.heading_ends.add(first)
            self.scores[first] = max(self.scores.get(first, NEVER), score)
            if token.type == "heading_open":
                self.heading_ends.add(min(stop, self.end) - 1)
                for line in range(first + 1, stop):  # a setext heading's underline
                    self.scores[line] = NEVER
            elif token.type in _REGIONS or (token.type == "code_block" and token.level == 0):
                inside: list[Token] = []
                self.regions[first] = (token, inside)
                if token.type == "table_open":
                    table = inside

    def _pseudo(self, first: int, stop: int) -> bool:
        """A one-line paragraph that is all bold: a heading in all but name."""
        return stop - first == 1 and bool(PSEUDO_HEADING.fullmatch(self.lines[first].strip()))

    def build(self) -> list[_Atom]:
        line = self.start
        while line < self.end:
            region = self.regions.get(line)
            if region is None:
                self._add(self.lines[line], self.scores.get(line, MID_BLOCK))
                if line in self.heading_ends:
                    self.glue = True
                line += 1
                continue
            token, inside = region
            assert token.map is not None
            stop = min(token.map[1], self.end)
            score = self.scores[line]
            if token.type == "fence":
                self._fence(token, line, stop, score)
            elif token.type == "table_open":
                self._table(inside, line, score)
            elif token.type == "code_block":
                self._code_block(line, stop, score)
            else:
                self._html(line, stop, score)
            line = stop
        return self.atoms

    def _add(self, text: str, score: int, fence: _Fence | None = None, role: int = _BODY) -> None:
        if fence is None and is_blank(text):
            score = NEVER
        else:
            if self.glue:
                score, self.glue = NEVER, False
            elif self.lead_in:  # "Run this:" wants what it introduces on the same screen
                score = min(score, MID_LINE)
            self.lead_in = fence is None and text.rstrip().endswith(":")
        self.atoms.append(_Atom(text, score, fence, role))

    def _fenced(self, opening: str, body: Sequence[str], fence: _Fence, score: int) -> None:
        self._add(opening, score, fence, _OPEN)
        after_blank = False
        for index, text in enumerate(body):
            if index == 0:
                self._add(text, NEVER, fence)
            else:
                self._add(text, INNER_BLOCK if after_blank else MID_BLOCK, fence)
            after_blank = not text.strip()
        self._add(fence.close, NEVER, fence, _CLOSE)

    def _fence(self, token: Token, first: int, stop: int, score: int) -> None:
        opening = self.lines[first]
        cont = _continuation(opening[: opening.find(token.markup)])
        closed = fence_is_closed(self.lines, token, stop)
        body = list(self.lines[first + 1 : stop - 1 if closed else stop])
        while not closed and body and is_blank(body[-1]):
            body.pop()
        close = self.lines[stop - 1] if closed else f"{cont}{token.markup}"
        fence = _fence(opening, f"{cont}{token.markup}{token.info}", close, cont)
        self._fenced(opening, body, fence, score)

    def _code_block(self, first: int, stop: int, score: int) -> None:
        body = [_dedent(text) for text in self.lines[first:stop]]
        while body and is_blank(body[-1]):
            body.pop()
        marker = fence_for("\n".join(body))
        self._fenced(marker, body, _fence(marker, marker, marker), score)

    def _table(self, inside: list[Token], first: int, score: int) -> None:
        opening = self.lines[first]
        found = _CONTAINER_PREFIX.match(opening)
        prefix = found.group() if found else ""
        cont = _continuation(prefix)
        header, body = _table_rows(inside)
        rows = [f"{cont}{row}" for row in (*header, *body)]
        marker = fence_for("\n".join(rows))
        reopen = "\n".join([f"{cont}{marker}", *rows[: len(header)]])
        if measure(reopen) > 256:  # a huge header is not worth repeating in every chunk
            reopen = f"{cont}{marker}"
        fence = _fence(f"{prefix}{marker}", reopen, f"{cont}{marker}", cont)
        self._add(f"{prefix}{marker}", score, fence, _OPEN)
        for index, row in enumerate(rows):  # the header stays with the first row
            self._add(row, NEVER if index <= len(header) else MID_BLOCK, fence)
        self._add(fence.close, NEVER, fence, _CLOSE)

    def _html(self, first: int, stop: int, score: int) -> None:
        if _COMMENT_BLOCK.fullmatch("\n".join(self.lines[first:stop])):
            return  # comments (such as ids) are for authors and the parser
        for line in range(first, stop):
            original = self.lines[line]
            text = _DETAILS_TAG.sub("", _SUMMARY.sub(_bold_summary, original))
            if text.strip() or not original.strip():
                self._add(text, score)
                score = MID_BLOCK
            if _SUMMARY.search(original):
                self.glue = True  # the summary's bold line heads what the details hold


def _bold_summary(found: re.Match[str]) -> str:
    return f"**{found.group(1).strip()}**"


# --- tables -----------------------------------------------------------------------------------


def _cell_text(markdown: str) -> str:
    """A table cell as plain text: code spans and emphasis unwrapped, links as `text (url)`."""
    out: list[str] = []
    links: list[tuple[int, str]] = []  # where each open link's text starts, and its target
    for token in _inline_parser.parseInline(markdown)[0].children or ():
        if token.type in ("text", "code_inline", "html_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "image":
            out.append(f"{token.content} ({token.attrGet('src')})")
        elif token.type == "link_open":
            links.append((len(out), str(token.attrGet("href") or "")))
        elif token.type == "link_close" and links:
            at, href = links.pop()
            label = "".join(out[at:])
            if href not in (label, f"mailto:{label}"):
                out[at:] = [f"{label} ({href})"]
    return "".join(out).strip()


def _table_rows(inside: Sequence[Token]) -> tuple[list[str], list[str]]:
    """A table as aligned monospace lines: the header and its rule (none when the header is
    empty), then the rows."""
    rows: list[list[str]] = []
    aligns: list[str] = []
    for token in inside:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "th_open":
            style = str(token.attrGet("style") or "")
            aligns.append(style.removeprefix("text-align:") or "left")
        elif token.type == "inline":
            rows[-1].append(_cell_text(token.content))
    headed = any(rows[0])
    if not headed:
        del rows[0]
    if not rows:
        return [], []
    columns = max(len(row) for row in rows)
    aligns += ["left"] * (columns - len(aligns))
    for row in rows:
        row += [""] * (columns - len(row))
    widths = [max(display_width(row[c]) for row in rows) for c in range(columns)]
    lines = [_table_line(row, widths, aligns) for row in rows]
    if not headed:
        return [], lines
    return [lines[0], "-+-".join("-" * width for width in widths)], lines[1:]


def _table_line(row: Sequence[str], widths: Sequence[int], aligns: Sequence[str]) -> str:
    cells = []
    for text, width, align in zip(row, widths, aligns, strict=True):
        room = width - display_width(text)
        left = room if align == "right" else room // 2 if align == "center" else 0
        cells.append(" " * left + text + " " * (room - left))
    return " | ".join(cells).rstrip()


# --- long lines -------------------------------------------------------------------------------


def _split_long(atoms: list[_Atom], target: int, limit: int) -> list[_Atom]:
    """Cut lines that cannot fit: prose after spaces (to `target`), code where it must.

    A code line is cut only when longer than the limit allows, into lines of its own that keep
    the container prefix. Cuts leave room (an eighth of the limit) for a heading to stay with
    what follows it.
    """
    room = limit - limit // 8
    out: list[_Atom] = []
    for atom in atoms:
        size = measure(atom.text)
        fence = atom.fence
        cap = max(16, room - fence.overhead) if fence else room
        if atom.role != _BODY or size <= target or (fence and size <= cap):
            out.append(atom)
        elif fence:
            pieces = _hard_split(atom.text, max(1, min(target, cap) - measure(fence.indent)))
            out.append(_Atom(pieces[0], atom.score, fence, _BODY, atom.joiner))
            out.extend(_Atom(fence.indent + piece, MID_LINE, fence) for piece in pieces[1:])
        else:
            pieces = _wrap(atom.text, target, cap)
            out.append(_Atom(pieces[0], atom.score, None, _BODY, atom.joiner))
            out.extend(_Atom(piece, MID_LINE, None, _BODY, "") for piece in pieces[1:])
    return out


def _wrap(text: str, width: int, cap: int) -> list[str]:
    """Prose cut after spaces into pieces of at most `width`; a longer word stays whole up to
    `cap`, beyond which it is cut hard. The pieces put together are `text` again."""
    pieces: list[str] = []
    current = ""
    for word in _WORDS.findall(text):
        if current and measure(current) + measure(word) > width:
            pieces.append(current)
            current = ""
        if measure(word) > cap:
            pieces.extend(_hard_split(word, min(width, cap)))
        else:
            current += word
    if current:
        pieces.append(current)
    return pieces


def _hard_split(text: str, size: int) -> list[str]:
    """Cut `text` into pieces of at most `size` UTF-16 units, not inside a character cluster."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        stop, used = start, 0
        while stop < len(text):
            width = 2 if ord(text[stop]) > 0xFFFF else 1
            if used + width > size:
                break
            used += width
            stop += 1
        if stop < len(text):
            cut = stop
            while cut - start > 1 and _joins(text[cut - 1], text[cut]):
                cut -= 1
            stop = cut if cut - start > size // 2 else stop
        stop = max(stop, start + 1)
        pieces.append(text[start:stop])
        start = stop
    return pieces


def _joins(before: str, after: str) -> bool:
    """Whether a cut between these two characters would break a visible character apart."""
    return before == "\u200d" or after == "\u200d" or _char_width(after) == 0


# --- packing ----------------------------------------------------------------------------------


def _pack(atoms: Sequence[_Atom], target: int, limit: int) -> Iterator[tuple[int, int]]:
    """Choose where chunks start: yields (first, stop) atom ranges, covering every atom."""
    total = len(atoms)
    sums = [0]
    for atom in atoms:
        sums.append(sums[-1] + len(atom.joiner) + measure(atom.text))

    def size(first: int, stop: int) -> int:
        head, tail = atoms[first], atoms[stop - 1]
        size = sums[stop] - sums[first] - len(head.joiner)
        if head.fence and head.role != _OPEN:
            size += measure(head.fence.reopen) + 1
        if tail.fence and tail.role != _CLOSE:
            size += measure(tail.fence.close) + 1
        return size

    first = 0
    while first < total:
        best: tuple[bool, int, int] | None = None  # (half full, score, stop) within the target
        earliest = latest = 0  # a breakable stop within the limit; any stop within the limit
        stop = first + 1
        while stop <= total and sums[stop] - sums[first] - len(atoms[first].joiner) <= limit:
            chunk = size(first, stop)
            score = atoms[stop].score if stop < total else END
            if chunk <= limit:
                latest = stop
                if score != NEVER:
                    if chunk <= target:
                        key = (2 * chunk >= target, score, stop)
                        best = key if best is None or key > best else best
                    elif not earliest:
                        earliest = stop
            if chunk > target and (best or earliest):
                break
            stop += 1
        chosen = best[2] if best else earliest or latest or first + 1
        yield first, chosen
        first = chosen


def _join(atoms: Sequence[_Atom], first: int, stop: int) -> str:
    head, tail = atoms[first], atoms[stop - 1]
    parts = [head.fence.reopen + "\n"] if head.fence and head.role != _OPEN else []
    parts.append(head.text)
    parts.extend(atom.joiner + atom.text for atom in atoms[first + 1 : stop])
    if tail.fence and tail.role != _CLOSE:
        parts.append("\n" + tail.fence.close)
    return "".join(parts)


def _trim(text: str) -> str:
    """Without blank lines at either end and trailing spaces; "" when nothing is visible."""
    lines = text.split("\n")
    visible = [index for index, line in enumerate(lines) if not is_blank(line)]
    return "\n".join(lines[visible[0] : visible[-1] + 1]).rstrip() if visible else ""
