"""The tutor in a terminal: the same services and database as the bot, no Discord token needed.

Interactive at a prompt, or scripted: commands on standard input, a transcript on standard output.
The console learner is one local user (CONSOLE_LEARNER), so progress persists between runs.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.app import open_app
from bot.config import Settings
from bot.console.session import ConsoleSession

PROMPT = "tutor> "


async def run_console(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    interactive = stdin.isatty()
    async with open_app(settings) as app:
        session = ConsoleSession(app.services)
        if interactive:
            stdout.write("Docker tutor console. Type 'help' for commands, 'quit' to leave.\n")
        while True:
            if interactive:
                stdout.write(PROMPT)
                stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
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
