"""SQL of erasing a person's data: finding every copy. The statements that scrub or delete
them are those of each table's own module (`bot.services.erasure` calls them in turn)."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.store.rows import fetch_all


@dataclass(frozen=True, slots=True)
class Trace:
    """Where a person's data may be: the incidents they took part in, the numbers on their
    reports, and the messages they sent that carry their own data."""

    incident_ids: list[int]
    phones: list[str]
    personal_messages: list[tuple[int, int]]


class ErasureQueries:
    db: aiosqlite.Connection

    async def trace_of(self, user_id: int) -> Trace:
        rows = await fetch_all(
            self.db,
            """
            SELECT id AS incident_id FROM incidents WHERE reporter_id = ?
            UNION SELECT incident_id FROM assignments WHERE user_id = ?
            UNION SELECT incident_id FROM responses WHERE acknowledged_by = ?
            UNION SELECT incident_id FROM incident_events WHERE actor_id = ?
            ORDER BY 1
            """,
            (user_id, user_id, user_id, user_id),
        )
        phones = await fetch_all(
            self.db,
            """
            SELECT DISTINCT reporter_phone AS phone FROM incidents
            WHERE reporter_id = ? AND reporter_phone IS NOT NULL
            UNION SELECT phone FROM users WHERE id = ? AND phone IS NOT NULL
            """,
            (user_id, user_id),
        )
        messages = await fetch_all(
            self.db,
            "SELECT chat_id, message_id FROM personal_messages WHERE user_id = ? ORDER BY 2",
            (user_id,),
        )
        return Trace(
            [int(row["incident_id"]) for row in rows],
            [str(row["phone"]) for row in phones],
            [(int(row["chat_id"]), int(row["message_id"])) for row in messages],
        )
