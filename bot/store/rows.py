"""Reading rows: by column name, in one hop to the database thread.

The store's connection hands out `sqlite3.Row` (its row factory, set in `Store.open`), so the
store reads `row["reported_at"]`, never `row[7]`: a new column changes the query that selects it
and the function that reads it, not the position of every column after it. `sqlite3.Row` rather
than typed row classes: it is built in C by the sqlite3 module as it reads, so the hot paths (the
outbox's due rows, an acknowledgement, loading an incident) build no Python object or dict per
row, and the typed layer already exists: the functions that turn rows into models (`_incident`,
`_item`, ...) each name their columns once. A computed column gets an alias (`COUNT(*) AS n`),
and so does a joined column whose name another table's column has (`b.ref AS shown_ref`; a
`sqlite3.Row` answers the first of two equal names). Rows nested in a row as JSON are JSON
objects built with `json_object`, read by name the same way (`NamedRow`).
`tests/test_store_rows.py` keeps positional reads out of the package.

aiosqlite runs every call on its own thread, and each hop there and back costs about as much as
a simple query. `async with db.execute(...) as cursor` followed by iterating or `fetchone` takes
three or four hops (execute, fetch until empty, close); `execute_fetchall` takes one. On the
event loop's view of the connection (`bot.store.connection.LoopConnection`, where reads and a
transaction's statements run) there is no hop, and `fetch_all` reads in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, cast

import aiosqlite

from bot.store.connection import LoopConnection


class NamedRow(Protocol):
    """A row read by column name: a `sqlite3.Row`, or a JSON object of columns."""

    def __getitem__(self, column: str, /) -> Any: ...


def select_list(columns: Mapping[str, str]) -> str:
    """`expression AS name, ...` of a {name: expression} map, for a SELECT."""
    return ", ".join(f"{expression} AS {name}" for name, expression in columns.items())


def json_object_of(columns: Mapping[str, str]) -> str:
    """The same columns as one JSON object (`json_object('name', expression, ...)`)."""
    pairs = ", ".join(f"'{name}', {expression}" for name, expression in columns.items())
    return f"json_object({pairs})"


async def fetch_all(
    db: aiosqlite.Connection, sql: str, params: Iterable[object] = ()
) -> list[sqlite3.Row]:
    """Every row of a query. On the loop's connection, read in place without aiosqlite's
    wrappers (its awaitable result and two coroutines cost as much as a short query)."""
    if isinstance(db, LoopConnection):
        rows: list[sqlite3.Row] = db._conn.execute(sql, cast(Any, params)).fetchall()
        return rows
    return list(await db.execute_fetchall(sql, params))


async def fetch_one(
    db: aiosqlite.Connection, sql: str, params: Iterable[object] = ()
) -> sqlite3.Row | None:
    """The first row of a query that yields at most a few (by key, LIMIT 1 or an aggregate)."""
    return next(iter(await fetch_all(db, sql, params)), None)
