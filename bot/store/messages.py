"""SQL of what each message of the bot shows (`bot.shown`): its buttons and digests."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.store.codec import from_json, to_db_time, to_json
from bot.store.rows import NamedRow, fetch_one
from models.shown import Shown

# What a message shows, from `bot_messages b`; named so that they can join the outbox's and the
# posts' rows, which have a ref of their own. Null buttons: no such message (a LEFT JOIN).
SHOWN_COLUMNS = """
    b.buttons AS shown_buttons, b.text_digest AS shown_text_digest,
    b.markup_digest AS shown_markup_digest, b.thread_id AS shown_thread_id, b.ref AS shown_ref
"""


def shown_from_row(row: NamedRow) -> Shown:
    """A `Shown` from the columns `SHOWN_COLUMNS` names."""
    return Shown(
        buttons=tuple(from_json(row["shown_buttons"])),
        text_digest=row["shown_text_digest"],
        markup_digest=row["shown_markup_digest"],
        thread_id=row["shown_thread_id"],
        ref=row["shown_ref"],
    )


class MessageQueries:
    db: aiosqlite.Connection

    async def still_shown(self, ref: str) -> bool:
        """Whether the message sent under `ref` is still there (not deleted by the bot since:
        a delete forgets what the message showed)."""
        row = await fetch_one(
            self.db,
            "SELECT 1 FROM message_refs r JOIN bot_messages b "
            "ON b.chat_id = r.chat_id AND b.message_id = r.message_id WHERE r.ref = ?",
            (ref,),
        )
        return row is not None

    async def shown(self, chat_id: int, message_id: int) -> Shown | None:
        """What the bot's message shows now; None for a message the bot has no record of (not
        its own, a forwarded copy, deleted, or sent without buttons)."""
        row = await fetch_one(
            self.db,
            f"SELECT {SHOWN_COLUMNS} FROM bot_messages b WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return None if row is None else shown_from_row(row)

    async def record_shown(
        self, chat_id: int, message_id: int, shown: Shown, now: datetime
    ) -> None:
        """The message shows `shown` from now on (a send, or an edit Telegram accepted). A text
        digest of None leaves the one recorded (an edit of the keyboard alone)."""
        await self.db.execute(
            """
            INSERT INTO bot_messages (chat_id, message_id, ref, thread_id, text_digest,
                                      markup_digest, buttons, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (chat_id, message_id) DO UPDATE SET
                ref = COALESCE(excluded.ref, ref),
                thread_id = COALESCE(excluded.thread_id, thread_id),
                text_digest = COALESCE(excluded.text_digest, text_digest),
                markup_digest = excluded.markup_digest,
                buttons = excluded.buttons,
                updated_at = excluded.updated_at
            """,
            (
                chat_id,
                message_id,
                shown.ref,
                shown.thread_id,
                shown.text_digest,
                shown.markup_digest,
                to_json(list(shown.buttons)),
                to_db_time(now),
            ),
        )

    async def forget_shown(self, chat_id: int, message_id: int) -> None:
        """The message was deleted: nothing on it can be pressed any more."""
        await self.db.execute(
            "DELETE FROM bot_messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
        )

    async def shown_by_ref(self, ref: str) -> Shown | None:
        """What the message sent under `ref` shows, once it was sent."""
        row = await fetch_one(
            self.db,
            f"""
            SELECT {SHOWN_COLUMNS}
            FROM message_refs r JOIN bot_messages b
              ON b.chat_id = r.chat_id AND b.message_id = r.message_id
            WHERE r.ref = ?
            """,
            (ref,),
        )
        return None if row is None else shown_from_row(row)
