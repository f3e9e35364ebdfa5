"""Where the store's statements run (`bot.store.connection`): inside a write transaction and in
reads on the event loop's thread, never waiting; reads on a connection of their own, which waits
for no writer and sees only what was committed; the write lock held by another process, every
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
def traced(store: Store, *, reader: bool = False) -> Iterator[list[tuple[str, bool]]]:
    """Each statement SQLite runs on the writer's connection (or the reader's), and whether it
    ran on the event loop's thread."""
    loop_thread = threading.get_ident()
    seen: list[tuple[str, bool]] = []

    def trace(sql: str) -> None:
        seen.append((" ".join(sql.split()), threading.get_ident() == loop_thread))

    connection = reader_of(store) if reader else store.db._conn
    connection.set_trace_callback(trace)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


def reader_of(store: Store) -> sqlite3.Connection:
    assert store.on_reader is not None
    return store.on_reader._conn


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


async def test_reads_run_on_the_loop_on_the_reader_and_long_work_on_the_thread(
    store: Store,
) -> None:
    with traced(store) as written, traced(store, reader=True) as seen:
        async with store.lookup() as tx:
            await tx.count_outbox(OutboxStatus.PENDING)
        async with store.read() as tx:
            await tx.count_outbox(OutboxStatus.SENT)
    assert [loop for _sql, loop in seen] == [True] * 4  # lookup; BEGIN, SELECT, ROLLBACK
    assert [sql.split()[0] for sql, _loop in seen] == ["SELECT", "BEGIN", "SELECT", "ROLLBACK"]
    assert written == []  # the writer's connection was not used

    with traced(store) as seen:
        async with store.read(on_thread=True) as tx:
            await tx.count_outbox(OutboxStatus.SENT)
        async with store.transaction(on_thread=True) as tx:
            await tx.record_update(2, NOW)
    assert seen and not any(loop for _sql, loop in seen)


async def test_reads_wait_for_no_transaction_and_see_only_what_was_committed(
    store: Store,
) -> None:
    """A read while another task's transaction is open (or its COMMIT waits for the disk) goes
    ahead at once, on the snapshot before it; once committed, the next read sees it."""
    inside, finish = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        async with store.transaction() as tx:
            await tx.record_update(7, NOW)
            inside.set()
            await finish.wait()

    writing = asyncio.create_task(write())
    await inside.wait()
    # The writer's connection is held by the block: a read waiting for it would wait forever.
    async with asyncio.timeout(10):
        async with store.lookup() as tx:
            assert await tx.handled_updates([7]) == set()
        async with store.read() as tx:
            assert await tx.handled_updates([7]) == set()
    assert not writing.done()
    finish.set()
    await writing
    async with store.lookup() as tx:  # committed before the read began: seen
        assert await tx.handled_updates([7]) == {7}


async def test_a_snapshot_holds_while_others_commit_and_later_reads_wait_for_its_end(
    store: Store,
) -> None:
    """A `read` block sees one state throughout, whatever is committed meanwhile (the writer
    does not wait for it); a lookup of another task waits for the block to end rather than
    read inside its older snapshot, and then sees the latest commit."""
    looked: list[set[int]] = []
    asked = asyncio.Event()

    async def look() -> None:
        asked.set()
        async with store.lookup() as tx:
            looked.append(await tx.handled_updates([8]))

    async with store.read() as snapshot:
        assert await snapshot.handled_updates([8]) == set()
        async with store.transaction() as tx:
            await tx.record_update(8, NOW)
        assert await snapshot.handled_updates([8]) == set()  # the snapshot, still
        looking = asyncio.create_task(look())
        await asked.wait()  # it ran up to the reader's lock: a lookup never yields otherwise
        assert not looking.done() and looked == []
    await looking
    assert looked == [{8}]


async def test_the_reader_refuses_to_write(store: Store) -> None:
    async with store.lookup() as tx:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await tx.record_update(9, NOW)
    async with store.read() as tx:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await tx.record_update(9, NOW)
    async with store.lookup() as tx:
        assert await tx.handled_updates([9]) == set()


async def test_a_read_counts_as_inside_the_store(store: Store) -> None:
    """A call to Telegram from inside a read would hold every other read up: the records of
    what messages show refuse it there (`held_here`), as inside a transaction."""
    assert not store.held_here()
    async with store.lookup():
        assert store.held_here()
    async with store.read():
        assert store.held_here()
    async with store.transaction():
        assert store.held_here()
    assert not store.held_here()


async def test_emptying_the_log_waits_for_a_snapshot_in_progress(
    store: Store, tmp_path: Path
) -> None:
    """After an erasure the write-ahead log is emptied (`purge_wal`); a reader's snapshot would
    keep the log's frames, so the purge waits for it."""
    async with store.transaction() as tx:
        await tx.record_update(10, NOW)
    log = tmp_path / "loop.db-wal"
    assert log.stat().st_size > 0
    async with store.read() as snapshot:
        await snapshot.handled_updates([10])
        purging = asyncio.create_task(store.purge_wal())
        # One step of the loop: the purge takes the writer's lock (free, no wait) and stops at
        # the reader's.
        await asyncio.sleep(0)
        assert not purging.done()
    await purging
    assert log.stat().st_size == 0


async def test_a_database_without_a_file_reads_on_the_writers_connection() -> None:
    async with Store(":memory:") as memory:
        assert memory.on_reader is None
        async with memory.transaction() as tx:
            await tx.record_update(11, NOW)
        async with memory.lookup() as tx:
            assert await tx.handled_updates([11]) == {11}
        async with memory.read() as tx:
            assert await tx.handled_updates([11]) == {11}


async def test_closing_the_store_closes_the_reader(tmp_path: Path) -> None:
    store = Store(tmp_path / "closed.db")
    await store.open()
    reader = reader_of(store)
    await store.close()
    assert store.on_reader is None
    with pytest.raises(sqlite3.ProgrammingError):
        reader.execute("SELECT 1")
    await store.open()  # and opens a new one with the store
    async with store.lookup() as tx:
        assert await tx.handled_updates([1]) == set()
    await store.close()


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
    assert isinstance(store.on_reader, LoopConnection)
    assert reader_of(store) is not store.db._conn
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
