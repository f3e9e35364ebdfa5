"""SQL of handled updates and of chats that refuse the bot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, maybe_time, to_db_time
from bot.store.rows import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class UnreachableChat:
    chat_id: int
    reason: str
    since: datetime
    notified_at: datetime | None


class DeliveryQueries:
    db: aiosqlite.Connection

    async def update_handled(self, update_id: int) -> bool:
        row = await fetch_one(
            self.db, "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        return row is not None

    async def handled_updates(self, update_ids: Sequence[int]) -> set[int]:
        """Those of these updates that were handled before."""
        if not update_ids:
            return set()
        marks = ", ".join("?" for _ in update_ids)
        rows = await fetch_all(
            self.db,
            f"SELECT update_id FROM processed_updates WHERE update_id IN ({marks})",
            tuple(update_ids),
        )
        return {int(row["update_id"]) for row in rows}

    async def record_update(self, update_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO processed_updates (update_id, handled_at) VALUES (?, ?)",
            (update_id, to_db_time(now)),
        )

    async def last_handled_update(self) -> int | None:
        row = await fetch_one(self.db, "SELECT MAX(update_id) AS last FROM processed_updates")
        return None if row is None or row["last"] is None else int(row["last"])

    async def forget_old_updates(self, before: datetime) -> None:
        """Telegram keeps undelivered updates 24 hours; older records can go."""
        await self.db.execute(
            "DELETE FROM processed_updates WHERE handled_at < ? AND update_id < "
            "(SELECT MAX(update_id) FROM processed_updates)",
            (to_db_time(before),),
        )

    async def mark_unreachable(self, chat_id: int, reason: str, now: datetime) -> bool:
        """Record that a chat refuses the bot; True when it was not known before."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO unreachable_chats (chat_id, reason, since) VALUES (?, ?, ?)",
            (chat_id, reason[:300], to_db_time(now)),
        )
        return cursor.rowcount == 1

    async def mark_unreachable_notified(self, chat_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE unreachable_chats SET notified_at = ? WHERE chat_id = ?",
            (to_db_time(now), chat_id),
        )

    async def mark_reachable(self, chat_id: int) -> bool:
        cursor = await self.db.execute(
            "DELETE FROM unreachable_chats WHERE chat_id = ?", (chat_id,)
        )
        return cursor.rowcount == 1

    async def unreachable_chats(self) -> list[UnreachableChat]:
        rows = await fetch_all(
            self.db,
            "SELECT chat_id, reason, since, notified_at FROM unreachable_chats ORDER BY since",
        )
        return [
            UnreachableChat(
                chat_id=row["chat_id"],
                reason=row["reason"],
                since=from_db_time(row["since"]),
                notified_at=maybe_time(row["notified_at"]),
            )
            for row in rows
        ]

    async def is_unreachable(self, chat_id: int) -> bool:
        row = await fetch_one(
            self.db, "SELECT 1 FROM unreachable_chats WHERE chat_id = ?", (chat_id,)
        )
        return row is not None
