"""An article's markdown-it tokens, with the helpers the parser reads them through: where a
block starts and ends, the blocks of a line range, a block's text and its rendering."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from content.chunker import render

_md = (
    MarkdownIt("commonmark")
    .enable("table")
    .use(front_matter_plugin)
    .disable(["inline", "text_join"])
)


class ArticleTokens:
    """One article's lines and block-level tokens (parsed once), and the top-level blocks."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.tokens = _md.parse(text)
        self.top = [
            index
            for index, token in enumerate(self.tokens)
            if token.level == 0 and token.nesting != -1 and token.map and token.type != "inline"
        ]
        self.top_lines = [self._start(index) for index in self.top]

    def _start(self, index: int) -> int:
        token_map = self.tokens[index].map
        assert token_map is not None
        return token_map[0]

    def _end(self, index: int) -> int:
        token_map = self.tokens[index].map
        assert token_map is not None
        return token_map[1]

    def _blocks(self, start: int, end: int) -> list[int]:
        """Token indices of the top-level blocks that start in lines [start, end)."""
        return self.top[bisect_left(self.top_lines, start) : bisect_left(self.top_lines, end)]

    def _slice(self, start: int, end: int) -> list[Token]:
        """The tokens of lines [start, end)."""
        low, high = bisect_left(self.top_lines, start), bisect_left(self.top_lines, end)
        if low == len(self.top):
            return []
        return self.tokens[self.top[low] : self.top[high] if high < len(self.top) else None]

    def _text(self, index: int) -> str:
        """The raw inline text of a heading or paragraph token (the `inline` that follows it)."""
        return self.tokens[index + 1].content.strip()

    def _render(self, start: int, end: int) -> str:
        return render(self.lines, self._slice(start, end), start, end) if start < end else ""

    def _render_blocks(self, blocks: Sequence[int]) -> str:
        pieces = (self._render(self._start(b), self._end(b)) for b in blocks)
        return "\n\n".join(piece for piece in pieces if piece)

    def _headings(self, tag: str, start: int, end: int) -> list[int]:
        return [
            b
            for b in self._blocks(start, end)
            if self.tokens[b].type == "heading_open" and self.tokens[b].tag == tag
        ]

    def _list_items(self, b: int) -> list[int]:
        level = self.tokens[b].level + 1
        items = []
        for index in range(b + 1, len(self.tokens)):
            token = self.tokens[index]
            if token.level < level:
                break
            if token.type == "list_item_open" and token.level == level:
                items.append(index)
        return items

    def _children(self, index: int) -> int:
        """How many blocks the container opened at token `index` holds directly."""
        level = self.tokens[index].level + 1
        count = 0
        for position in range(index + 1, len(self.tokens)):
            token = self.tokens[position]
            if token.level < level:
                break
            count += token.level == level and token.nesting != -1
        return count
