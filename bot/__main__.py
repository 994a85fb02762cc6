"""The `tutorbot` command: run | console | content | db | sync | health."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import sqlalchemy
import sqlalchemy.engine
import sqlalchemy.exc

from bot import __version__
from bot.config import Settings, SettingsError, load_settings
from bot.logs import setup_logging

NO_TOKEN = """\
No Discord token is set, so the bot cannot connect to Discord.

To get one:
  1. Open https://discord.com/developers/applications and create an application.
  2. Under "Bot", press "Reset Token" and copy the token.
  3. Put it in a file named .env next to README.md:  DISCORD_TOKEN=your-token
     (.env.example lists every setting.)
  4. Invite the bot with the "bot" and "applications.commands" scopes, then run
     `tutorbot sync` once so the slash commands appear.

Without a token you can try the tutor right here in the terminal:
  ./run.sh console      (or `tutorbot console` inside the virtual environment)
"""


def _settings() -> Settings:
    settings = load_settings()
    setup_logging(
        settings.log_level,
        secrets=[_token(settings) or ""],
        log_format=settings.log_format,
        context={"shards": list(settings.shard_ids)} if settings.shard_ids else None,
    )
    return settings


def _token(settings: Settings) -> str | None:
    return settings.discord_token.get_secret_value() if settings.discord_token else None


def cmd_run(_args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.discord_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import run_bot

    return _run_async(run_bot(settings), settings)


def cmd_console(_args: argparse.Namespace) -> int:
    from bot.console import run_console

    settings = _settings()
    return _run_async(run_console(settings, sys.stdin, sys.stdout), settings)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.app import refuse_newer_schema
    from storage.db import create_engine
    from storage.migrate import schema_status, upgrade

    settings = _settings()

    async def go() -> str:
        engine = create_engine(settings.resolved_database_url)
        try:
            refuse_newer_schema(await schema_status(engine))
            await upgrade(engine, args.revision)
            status = await schema_status(engine)
        finally:
            await engine.dispose()
        return f"Database is at revision {status.current} (head: {status.head})."

    return _run_async(go(), settings)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def cmd_db_backup(args: argparse.Namespace) -> int:
    """A consistent copy of the SQLite database, safe while the bot runs."""
    from storage.backup import BackupError, backup_sqlite, pg_dump_command
    from storage.db import sqlite_path

    settings = _settings()
    url = settings.resolved_database_url
    source = sqlite_path(url)
    if source is None:
        print(
            "tutorbot db backup copies SQLite only; this bot uses PostgreSQL. Back it up with:\n"
            f"  {pg_dump_command(url, args.path)}\n"
            "(the password goes in PGPASSWORD or ~/.pgpass, never on the command line)",
            file=sys.stderr,
        )
        return 2
    try:
        result = backup_sqlite(source, Path(args.path), force=args.force)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"Backed up {source} to {result.path.resolve()}: {_size(result.size)} "
        f"in {result.seconds:.2f} s (schema revision {result.revision})."
    )
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    """Put a backup in place of the SQLite database, once checked, keeping the old one."""
    from bot.health import fresh_heartbeat
    from storage.backup import BackupError, pg_restore_command, restore_sqlite
    from storage.db import sqlite_path
    from storage.migrate import head_revision

    settings = _settings()
    url = settings.resolved_database_url
    database = sqlite_path(url)
    if database is None:
        print(
            "tutorbot db restore restores SQLite only; this bot uses PostgreSQL. Stop the bot "
            f"and restore a pg_dump with:\n  {pg_restore_command(url, args.path)}",
            file=sys.stderr,
        )
        return 2
    beat = fresh_heartbeat(settings.health_file, settings.health_max_age)
    if beat is not None:
        print(
            f"The bot is running (process {beat.pid}, heartbeat in {settings.health_file}): "
            "stop it before restoring, then start it again.",
            file=sys.stderr,
        )
        return 1
    try:
        revision, kept = restore_sqlite(Path(args.path), database, force=args.force)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Restored {args.path} to {database} (schema revision {revision}).")
    if kept is not None:
        print(f"The database it replaced is kept as {kept}.")
    if revision != head_revision():
        print("Its schema is older than this bot's: run `tutorbot db upgrade` before starting.")
    return 0


PROGRESS_EVERY = 1.0  # seconds between the progress lines of `db copy`


class _CopyProgress:
    """Rows copied so far, on stderr, at most every PROGRESS_EVERY seconds: a long copy shows
    that it moves, a short one stays quiet. A table shown once is shown again when done."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.table = ""

    def __call__(self, table: str, copied: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY or (copied == total and table == self.table):
            print(f"  {table}: {copied:,} of {total:,} rows", file=sys.stderr, flush=True)
            self.last, self.table = now, table


def cmd_db_copy(args: argparse.Namespace) -> int:
    """Copy every row into an empty database (SQLite to PostgreSQL, or back), the bot stopped."""
    from bot.health import fresh_heartbeat
    from storage.copy import CopyError, copy_database, parse_url, same_database, shown

    settings = _settings()
    try:
        configured = parse_url(settings.resolved_database_url, "configured database")
        source = parse_url(args.source or settings.resolved_database_url, "--from URL")
        target = parse_url(args.target, "--to URL")
        beat = fresh_heartbeat(settings.health_file, settings.health_max_age)
        if beat is not None and any(same_database(url, configured) for url in (source, target)):
            print(
                f"The bot is running (process {beat.pid}, heartbeat in {settings.health_file}): "
                "stop it before copying its database, then start it on the new one.",
                file=sys.stderr,
            )
            return 1
        print(f"Copying {shown(source)} to {shown(target)}...", file=sys.stderr)
        report = asyncio.run(copy_database(source, target, progress=_CopyProgress()))
    except CopyError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    created = "; the target's schema was created first" if report.migrated else ""
    print(
        f"Copied {report.total:,} rows in {len(report.rows)} tables from {report.source} to "
        f"{report.target} in {report.seconds:.2f} s (schema revision {report.revision}{created})."
    )
    width = max(len(name) for name in report.rows)
    for name, rows in report.rows.items():
        print(f"  {name:<{width}}  {rows:>9,}")
    print("Verified: every table has as many rows in the target as in the source.")
    print("Next: set DATABASE_URL to the target, then start the bot.")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.discord_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    guild_id = None if args.global_ else (args.guild or settings.dev_guild_id)
    if guild_id is None and not args.global_:
        print("Name a guild with --guild ID (or DEV_GUILD_ID), or sync everywhere with --global.")
        return 2
    from bot.app import sync_commands

    return _run_async(sync_commands(settings, guild_id))


def cmd_health(_args: argparse.Namespace) -> int:
    """Both checks, every problem on its own line: the heartbeat, then the database."""
    from bot.health import check_database, check_heartbeat

    settings = _settings()
    found = [
        check_heartbeat(settings.health_file, settings.health_max_age),
        asyncio.run(check_database(settings.resolved_database_url)),
    ]
    problems = [problem for problem in found if problem]
    for problem in problems:
        print(f"unhealthy: {problem}")
    if problems:
        return 1
    print("healthy")
    return 0


def _run_async(coro: Coroutine[Any, Any, Any], settings: Settings | None = None) -> int:
    """Run a coroutine; print its result; turn expected failures into one clear line."""
    import discord  # here, not at the top: `tutorbot health` runs every 30 s without it

    from bot.app import StartupError

    try:
        result = asyncio.run(coro)
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (sqlalchemy.exc.DBAPIError, OSError) as exc:
        if settings is None or isinstance(exc, BrokenPipeError):
            raise
        print(database_problem(exc, settings.resolved_database_url), file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print("Discord rejected the token (DISCORD_TOKEN). Reset it and update .env.")
        return 1
    if isinstance(result, int):
        return result
    if result:
        print(result)
    return 0


def database_problem(exc: BaseException, url: str) -> str:
    """One message for a database that cannot be opened: which, why, and what to do."""
    shown = sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    lowered = reason.lower()
    if "does not exist" in lowered:
        todo = "create it (for PostgreSQL: createdb NAME), or fix the name in DATABASE_URL"
    elif "password" in lowered or "authentication" in lowered:
        todo = "check the user and password in DATABASE_URL"
    elif shown.startswith("sqlite"):
        todo = "check that the folder exists and is writable (DATA_DIR or DATABASE_URL)"
    else:
        todo = "start the database server, or check the host and port in DATABASE_URL"
    return f"Cannot open the database {shown}: {reason}\nWhat to do: {todo}."


def build_parser() -> argparse.ArgumentParser:
    from content.cli import register as register_content

    parser = argparse.ArgumentParser(prog="tutorbot", description="The Docker tutor bot.")
    parser.add_argument("--version", action="version", version=f"tutorbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> Any:
        command = sub.add_parser(name, help=help_, description=help_)
        command.set_defaults(func=func)
        return command

    add("run", cmd_run, "Connect to Discord and serve learners (needs DISCORD_TOKEN).")
    add("console", cmd_console, "Use the tutor in this terminal; no token needed.")
    db = sub.add_parser("db", help="Database schema management.")
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    up = db_sub.add_parser("upgrade", help="Apply every pending migration.")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    up.set_defaults(func=cmd_db_upgrade)
    backup = db_sub.add_parser(
        "backup", help="Copy the SQLite database consistently, even while the bot runs."
    )
    backup.add_argument("path", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup.set_defaults(func=cmd_db_backup)
    restore = db_sub.add_parser(
        "restore", help="Replace the SQLite database with a checked backup (bot stopped)."
    )
    restore.add_argument("path", help="the backup file to restore")
    restore.add_argument(
        "--force", action="store_true", help="replace an earlier <name>.before-restore"
    )
    restore.set_defaults(func=cmd_db_restore)
    copy = db_sub.add_parser(
        "copy",
        help="Copy every row into an empty database, e.g. SQLite to PostgreSQL (bot stopped).",
    )
    copy.add_argument(
        "--from", dest="source", metavar="URL", help="the database to copy (default: the bot's)"
    )
    copy.add_argument("--to", dest="target", metavar="URL", required=True, help="an empty database")
    copy.set_defaults(func=cmd_db_copy)
    sync = add("sync", cmd_sync, "Register the slash commands with Discord.")
    where = sync.add_mutually_exclusive_group()
    where.add_argument("--guild", type=int, help="guild id (default: DEV_GUILD_ID)")
    where.add_argument("--global", dest="global_", action="store_true", help="every guild")
    add(
        "health",
        cmd_health,
        "Exit 0 when the running bot is healthy and its database answers, 1 when not.",
    )
    register_content(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`tutorbot content export | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
