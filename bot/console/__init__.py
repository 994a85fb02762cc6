"""The tutor in a terminal: the same services and database as the bot, no Discord token needed.

Interactive at a prompt, or scripted: commands on standard input, a transcript on standard output.
The console learner is one local user (CONSOLE_LEARNER), so progress persists between runs.
At a terminal the prompt is the standard library's readline: line editing, history (up/down),
Ctrl-C abandons the line, Ctrl-D leaves; and the course's Markdown is drawn with rich. A
transcript keeps it as written.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TextIO

from bot.app import open_app
from bot.config import Settings
from bot.console.session import ConsoleSession
from bot.console.terminal import terminal_markdown

PROMPT = "tutor> "


async def run_console(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    interactive = stdin.isatty()
    async with open_app(settings) as app:
        session = (
            ConsoleSession(app.services, markdown=terminal_markdown(stdout))
            if interactive
            else ConsoleSession(app.services)  # a transcript keeps the Markdown as written
        )
        if interactive:
            stdout.write("Docker tutor console. Type 'help' for commands, 'quit' to leave.\n")
        while True:
            line = prompt(stdout) if interactive else await asyncio.to_thread(stdin.readline)
            if not line:
                break
            if line.strip().lower() in ("quit", "exit"):
                break
            if not line.strip():
                continue
            if not interactive:
                stdout.write(f"{PROMPT}{line.strip()}\n")
            stdout.write(await session.handle(line) + "\n")
            stdout.flush()
    return 0


def prompt(stdout: TextIO) -> str:
    """One line typed at the terminal ("" at Ctrl-D). Runs in the main thread, with Python's
    own Ctrl-C handling while it waits, so Ctrl-C interrupts the line at once."""
    import readline  # noqa: F401  (imported for its side effect: input() gains line editing)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return input(PROMPT) + "\n"
    except EOFError:  # Ctrl-D: leave on a fresh line
        stdout.write("\n")
        return ""
    except KeyboardInterrupt:  # Ctrl-C: drop the line, as a shell does
        stdout.write("^C\n")
        return " \n"
    finally:
        signal.signal(signal.SIGINT, previous)
