"""SQL of conversations: one durable row per person (`bot.services.conversations`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.store.codec import from_db_time, from_json, to_db_time, to_json
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.conversations import Talk

_COLUMNS = "user_id, kind, step, data, language, message_id, started_at, updated_at"
REPORT_KINDS = ("report", "call")


def _talk(row: NamedRow) -> Talk:
    """A conversation from the columns `_COLUMNS` names."""
    return Talk(
        user_id=row["user_id"],
        kind=row["kind"],
        step=row["step"],
        data=from_json(row["data"]),
        language=row["language"],
        message_id=row["message_id"],
        started_at=from_db_time(row["started_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


@dataclass(frozen=True, slots=True)
class Draft:
    """A report or a 112 call form in progress, as the report's conversation holds it."""

    user_id: int
    mode: str
    step: str
    data: dict[str, Any]
    language: str
    started_at: datetime
    updated_at: datetime
    message_id: int | None = None  # the question it waits on: presses count only there


class ConversationQueries:
    db: aiosqlite.Connection

    async def conversation(self, user_id: int) -> Talk | None:
        row = await fetch_one(
            self.db, f"SELECT {_COLUMNS} FROM conversations WHERE user_id = ?", (user_id,)
        )
        return None if row is None else _talk(row)

    async def save_conversation(
        self, user_id: int, kind: str, step: str, data: dict[str, Any], language: str, now: datetime
    ) -> None:
        """Start a conversation, or move it on (the question it waits on stays until the next
        is sent)."""
        at = to_db_time(now)
        await self.db.execute(
            """
            INSERT INTO conversations (user_id, kind, step, data, language, started_at,
                                       updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (user_id) DO UPDATE SET
                kind = excluded.kind, step = excluded.step, data = excluded.data,
                language = excluded.language, updated_at = excluded.updated_at
            """,
            (user_id, kind, step, to_json(data), language, at, at),
        )

    async def bind_conversation(self, user_id: int, message_id: int) -> None:
        """The conversation now waits on this message (the question just sent)."""
        await self.db.execute(
            "UPDATE conversations SET message_id = ? WHERE user_id = ?", (message_id, user_id)
        )

    async def end_conversation(self, user_id: int) -> bool:
        cursor = await self.db.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))
        return cursor.rowcount == 1

    async def stale_conversations(self, before: datetime) -> list[Talk]:
        """Conversations nobody touched since `before`, oldest first."""
        rows = await fetch_all(
            self.db,
            f"SELECT {_COLUMNS} FROM conversations WHERE updated_at < ? ORDER BY updated_at",
            (to_db_time(before),),
        )
        return [_talk(row) for row in rows]

    async def draft(self, user_id: int) -> Draft | None:
        """The person's report or call form in progress, if that is their conversation."""
        talk = await self.conversation(user_id)
        if talk is None or talk.kind not in REPORT_KINDS:
            return None
        assert talk.started_at is not None and talk.updated_at is not None
        return Draft(
            talk.user_id,
            talk.kind,
            talk.step,
            talk.data,
            talk.language,
            talk.started_at,
            talk.updated_at,
            talk.message_id,
        )
