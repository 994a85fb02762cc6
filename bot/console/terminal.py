"""Course Markdown drawn for a terminal with rich: headings, bold, lists and code blocks (the
bot's monospace tables are code blocks too), wrapped to the terminal's width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from rich.console import Console
from rich.markdown import Markdown

# The terminal's own palette and background, so code reads on light and dark terminals alike.
CODE_THEME = "ansi_dark"


class DiscordMarkdown(Markdown):
    """Markdown read as Discord reads it: a line break inside a paragraph stays a line break
    (a question's choices are one line each), where CommonMark would join the lines."""

    def __init__(self, markup: str, **options: Any) -> None:
        super().__init__(markup, **options)
        for block in self.parsed:
            for token in block.children or ():
                if token.type == "softbreak":
                    token.type = "hardbreak"


def terminal_markdown(stdout: TextIO) -> Callable[[str], str]:
    """A renderer of Markdown into text for `stdout`, with its width and colours."""
    console = Console(file=stdout, highlight=False, emoji=False)

    def render(markdown: str) -> str:
        with console.capture() as captured:
            # hyperlinks=False: a link shows its address, which a terminal may not make clickable
            console.print(DiscordMarkdown(markdown, code_theme=CODE_THEME, hyperlinks=False))
        # rich pads lines to the width: without it, a narrower window does not wrap them again
        return "\n".join(line.rstrip() for line in captured.get().splitlines())

    return render
