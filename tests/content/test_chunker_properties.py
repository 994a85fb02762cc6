"""The chunking rules, proved over generated Markdown (content/README.md, "Chunking").

The documents mix paragraphs with emoji, CJK and zero-width characters, lines and single words
longer than the limit, headings, fences of three to six backticks or tildes (closed or not, with
shorter fences and other fence characters inside), fences inside lists and block quotes, tables
and indented code. Small limits make the short examples split as often as big ones would.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from itertools import cycle, islice

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from content.chunker import chunk_markdown, measure

SIZES = [(150, 400), (600, 1500), (1800, 4096)]  # (target, limit); the last is the real one
PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
md = MarkdownIt("commonmark").enable("table")

ascii_word = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=9
)
cjk_word = st.text(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=5
)
emoji = st.sampled_from(
    ["🎯", "🐳", "⭐", "⭐\ufe0f", "👩\u200d💻", "👨\u200d👩\u200d👧", "🇩🇪", "✅"]
)
zero_width = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
word = st.one_of(
    ascii_word,
    ascii_word,
    cjk_word,
    emoji,
    st.builds(lambda a, z, b: a + z + b, ascii_word, zero_width, ascii_word),
    ascii_word.map(lambda w: f"`{w}`"),
    ascii_word.map(lambda w: f"**{w}**"),
)
text_line = st.lists(word, min_size=1, max_size=10).map(" ".join)


def long_line(limit: int) -> st.SearchStrategy[str]:
    """A line of words from half the limit to three times it (over 2000 at the real limit)."""
    return st.builds(
        lambda words, size: "".join(islice(cycle(" ".join(words) + " "), size)).strip(),
        st.lists(word, min_size=1, max_size=4),
        st.integers(limit // 2, 3 * limit),
    )


def long_word(limit: int) -> st.SearchStrategy[str]:
    """A single word longer than the limit, of one kind of character."""
    return st.builds(
        lambda char, size: char * size,
        st.sampled_from(["a", "日", "🎯", "x\u200b"]),
        st.integers(limit + 1, 2 * limit),
    )


def fence(limit: int, indent: str, closable: bool) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        char = draw(st.sampled_from("`~"))
        size = draw(st.integers(3, 6))
        info = draw(st.sampled_from(["", "py", "dockerfile", "console"]))
        other = "~" if char == "`" else "`"
        body = draw(
            st.lists(
                st.one_of(
                    text_line,
                    text_line,
                    st.just(char * (size - 1)),  # too short to close the fence
                    st.integers(3, 8).map(lambda n: other * n),  # the other fence character
                    st.just("# not a heading"),
                    st.just(""),
                    long_line(limit),
                ),
                max_size=12,
            )
        )
        lines = [f"{char * size}{info}", *body]
        if not closable or draw(st.booleans()):
            lines.append(char * size)
        return "\n".join(indent + line if line else line for line in lines)

    return build()


def list_block(limit: int) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        ordered = draw(st.booleans())
        items = []
        for number in range(1, draw(st.integers(1, 4)) + 1):
            marker = f"{number}. " if ordered else "- "
            item = marker + draw(text_line)
            if draw(st.booleans()):
                item += "\n" + draw(fence(limit, " " * len(marker), closable=True))
            items.append(item)
        return "\n".join(items)

    return build()


def quote(limit: int) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        parts = [draw(text_line)]
        if draw(st.booleans()):
            parts.append(draw(fence(limit, "", closable=True)))
        return "\n".join(f"> {line}" if line else ">" for line in "\n".join(parts).split("\n"))

    return build()


@st.composite
def table(draw: st.DrawFn) -> str:
    columns = draw(st.integers(1, 4))
    cell = st.lists(word, max_size=3).map(" ".join)
    rule = draw(
        st.lists(
            st.sampled_from(["---", ":---", ":---:", "---:"]), min_size=columns, max_size=columns
        )
    )
    rows = [
        draw(st.lists(cell, min_size=columns, max_size=columns))
        for _ in range(draw(st.integers(0, 6)))
    ]
    header = draw(st.lists(cell, min_size=columns, max_size=columns))
    return "\n".join("| " + " | ".join(row) + " |" for row in [header, rule, *rows])


heading = st.builds(
    lambda level, words: "#" * level + " " + " ".join(words),
    st.integers(1, 6),
    st.lists(ascii_word.map(lambda w: w[:6]), min_size=1, max_size=4),
)
indented_code = st.lists(text_line, min_size=1, max_size=5).map(
    lambda ls: "\n".join("    " + line for line in ls)
)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, int, int]:
    """(markdown, target, limit). Headings are never consecutive: each is followed by a block."""
    target, limit = draw(st.sampled_from(SIZES))
    blocks: list[str] = []
    kinds = {
        "paragraph": st.lists(text_line, min_size=1, max_size=4).map("\n".join),
        "long line": long_line(limit),
        "long word": st.builds(
            lambda a, w, b: f"{a} {w} {b}", ascii_word, long_word(limit), ascii_word
        ),
        "heading": heading,
        "fence": fence(limit, "", closable=True),
        "list": list_block(limit),
        "quote": quote(limit),
        "table": table(),
        "indented code": indented_code,
    }
    previous = ""
    for _ in range(draw(st.integers(1, 10))):
        name = draw(st.sampled_from([k for k in kinds if not (k == previous == "heading")]))
        blocks.append(draw(kinds[name]))
        previous = name
    if draw(st.booleans()):
        blocks.append(draw(fence(limit, "", closable=False)))  # may run to the end unclosed
    return "\n\n".join(blocks), target, limit


def visible(text: str) -> bool:
    return any(
        not char.isspace() and unicodedata.category(char) not in ("Cf", "Mn", "Me", "Cc")
        for char in text
    )


def blocks(text: str) -> list:
    return [t for t in md.parse(text) if t.level == 0 and t.nesting != -1 and t.type != "inline"]


def inside(line: str) -> str:
    """A line without its container prefix (quote markers, indentation)."""
    return re.sub(r"^[\s>]*", "", line).strip()


@PROPERTY
@given(documents())
def test_every_chunk_is_within_the_limit_and_shows_something(doc: tuple[str, int, int]) -> None:
    text, target, limit = doc
    chunks = chunk_markdown(text, target=target, limit=limit)
    assert chunks
    for chunk in chunks:
        assert 0 < measure(chunk) <= limit
        assert visible(chunk)


@PROPERTY
@given(documents())
def test_no_chunk_leaves_a_fence_open_and_fences_keep_their_markup(
    doc: tuple[str, int, int],
) -> None:
    text, target, limit = doc
    source = {(t.markup, t.info) for t in md.parse(text) if t.type == "fence"}
    for chunk in chunk_markdown(text, target=target, limit=limit):
        lines = chunk.split("\n")
        for token in md.parse(chunk):
            if token.type != "fence":
                continue
            first, stop = token.map
            closing = inside(lines[stop - 1])
            assert stop - first >= 2, chunk
            assert closing == token.markup[0] * len(closing) and len(closing) >= len(
                token.markup
            ), chunk
            # re-fenced pieces keep the fence; tables and indented code get a backtick fence
            assert (token.markup, token.info) in source or (token.markup[0], token.info) == (
                "`",
                "",
            )


@PROPERTY
@given(documents())
def test_nothing_is_lost(doc: tuple[str, int, int]) -> None:
    """Every letter and digit, in order, and every emoji is still there."""
    text, target, limit = doc
    joined = "\n".join(chunk_markdown(text, target=target, limit=limit))
    letters = iter("".join(re.findall(r"[^\W_]+", joined)))
    assert all(char in letters for char in "".join(re.findall(r"[^\W_]+", text)))
    symbols = Counter(c for c in text if unicodedata.category(c) == "So")
    assert symbols <= Counter(c for c in joined if unicodedata.category(c) == "So")


@PROPERTY
@given(documents())
def test_every_code_line_survives_whole(doc: tuple[str, int, int]) -> None:
    text, target, limit = doc
    code = Counter(
        inside(line)
        for token in md.parse(text)
        if token.type in ("fence", "code_block")
        for line in token.content.split("\n")
        if inside(line) and measure(line) <= limit // 2
    )
    joined = "\n".join(chunk_markdown(text, target=target, limit=limit))
    assert code <= Counter(inside(line) for line in joined.split("\n"))


@PROPERTY
@given(documents())
def test_a_heading_stays_with_what_follows_it(doc: tuple[str, int, int]) -> None:
    text, target, limit = doc
    chunks = chunk_markdown(text, target=target, limit=limit)
    for chunk in chunks[:-1]:
        assert blocks(chunk)[-1].type != "heading_open", chunk
