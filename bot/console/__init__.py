"""The tutor in a terminal: the same services and database as the bot, no Discord token needed.

Interactive at a prompt, or scripted: commands on standard input, a transcript on standard output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot import __version__
from bot.app import App, open_app
from bot.config import Settings

PROMPT = "tutor> "
Handler = Callable[[App, list[str]], Awaitable[str]]


async def _about(app: App, _args: list[str]) -> str:
    course = app.services.courses.course
    return (
        f"{course.title}: {len(course.parts)} parts, {len(course.tracks)} tracks. "
        f"tutorbot {__version__}"
    )


async def _parts(app: App, _args: list[str]) -> str:
    course = app.services.courses.course
    return "\n".join(
        f"{info.number:>2}  {info.title}  ({info.block}, {info.minutes} min)"
        for info in (part.info for part in course.parts.values())
    )


COMMANDS: dict[str, tuple[Handler, str]] = {
    "about": (_about, "what this tutor teaches"),
    "parts": (_parts, "list the course's parts"),
}


def _help() -> str:
    lines = [f"  {name:<8} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["  help     this list", "  quit     leave (or Ctrl-D)"]
    return "Commands:\n" + "\n".join(lines)


async def run_console(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    interactive = stdin.isatty()
    async with open_app(settings) as app:
        if interactive:
            stdout.write("Docker tutor console. Type 'help' for commands.\n")
        while True:
            if interactive:
                stdout.write(PROMPT)
                stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            words = line.split()
            if not words:
                continue
            name, args = words[0].lower(), words[1:]
            if name in ("quit", "exit"):
                break
            if name == "help":
                reply = _help()
            elif name in COMMANDS:
                reply = await COMMANDS[name][0](app, args)
            else:
                reply = f"Unknown command {name!r}. Type 'help' for the list."
            stdout.write(reply + "\n")
            stdout.flush()
    return 0
