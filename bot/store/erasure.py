"""SQL of erasing a person's data: finding every copy, and scrubbing or deleting it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import to_db_time, to_json
from bot.store.rows import fetch_all

# Payload fields that carry what people read; what is left (the topic, the keyboard, the parse
# mode) is what the bot still needs to know about a message it sent.
_READABLE = ("text", "caption", "media", "title", "address", "phone_number", "first_name")


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

    async def forget_personal_messages(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM personal_messages WHERE user_id = ?", (user_id,))

    async def scrub_event_details(
        self, incident_ids: Sequence[int], words: Iterable[str], label: str
    ) -> None:
        """Names written into the timeline's details (an assignment "to Rudi", a follow-up
        "Rudi was asked") become the person's anonymous label."""
        words = [w for w in words if w]
        if not incident_ids or not words:
            return
        marks = ", ".join("?" for _ in incident_ids)
        rows = await fetch_all(
            self.db,
            f"SELECT id, detail FROM incident_events WHERE incident_id IN ({marks})",
            tuple(incident_ids),
        )
        for row in rows:
            scrubbed = detail = row["detail"]
            for word in words:
                scrubbed = scrubbed.replace(json.dumps(word, ensure_ascii=False)[1:-1], label)
            if scrubbed != detail:
                await self.db.execute(
                    "UPDATE incident_events SET detail = ? WHERE id = ?", (scrubbed, row["id"])
                )

    async def scrub_outbox(self, user_id: int, refs: Iterable[str], words: Iterable[str]) -> int:
        """What people read in the outbox rows that are no longer waiting (sent, parked or made
        moot) and that went to the person, named one of `refs`, or mention one of `words`
        (their name, username, phone): their text goes, the rest of the row stays. Returns
        how many rows were scrubbed."""
        conditions = ["chat_id = ?", "ref IN (SELECT value FROM json_each(?))"]
        conditions.append("target_ref IN (SELECT value FROM json_each(?))")
        refs_json = to_json(sorted(set(refs)))
        params: list[object] = [user_id, refs_json, refs_json]
        for word in {w for w in words if w}:
            conditions.append("instr(payload, ?) > 0")
            params.append(json.dumps(word, ensure_ascii=False)[1:-1])
        rows = await fetch_all(
            self.db,
            f"""
            SELECT id, payload FROM outbox
            WHERE status != 'pending' AND ({" OR ".join(conditions)})
            """,
            params,
        )
        scrubbed = 0
        for row in rows:
            data = json.loads(row["payload"])
            kept = {key: value for key, value in data.items() if key not in _READABLE}
            if kept != data:
                # A fallback that was never needed (it names an assignee) goes too.
                await self.db.execute(
                    "UPDATE outbox SET payload = ?, fallback = NULL WHERE id = ?",
                    (to_json(kept), row["id"]),
                )
                scrubbed += 1
        return scrubbed

    async def name_message(self, ref: str, chat_id: int, message_id: int, now: datetime) -> None:
        """Give a message the bot did not send (a person's own) a name, so the outbox can act
        on it (delete it)."""
        await self.db.execute(
            """
            INSERT INTO message_refs (ref, chat_id, message_id, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (ref) DO NOTHING
            """,
            (ref, chat_id, message_id, to_db_time(now)),
        )

    async def anonymize_broadcasts(self, user_id: int, label: str) -> None:
        """A dispatcher's name on the broadcasts they sent becomes their anonymous label."""
        await self.db.execute(
            "UPDATE broadcasts SET sender_name = ? WHERE sender_id = ?", (label, user_id)
        )
