"""SQL of the operator's commands: integrity, the outbox backlog, inspecting outbox items (their
requeueing is with the outbox's statements), and the online backup.

`siaga112 check`, `siaga112 outbox` and `siaga112 backup` use these while the bot may be running
on the same file; SQLite in WAL mode lets them read a consistent snapshot without holding up the
bot's writer.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.store.codec import from_db_time
from bot.store.outbox import _ITEM_COLUMNS, _item
from models.outbox import OutboxItem, OutboxStatus

INTEGRITY_REPORT_LINES = 20

# Statuses as SQL text, for the CASE expressions that pick out and order them below.
_PENDING = f"'{OutboxStatus.PENDING.value}'"
_PARKED = f"'{OutboxStatus.PARKED.value}'"


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """How many outbox rows are in each status, and how long the oldest pending one has waited."""

    counts: dict[OutboxStatus, int]
    oldest_pending_at: datetime | None

    @property
    def pending(self) -> int:
        return self.counts.get(OutboxStatus.PENDING, 0)

    @property
    def parked(self) -> int:
        return self.counts.get(OutboxStatus.PARKED, 0)


class MaintenanceQueries:
    db: aiosqlite.Connection

    async def integrity_problems(self) -> list[str]:
        """What `PRAGMA integrity_check` finds (the first lines of it); empty when intact."""
        async with self.db.execute(f"PRAGMA integrity_check({INTEGRITY_REPORT_LINES})") as cursor:
            lines = [str(row["integrity_check"]) async for row in cursor]
        return [] if lines == ["ok"] else lines

    async def outbox_backlog(self) -> OutboxBacklog:
        async with self.db.execute(
            f"""
            SELECT status, COUNT(*) AS n,
                   MIN(CASE WHEN status = {_PENDING} THEN created_at END) AS oldest_pending_at
            FROM outbox GROUP BY status
            """
        ) as cursor:
            rows = await cursor.fetchall()
        counts = {OutboxStatus(row["status"]): int(row["n"]) for row in rows}
        oldest = next(
            (row["oldest_pending_at"] for row in rows if row["status"] == OutboxStatus.PENDING),
            None,
        )
        return OutboxBacklog(
            counts=counts, oldest_pending_at=None if oldest is None else from_db_time(oldest)
        )

    async def outbox_problems(
        self, statuses: tuple[OutboxStatus, ...], limit: int
    ) -> list[OutboxItem]:
        """Items in `statuses`, parked first, then pending, then the rest; newest first in each.

        Unlike `outbox_items` (oldest first, as the sender needs), this puts what an operator
        should look at on top even when the list is cut at `limit`.
        """
        marks = ", ".join("?" for _ in statuses)
        async with self.db.execute(
            f"""
            SELECT {_ITEM_COLUMNS} FROM outbox WHERE status IN ({marks})
            ORDER BY CASE status WHEN {_PARKED} THEN 0 WHEN {_PENDING} THEN 1 ELSE 2 END, id DESC
            LIMIT ?
            """,
            (*(status.value for status in statuses), limit),
        ) as cursor:
            return [_item(row) async for row in cursor]

    async def count_incidents(self) -> int:
        async with self.db.execute("SELECT COUNT(*) AS n FROM incidents") as cursor:
            row = await cursor.fetchone()
        return 0 if row is None else int(row["n"])


def backup_database(source: Path, target: Path) -> None:
    """Copy `source` into `target` (a new, empty file) with SQLite's online backup API.

    One step (`pages=-1`) copies every page inside a single read transaction, so the copy is the
    snapshot of one moment even while the bot commits: in WAL mode that read holds up neither
    the bot's writes nor its reads. (A stepwise backup would restart whenever another connection
    writes.) Blocking: run it in a worker thread from async code.
    """
    # uri + mode=rw: never create the source if it vanished after the caller checked.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=5)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
