"""The store's connection: statements that cannot wait run on the event loop's thread.

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

`LoopConnection` is an `aiosqlite.Connection` whose calls run in place, sharing the threaded
connection's `sqlite3.Connection` (opened with `check_same_thread=False`). The two are never
used at the same time: the store's lock gives the connection to one task at a time, and every
call on either is awaited before the next begins. It relies on aiosqlite's `_execute` (every
call of a connection and of its cursors goes through it), `_conn` and `_iter_chunk_size`, which
`tests/test_store_loop.py` checks, and pyproject pins aiosqlite to the versions tested.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

BUSY_TIMEOUT_MS = 5000


class LoopConnection(aiosqlite.Connection):
    """The threaded connection's SQLite connection, with its calls run on the calling thread."""

    def __init__(self, threaded: aiosqlite.Connection) -> None:
        # Deliberately not aiosqlite's __init__: no thread and no queue of its own.
        self._threaded = threaded
        self._iter_chunk_size = threaded._iter_chunk_size
        self._running = True

    def __del__(self) -> None:
        """Nothing to stop: the threaded connection owns the SQLite connection."""

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._threaded._conn

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    async def close(self) -> None:
        raise RuntimeError("the store closes its connection, not the loop's view of it")


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
