"""Reading rows in one hop to the database thread.

aiosqlite runs every call on its own thread, and each hop there and back costs about as much as
a simple query. `async with db.execute(...) as cursor` followed by iterating or `fetchone` takes
three or four hops (execute, fetch until empty, close); `execute_fetchall` takes one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import aiosqlite


async def fetch_all(
    db: aiosqlite.Connection, sql: str, params: Iterable[object] = ()
) -> list[sqlite3.Row]:
    """Every row of a query."""
    return list(await db.execute_fetchall(sql, params))


async def fetch_one(
    db: aiosqlite.Connection, sql: str, params: Iterable[object] = ()
) -> sqlite3.Row | None:
    """The first row of a query that yields at most a few (by key, LIMIT 1 or an aggregate)."""
    return next(iter(await db.execute_fetchall(sql, params)), None)
