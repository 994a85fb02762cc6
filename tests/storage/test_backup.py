"""`tutorbot db backup` and `db restore`: a live SQLite database round-trips; refusals are clear.

SQLite only by nature (PostgreSQL is backed up with pg_dump, which the command prints)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.health import write_heartbeat
from storage.backup import BackupError, backup_sqlite, check_backup, restore_sqlite
from storage.db import create_engine
from storage.migrate import head_revision, schema_status, upgrade
from tests.bot.test_cli import tutorbot


def _migrated(data_dir: Path) -> Path:
    database = data_dir / "tutor.db"

    async def go() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
    return database


def _insert_learner(connection: sqlite3.Connection, discord_id: int) -> None:
    connection.execute(
        "INSERT INTO learners (discord_id, time_zone, reminder_hour, reminder_delivery, "
        "dm_unreachable, created_at, updated_at) "
        "VALUES (?, 'UTC', 18, 'dm', 0, '2026-12-08 00:00:00', '2026-12-08 00:00:00')",
        (discord_id,),
    )


def _ids(database: Path) -> list[int]:
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT discord_id FROM learners ORDER BY discord_id")
        return [row[0] for row in rows]


class Writer(threading.Thread):
    """Keeps inserting learners 1, 2, 3, ... one per committed transaction, in WAL mode."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.stop = threading.Event()
        self.committed = 0

    def run(self) -> None:
        connection = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        try:
            while not self.stop.is_set():
                connection.execute("BEGIN IMMEDIATE")
                _insert_learner(connection, self.committed + 1)
                connection.execute("COMMIT")
                self.committed += 1
        finally:
            connection.close()


def test_a_backup_of_a_live_database_restores_with_every_row_up_to_it(tmp_path: Path) -> None:
    database = _migrated(tmp_path / "live")
    writer = Writer(database)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while writer.committed < 2000:
            assert writer.is_alive() and time.monotonic() < deadline, "the writer stopped"
            time.sleep(0.01)
        before = writer.committed
        result = tutorbot(
            "db", "backup", str(tmp_path / "b.db"), env={"DATA_DIR": str(database.parent)}
        )
        after = writer.committed
    finally:
        writer.stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr
    assert "Backed up" in result.stdout and str(tmp_path / "b.db") in result.stdout
    assert "KiB" in result.stdout or "MiB" in result.stdout
    assert writer.committed > after, "the writer kept writing through the backup"

    fresh = tmp_path / "fresh"
    restored = tutorbot("db", "restore", str(tmp_path / "b.db"), env={"DATA_DIR": str(fresh)})
    assert restored.returncode == 0, restored.stderr
    ids = _ids(fresh / "tutor.db")
    # consistent: exactly the rows committed up to one moment, none torn, none skipped
    assert ids == list(range(1, len(ids) + 1))
    assert before <= len(ids) <= after

    async def opens() -> tuple[str | None, int]:
        engine = create_engine(f"sqlite+aiosqlite:///{fresh / 'tutor.db'}")
        try:
            status = await schema_status(engine)
            async with engine.connect() as connection:
                count = (await connection.execute(text("SELECT count(*) FROM learners"))).scalar()
        finally:
            await engine.dispose()
        return status.current, int(count or 0)

    assert asyncio.run(opens()) == (head_revision(), len(ids))
    assert tutorbot("health", env={"DATA_DIR": str(fresh)}).stdout.count("no heartbeat") == 1


def test_restore_keeps_the_database_it_replaces(tmp_path: Path) -> None:
    database = _migrated(tmp_path / "data")
    with closing(sqlite3.connect(database)) as connection, connection:
        _insert_learner(connection, 1)
    backup_sqlite(database, tmp_path / "one.db")
    with closing(sqlite3.connect(database)) as connection, connection:
        _insert_learner(connection, 2)

    revision, kept = restore_sqlite(tmp_path / "one.db", database)
    assert revision == head_revision()
    assert kept == database.with_name("tutor.db.before-restore")
    assert _ids(database) == [1]
    assert _ids(kept) == [1, 2]
    assert not Path(f"{database}-wal").exists() or _ids(database) == [1]

    with pytest.raises(BackupError, match="earlier restore"):
        restore_sqlite(tmp_path / "one.db", database)
    restore_sqlite(tmp_path / "one.db", database, force=True)
    assert _ids(kept) == [1]


def test_backup_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    database = _migrated(tmp_path / "data")
    target = tmp_path / "b.db"
    target.write_text("precious")
    env = {"DATA_DIR": str(database.parent)}
    refused = tutorbot("db", "backup", str(target), env=env)
    assert refused.returncode == 1
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert target.read_text() == "precious"
    assert tutorbot("db", "backup", str(target), "--force", env=env).returncode == 0
    assert check_backup(target) == head_revision()


def test_backup_without_a_database_says_so(tmp_path: Path) -> None:
    result = tutorbot("db", "backup", str(tmp_path / "b.db"), env={"DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "no database" in result.stderr
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "tutor.db").exists()


def test_postgresql_gets_the_pg_dump_command_without_the_password(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql+asyncpg://tutor:s3cret@db:5432/tutor"}
    result = tutorbot("db", "backup", str(tmp_path / "t.dump"), env=env)
    assert result.returncode == 2
    assert "pg_dump --format=custom" in result.stderr
    assert "postgresql://tutor@db:5432/tutor" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    restore = tutorbot("db", "restore", str(tmp_path / "t.dump"), env=env)
    assert restore.returncode == 2 and "pg_restore" in restore.stderr
    assert "s3cret" not in restore.stdout + restore.stderr


def test_restore_refuses_while_the_bot_is_running(tmp_path: Path) -> None:
    database = _migrated(tmp_path / "data")
    backup_sqlite(database, tmp_path / "b.db")
    write_heartbeat(database.parent / "health.json", ready=False, latency=None)
    result = tutorbot(
        "db", "restore", str(tmp_path / "b.db"), env={"DATA_DIR": str(database.parent)}
    )
    assert result.returncode == 1
    assert "running" in result.stderr and "stop it" in result.stderr
    assert not database.with_name("tutor.db.before-restore").exists()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_text("not a database at all, just text " * 10), "not a SQLite"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            "no alembic_version",
        ),
        (
            lambda p: (
                sqlite3.connect(p)
                .executescript(
                    "CREATE TABLE alembic_version (version_num TEXT);"
                    "INSERT INTO alembic_version VALUES ('9999');"
                )
                .connection.commit()
            ),
            "does not know",
        ),
    ],
    ids=["text", "foreign-sqlite", "newer-revision"],
)
def test_restore_refuses_what_is_not_a_backup_of_this_bot(
    tmp_path: Path, make: object, says: str
) -> None:
    database = _migrated(tmp_path / "data")
    candidate = tmp_path / "candidate.db"
    make(candidate)  # type: ignore[operator]
    result = tutorbot("db", "restore", str(candidate), env={"DATA_DIR": str(database.parent)})
    assert result.returncode == 1, result.stdout
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert not database.with_name("tutor.db.before-restore").exists()
    assert check_backup(database) == head_revision()
