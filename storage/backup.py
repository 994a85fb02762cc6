"""Backing up and restoring the SQLite database; for PostgreSQL, the pg_dump command to run.

A backup uses SQLite's online backup API (`sqlite3.Connection.backup`) in one step: it reads
the whole database inside one read transaction, so it is consistent even while the bot keeps
writing (in WAL mode readers never block writers). It is written to a temporary file next to
the target and renamed into place, so a half-written backup never carries the target's name.

A restore checks the file first (SQLite, intact, a database of this bot at a revision this
code knows), keeps the database it replaces (and its WAL) as `<name>.before-restore`, and
copies the backup in with the same API.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from storage.migrate import head_revision, is_known_revision

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0
BEFORE_RESTORE = ".before-restore"


class BackupError(Exception):
    """A backup or restore that must not go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # bytes
    seconds: float
    revision: str | None


def libpq_url(url: str) -> URL:
    """The URL as pg_dump and psql take it: no SQLAlchemy driver suffix, no password."""
    parsed = make_url(url)
    return URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )


def pg_dump_command(url: str, path: str) -> str:
    """The documented pg_dump for `url`, the password hidden (pg_dump reads PGPASSWORD)."""
    shown = libpq_url(url).render_as_string(hide_password=False)
    return f"pg_dump --format=custom --no-owner --file={_quote(path)} {_quote(shown)}"


def pg_restore_command(url: str, path: str) -> str:
    shown = libpq_url(url).render_as_string(hide_password=False)
    return f"pg_restore --clean --if-exists --no-owner --dbname={_quote(shown)} {_quote(path)}"


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _copy_sqlite(source: Path, target: Path, suffix: str, *, timeout: float = 5.0) -> str | None:
    """Copy `source` to `target` with SQLite's backup API (one read transaction, so others may
    keep writing) into a temporary file that is renamed into place: a copy cut short never
    bears the target's name. Returns the copy's schema revision."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}{suffix}")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=timeout)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # pages=-1: everything in one step
            # a single self-contained file: no -wal beside it to forget when copying it away
            dst.execute("PRAGMA journal_mode=DELETE")
            revision = _revision(dst)
        finally:
            dst.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.replace(tmp, target)
    return revision


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> BackupResult:
    """Copy the live database at `source` to `target`, consistently, while others write."""
    if not source.is_file():
        raise BackupError(f"There is no database at {source} to back up (check DATA_DIR).")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; choose another path or add --force.")
    if target.is_dir():
        raise BackupError(f"{target} is a directory; name the backup file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    revision = _copy_sqlite(source, target, ".partial", timeout=BUSY_TIMEOUT_S)
    return BackupResult(target, target.stat().st_size, time.perf_counter() - started, revision)


def check_backup(path: Path) -> str:
    """The revision of a usable backup of this bot's database, or BackupError saying why not."""
    if not path.is_file():
        raise BackupError(f"There is no file at {path}.")
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database.")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be opened as SQLite: {exc}.") from exc
    try:
        try:
            ok = connection.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is damaged: {exc}.") from exc
        if not ok or ok[0] != "ok":
            raise BackupError(f"{path} is damaged: {ok[0] if ok else 'no answer'}.")
        revision = _revision(connection)
    finally:
        connection.close()
    if revision is None:
        raise BackupError(f"{path} is not a database of this bot: it has no alembic_version.")
    if not is_known_revision(revision):
        raise BackupError(
            f"{path} is at schema revision {revision}, which this version of the bot does not "
            f"know (its newest is {head_revision()}): restore it with the newer bot that made it."
        )
    return revision


def _checkpoint(database: Path) -> None:
    """Fold the WAL into the file, so the database is one file that can be moved away."""
    connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.OperationalError as exc:
        raise BackupError(
            f"{database} is in use by another process ({exc}): stop whatever has it open "
            "(the bot, a console) and try again."
        ) from exc
    finally:
        connection.close()


def restore_sqlite(backup: Path, database: Path, *, force: bool = False) -> tuple[str, Path | None]:
    """Put `backup` in place of `database`; return its revision and where the old one went.

    The caller makes sure the bot is not running."""
    revision = check_backup(backup)
    if backup.resolve() == database.resolve():
        raise BackupError(f"{backup} is the database itself; nothing to restore.")
    kept: Path | None = None
    if database.exists():
        kept = database.with_name(database.name + BEFORE_RESTORE)
        if kept.exists() and not force:
            raise BackupError(
                f"{kept} exists from an earlier restore; move it away first, or add --force "
                "to replace it."
            )
        _checkpoint(database)
        for suffix in ("", "-wal", "-shm", "-journal"):
            old = Path(f"{database}{suffix}")
            if old.exists():
                os.replace(old, Path(f"{kept}{suffix}"))
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(backup, database, ".restoring")
    return revision, kept
