"""The composition root: settings -> engine and sessions -> course -> services -> the Bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bot import TutorBot
from bot.config import DISCORD_REQUESTS_PER_SECOND, Settings
from bot.metrics import Metrics, MetricsServer
from bot.services import Services
from bot.services.groups import GroupLimits
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker, sqlite_path
from storage.dispatch_lock import DispatchLocked, hold_dispatch_lock
from storage.migrate import SchemaStatus, is_known_revision, schema_status, upgrade

log = logging.getLogger(__name__)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StartupError(Exception):
    """Start-up cannot go on; the message tells the operator what to do. No traceback."""


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    services: Services


@contextlib.asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    """Build everything but Discord; the database is checked and closed on the way out."""
    try:
        courses = CourseStore(settings.content_dir)
    except Exception as exc:  # the store reports content problems with file and line
        raise StartupError(f"The course in {settings.content_dir} does not load:\n{exc}") from None
    engine = create_engine(settings.resolved_database_url)
    try:
        await ensure_schema(engine)
        limits = GroupLimits(
            settings.max_groups_per_server, settings.max_group_members, settings.group_quiz_seconds
        )
        services = Services(
            sessions=create_sessionmaker(engine), courses=courses, group_limits=limits
        )
        yield App(settings, engine, services)
    finally:
        await engine.dispose()


async def ensure_schema(engine: AsyncEngine) -> None:
    """Create the schema in a brand-new database; refuse one that is behind or ahead."""
    status = await schema_status(engine)
    refuse_newer_schema(status)
    if status.current is None:
        log.info("new database: creating the schema (revision %s)", status.head)
        await upgrade(engine)
    elif not status.up_to_date:
        raise StartupError(
            f"The database schema is at revision {status.current}, but this version of the bot "
            f"needs {status.head}.\nBack up the database, then run:  tutorbot db upgrade"
        )


def refuse_newer_schema(status: SchemaStatus) -> None:
    """A schema revision this bot has no migration for came from a newer bot: neither starting
    nor `tutorbot db upgrade` can use it (Alembic cannot even locate it)."""
    if status.current is not None and not is_known_revision(status.current):
        raise StartupError(
            f"The database was upgraded by a newer version of the bot (schema revision "
            f"{status.current}, unknown here): run that version, or restore a backup made "
            "before the upgrade."
        )


def build_bot(app: App, *, heartbeat: bool = True, dispatch: bool = True) -> TutorBot:
    settings = app.settings
    return TutorBot(
        app.services,
        health_file=settings.health_file if heartbeat else None,
        outbox_send_rate=settings.outbox_send_rate,
        shard_count=settings.shard_count,
        shard_ids=settings.shard_ids,
        dispatch=dispatch,
        metrics=Metrics(database=app.engine.dialect.name),
    )


@contextlib.asynccontextmanager
async def serve_metrics(bot: TutorBot, settings: Settings) -> AsyncIterator[MetricsServer | None]:
    """`GET /metrics` on METRICS_HOST:METRICS_PORT while the bot runs; nothing when no port."""
    if settings.metrics_port is None:
        yield None
        return
    host, port = settings.metrics_host, settings.metrics_port
    server = MetricsServer(bot.metrics)
    try:
        await server.start(host, port)
    except OSError as exc:
        raise StartupError(
            f"Cannot serve metrics on {host}:{port} (METRICS_HOST, METRICS_PORT): "
            f"{exc.strerror or exc}. Choose a free port, or leave METRICS_PORT empty for no "
            "metrics."
        ) from None
    log.info("metrics at http://%s:%d/metrics", host, server.port)
    try:
        yield server
    finally:
        await server.stop()


def may_dispatch(settings: Settings, stack: contextlib.ExitStack) -> bool:
    """Whether this process dispatches the outbox: always on PostgreSQL (workers share it); on
    SQLite only the process that holds the database's dispatch lock, kept until `stack` ends."""
    database = sqlite_path(settings.resolved_database_url)
    if database is None:
        return True
    try:
        stack.enter_context(hold_dispatch_lock(database))
    except DispatchLocked as refused:
        log.error("%s", refused)
        return False
    return True


def warn_about_send_rate(settings: Settings) -> None:
    if settings.outbox_send_rate * settings.workers > DISCORD_REQUESTS_PER_SECOND:
        log.warning(
            "%d workers sending up to OUTBOX_SEND_RATE=%g messages a second each exceed "
            "Discord's %d requests a second for the whole bot: lower OUTBOX_SEND_RATE",
            settings.workers,
            settings.outbox_send_rate,
            DISCORD_REQUESTS_PER_SECOND,
        )


async def run_bot(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight work and close everything cleanly."""
    assert settings.discord_token is not None
    warn_about_send_rate(settings)
    async with open_app(settings) as app:
        scheduled = await app.services.reminders.ensure_all()
        if scheduled:
            log.info("planned the next digest of %d learner(s)", scheduled)
        with contextlib.ExitStack() as stack:
            bot = build_bot(app, dispatch=may_dispatch(settings, stack))
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, stop.set)
            try:
                async with serve_metrics(bot, settings):
                    await _serve(bot, settings.discord_token.get_secret_value(), stop)
            finally:
                for sig in STOP_SIGNALS:
                    loop.remove_signal_handler(sig)
        log.info("stopped cleanly")


async def _serve(bot: TutorBot, token: str, stop: asyncio.Event) -> None:
    async with bot:
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            stopper.cancel()
            _raise_startup_error(runner)
        log.info("shutting down")
        still_running = await bot.drain()
        if still_running:
            log.warning("%d interaction(s) did not finish in time", still_running)
        await bot.close()
        await runner


def _raise_startup_error(runner: asyncio.Task[None]) -> None:
    exc = runner.exception()
    if isinstance(exc, discord.LoginFailure):
        raise StartupError(
            "Discord rejected the token (DISCORD_TOKEN). Reset it in the developer portal "
            "and update .env."
        ) from None
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        raise StartupError("The bot asked for an intent that is not enabled in the portal.")
    if isinstance(exc, OSError | discord.GatewayNotFound):
        raise StartupError(f"Cannot reach Discord: {exc}") from None
    if exc is not None:
        raise exc


async def sync_commands(settings: Settings, guild_id: int | None) -> str:
    """Register the slash commands with Discord: in one guild (instant) or globally."""
    assert settings.discord_token is not None
    async with open_app(settings) as app:
        bot = build_bot(app, heartbeat=False)
        async with bot:
            await bot.login(settings.discord_token.get_secret_value())
            if guild_id is None:
                synced = await bot.tree.sync()
                return f"Synced {len(synced)} commands globally (may take up to an hour to show)."
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            return f"Synced {len(synced)} commands to guild {guild_id}."
