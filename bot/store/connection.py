"""The store's connections: statements that cannot wait run on the event loop's thread.

aiosqlite runs every call on its connection's thread. A trip there and back costs about 100
microseconds of CPU (a queue, a future, a wake-up of the loop through its self-pipe), and far more
when the loop is busy: the database thread waits for the interpreter lock to hand a result back,
up to the switch interval (5 ms) every time. A simple indexed statement costs 2 to 50
microseconds. A press of ✅ Terima made about 24 trips (`docs/benchmarks.md`, figure 1).

So the store runs on the loop's own thread the statements that cannot wait for anything outside
this process, and keeps on the database thread the ones that can:

- on the thread: `BEGIN IMMEDIATE` when another process holds the write lock (it waits up to the
  busy timeout; tried on the loop first with no timeout), every `COMMIT` (the fsync of
  `synchronous=FULL`), a lone write outside a transaction (`Store.single_write`: it commits,
  so it syncs), and whatever is run on the aiosqlite connection itself (migrations, VACUUM,
  checkpoints, long work that asks for the thread: `Store.transaction(on_thread=True)`, and
  long reads, `Store.read(on_thread=True)`: the metrics snapshot (~0.4 s at 100,000
  incidents), the board, an export's batches, a period's statistics);
- on the loop: the statements inside a write transaction (the write lock is held: in WAL mode
  nothing else can make them wait, and nothing is synced before COMMIT), and reads (WAL readers
  never wait for a writer).

Reads have a connection of their own, the reader (`open_reader`): a second SQLite connection to
the same file, which only reads (`query_only`). The writer's connection is held by one task from
BEGIN to the end of its COMMIT, and the COMMIT waits for the disk; a read on that connection
would wait for the disk too, and with it everything that reads before it acts — the sender
looking for its next message, a press being checked. On the reader a WAL snapshot is taken at
once, whatever the writer is doing: it sees every transaction committed before it began, and
nothing of one still in progress. A file-less database (`:memory:`, tests only) has no second
connection; its reads share the writer's.

`LoopConnection` is an `aiosqlite.Connection` whose calls run in place on a `sqlite3.Connection`:
the threaded connection's own (opened with `check_same_thread=False`), or the reader. The
writer's two views are never used at the same time: the store's lock gives the connection to one
task at a time, and every call on either is awaited before the next begins; the reader has a
lock of its own. It relies on aiosqlite's `_execute` (every call of a connection and of its
cursors goes through it), `_conn` and `_iter_chunk_size`, which `tests/test_store_loop.py`
checks, and pyproject pins aiosqlite to the versions tested.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

BUSY_TIMEOUT_MS = 5000


class LoopConnection(aiosqlite.Connection):
    """A SQLite connection with its calls run on the calling thread."""

    def __init__(self, conn: sqlite3.Connection, iter_chunk_size: int) -> None:
        # Deliberately not aiosqlite's __init__: no thread and no queue of its own.
        self._sqlite = conn
        self._iter_chunk_size = iter_chunk_size
        self._running = True

    def __del__(self) -> None:
        """Nothing to stop: whoever opened the SQLite connection closes it."""

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._sqlite

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    async def close(self) -> None:
        raise RuntimeError("the store closes its connections, not the loop's view of them")


def open_reader(path: str, iter_chunk_size: int) -> tuple[sqlite3.Connection, LoopConnection]:
    """The reader: a second connection to the database at `path` (in WAL mode already), which
    refuses to write, and its view on the loop."""
    # Closed by the store, on the loop's thread as it is used; check_same_thread off all the
    # same, for a store closed from another thread at exit.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row  # as the writer's (`bot.store.rows`)
        # A WAL reader waits only while the log is being recovered or restarted (a checkpoint
        # that truncates it): briefly, up to the same timeout as the writer.
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").fetchall()
        conn.execute("PRAGMA query_only = ON").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn, LoopConnection(conn, iter_chunk_size)


async def begin_immediate(threaded: aiosqlite.Connection) -> None:
    """Take the write lock: at once on the loop when no other process holds it (the busy
    timeout set to zero for that one statement), else on the database thread, which waits up
    to the busy timeout for it as before."""
    conn = threaded._conn
    # A pragma that sets answers with a row: read to the end, so no statement stays open.
    conn.execute("PRAGMA busy_timeout = 0").fetchall()
    try:
        conn.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as exc:
        # The primary code: SQLite's extended ones (BUSY_RECOVERY while another process
        # recovers the log, BUSY_SNAPSHOT) are worth the wait as much.
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").fetchall()
    await threaded.execute("BEGIN IMMEDIATE")
