"""Where the store's statements run (`bot.store.connection`): inside a write transaction and in
reads on the event loop's thread, never waiting; the write lock held by another process, every
COMMIT and lone writes on aiosqlite's database thread; and the aiosqlite internals this relies
on, for the versions pyproject allows."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import tomllib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import aiosqlite
import pytest
from packaging.requirements import Requirement

from bot.store import Store
from bot.store.connection import BUSY_TIMEOUT_MS, LoopConnection, begin_immediate
from models.outbox import OutboxStatus

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store(tmp_path / "loop.db") as opened:
        yield opened


@contextmanager
def traced(store: Store) -> Iterator[list[tuple[str, bool]]]:
    """Each statement SQLite runs, and whether it ran on the event loop's thread."""
    loop_thread = threading.get_ident()
    seen: list[tuple[str, bool]] = []

    def trace(sql: str) -> None:
        seen.append((" ".join(sql.split()), threading.get_ident() == loop_thread))

    connection = store.db._conn
    connection.set_trace_callback(trace)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


def on_loop(seen: list[tuple[str, bool]], start: str) -> list[bool]:
    return [loop for sql, loop in seen if sql.startswith(start)]


def handled(path: Path) -> list[int]:
    with sqlite3.connect(path) as other:
        return [row[0] for row in other.execute("SELECT update_id FROM processed_updates")]


async def test_a_transaction_runs_its_statements_on_the_loop_and_commits_on_the_thread(
    store: Store, tmp_path: Path
) -> None:
    with traced(store) as seen:
        async with store.transaction() as tx:
            await tx.record_update(1, NOW)
            assert await tx.count_outbox(OutboxStatus.PENDING) == 0
    assert on_loop(seen, "BEGIN IMMEDIATE") == [True]
    assert on_loop(seen, "INSERT OR IGNORE INTO processed_updates") == [True]
    assert on_loop(seen, "SELECT COUNT(*)") == [True]
    assert on_loop(seen, "COMMIT") == [False]  # the fsync, off the loop
    # Committed and durable when the block ends: another connection reads it.
    assert handled(tmp_path / "loop.db") == [1]


async def test_reads_run_on_the_loop_and_long_work_on_the_thread(store: Store) -> None:
    with traced(store) as seen:
        async with store.lookup() as tx:
            await tx.count_outbox(OutboxStatus.PENDING)
        async with store.read() as tx:
            await tx.count_outbox(OutboxStatus.SENT)
    assert [loop for _sql, loop in seen] == [True] * 4  # lookup; BEGIN, SELECT, ROLLBACK

    with traced(store) as seen:
        async with store.read(on_thread=True) as tx:
            await tx.count_outbox(OutboxStatus.SENT)
        async with store.transaction(on_thread=True) as tx:
            await tx.record_update(2, NOW)
    assert seen and not any(loop for _sql, loop in seen)


async def test_a_lone_write_commits_on_the_thread(store: Store, tmp_path: Path) -> None:
    with traced(store) as seen:
        async with store.single_write() as tx:
            await tx.record_update(3, NOW)
    assert on_loop(seen, "INSERT OR IGNORE INTO processed_updates") == [False]
    assert handled(tmp_path / "loop.db") == [3]


async def test_a_failed_transaction_is_rolled_back_and_the_connection_stays_usable(
    store: Store, tmp_path: Path
) -> None:
    async def failing() -> None:
        async with store.transaction() as tx:
            await tx.record_update(4, NOW)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing()
    assert handled(tmp_path / "loop.db") == []
    async with store.transaction() as tx:
        await tx.record_update(5, NOW)
    assert handled(tmp_path / "loop.db") == [5]


async def test_a_write_lock_held_elsewhere_is_waited_for_off_the_loop(
    store: Store, tmp_path: Path
) -> None:
    """Another process (a `siaga112` command, say) writing: the bot's transaction waits for the
    lock on the database thread while the loop goes on, then commits; the busy timeout of the
    connection is what it was."""
    other = sqlite3.connect(tmp_path / "loop.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0
    waiting = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            if ticks == 3:
                waiting.set()
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with store.transaction() as tx:
            await tx.record_update(6, NOW)

    with traced(store) as seen:
        beating = asyncio.create_task(ticker())
        writing = asyncio.create_task(write())
        await waiting.wait()  # the loop kept running while the write waited
        assert not writing.done()
        other.execute("ROLLBACK")
        await writing
        beating.cancel()
    other.close()
    assert on_loop(seen, "BEGIN IMMEDIATE") == [True, False]  # tried at once, then waited
    assert on_loop(seen, "INSERT OR IGNORE INTO processed_updates") == [True]
    assert handled(tmp_path / "loop.db") == [6]
    assert await store.pragma("busy_timeout") == BUSY_TIMEOUT_MS


async def test_the_loop_connection_answers_as_the_threaded_one(store: Store) -> None:
    """What the store uses of aiosqlite (cursors, rowcount, lastrowid, iteration, fetchall,
    executemany) behaves the same run in place, on the same SQLite connection."""
    loop_db = store.on_loop
    assert isinstance(loop_db, LoopConnection)
    assert loop_db._conn is store.db._conn
    for db in (store.db, loop_db):
        await db.execute("CREATE TEMP TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, w TEXT)")
        await db.execute("DELETE FROM t")
        cursor = await db.execute("INSERT INTO t (w) VALUES (?)", ("a",))
        assert cursor.lastrowid == 1
        await db.executemany("INSERT INTO t (w) VALUES (?)", [("b",), ("c",)])
        cursor = await db.execute("UPDATE t SET w = upper(w) WHERE n > ?", (1,))
        assert cursor.rowcount == 2
        async with db.execute("SELECT w FROM t ORDER BY n") as rows:
            assert [row["w"] async for row in rows] == ["a", "B", "C"]
        assert [row["w"] for row in await db.execute_fetchall("SELECT w FROM t")] == [
            "a",
            "B",
            "C",
        ]
    with pytest.raises(RuntimeError):
        await loop_db.close()
    assert await store.writable()


def test_aiosqlite_is_pinned_to_the_versions_whose_internals_are_used() -> None:
    """`LoopConnection` relies on aiosqlite's `_execute`, `_conn` and `_iter_chunk_size`;
    pyproject allows only versions where they are as tested here."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = [Requirement(line) for line in project["dependencies"]]
    allowed = next(r.specifier for r in required if r.name == "aiosqlite")
    assert version("aiosqlite") in allowed
    assert "<" in str(allowed), "an upper bound: a new aiosqlite is checked before it is used"
    assert callable(aiosqlite.Connection._execute)
    assert isinstance(aiosqlite.Connection._conn, property)


async def test_a_lock_busy_for_any_reason_is_waited_for_on_the_thread() -> None:
    """SQLite says BUSY with an extended code too (BUSY_RECOVERY: another process recovers the
    log): that is waited out on the database thread like the plain one; other errors are not."""
    for code, waited in ((sqlite3.SQLITE_BUSY, True), (261, True), (517, True), (8, False)):
        threaded = _RefusingConnection(code)
        if waited:
            await begin_immediate(threaded)  # type: ignore[arg-type]
        else:
            with pytest.raises(sqlite3.OperationalError):
                await begin_immediate(threaded)  # type: ignore[arg-type]
        assert threaded.on_thread == (["BEGIN IMMEDIATE"] if waited else [])
        assert threaded._conn.timeouts == ["0", str(BUSY_TIMEOUT_MS)]  # put back either way


class _Refusing:
    def __init__(self, code: int) -> None:
        self.code = code
        self.timeouts: list[str] = []

    def execute(self, sql: str) -> _Refusing:
        if sql.startswith("PRAGMA busy_timeout"):
            self.timeouts.append(sql.rsplit(" ", 1)[1])
            return self
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = self.code
        raise error

    def fetchall(self) -> list[object]:
        return []


class _RefusingConnection:
    def __init__(self, code: int) -> None:
        self._conn = _Refusing(code)
        self.on_thread: list[str] = []

    async def execute(self, sql: str) -> None:
        self.on_thread.append(sql)
