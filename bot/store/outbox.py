"""SQL of the transactional outbox and of the message references it records."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiosqlite

from bot.settings import Language
from bot.store.codec import from_db_time, from_json, maybe_time, to_db_time, to_json
from bot.store.messages import SHOWN_COLUMNS, MessageQueries, shown_from_row
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.outbox import (
    LINK,
    NO_PIN_RIGHTS,
    OutboxItem,
    OutboxStatus,
    OutgoingMessage,
    SendMethod,
    message_from_dict,
    message_to_dict,
)
from models.shown import Showing, Shown


def head_with(line: str, words: str, marker: DrillMarker) -> str:
    if marker.heads(words):
        return words
    return f"{line}\n{words}" if words else line


# Statuses written into the SQL text rather than bound. `status = 'pending'` as the partial
# indexes outbox_pending, outbox_pending_ref and outbox_pending_target spell it, so that a query
# for pending rows is planned with them: SQLite uses a partial index only when the statement's
# text implies its condition. Bound, a status would also make SQLite re-prepare a statement that
# is not a lookup by id at every execution, to check the value against those conditions; so a
# condition on the status of such a statement is written as text too (`_PARKED`).
PENDING = f"'{OutboxStatus.PENDING.value}'"
_PARKED = f"'{OutboxStatus.PARKED.value}'"

_ITEM_COLUMNS = (
    "id, chat_id, method, payload, priority, ref, target_ref, status, attempts, not_before, "
    "created_at, sent_at, message_id, last_error, fallback, attempted_at"
)


def _item(
    row: NamedRow,
    target: tuple[int, int] | None = None,
    shown: Shown | None = None,
    *,
    target_pending: bool = False,
    link_target: tuple[int, int] | None = None,
) -> OutboxItem:
    """An item from the columns `_ITEM_COLUMNS` names."""
    fallback = row["fallback"]
    return OutboxItem(
        id=row["id"],
        chat_id=row["chat_id"],
        method=SendMethod(row["method"]),
        payload=from_json(row["payload"]),
        priority=row["priority"],
        ref=row["ref"],
        target_ref=row["target_ref"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        not_before=from_db_time(row["not_before"]),
        created_at=from_db_time(row["created_at"]),
        sent_at=maybe_time(row["sent_at"]),
        message_id=row["message_id"],
        last_error=row["last_error"],
        fallback=None if fallback is None else message_from_dict(from_json(fallback)),
        attempted_at=maybe_time(row["attempted_at"]),
        target=target,
        shown=shown,
        target_pending=target_pending,
        link_target=link_target,
    )


# Payload fields that carry what people read; what is left (the topic, the keyboard, the parse
# mode) is what the bot still needs to know about a message it sent.
_READABLE = ("text", "caption", "media", "title", "address", "phone_number", "first_name")

_MARK_SENT = """
    UPDATE outbox SET status = ?, sent_at = ?, message_id = ?, shows = ?,
                      attempts = attempts + 1, last_error = NULL, attempted_at = NULL
    WHERE id = ? AND status = ?
"""

# Which pending edits a new edit of the same message makes pointless.
SUPERSEDED = "superseded by a newer edit"
_SUPERSEDES: dict[SendMethod, tuple[SendMethod, ...]] = {
    SendMethod.EDIT_MESSAGE_TEXT: (
        SendMethod.EDIT_MESSAGE_TEXT,
        SendMethod.EDIT_MESSAGE_REPLY_MARKUP,
    ),
    SendMethod.EDIT_MESSAGE_REPLY_MARKUP: (SendMethod.EDIT_MESSAGE_REPLY_MARKUP,),
    SendMethod.EDIT_MESSAGE_CAPTION: (SendMethod.EDIT_MESSAGE_CAPTION,),
}


class _RetargetsCopies(Protocol):
    """What `retarget_chat` needs of `Tx` besides these queries."""

    db: aiosqlite.Connection

    async def retarget_broadcast_copies(self, old_chat_id: int, new_chat_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class DrillMarker:
    """The line that heads every message about a drill incident, per language, and the
    language of groups (a person's chat speaks the person's)."""

    lines: dict[Language, str]
    group_language: Language

    def heads(self, text: str) -> bool:
        return any(text.startswith(line) for line in self.lines.values())


# Where a message's words are, per method (a venue's name; an album's first caption).
MARKED_WORDS = {
    SendMethod.SEND_MESSAGE: "text",
    SendMethod.EDIT_MESSAGE_TEXT: "text",
    SendMethod.SEND_PHOTO: "caption",
    SendMethod.SEND_DOCUMENT: "caption",
    SendMethod.EDIT_MESSAGE_CAPTION: "caption",
    SendMethod.COPY_MESSAGE: "caption",
    SendMethod.SEND_VENUE: "title",
}


# The id of the head of each chat's queue (its oldest pending message), found chat by chat
# through the pending index (a skip scan: two index seeks a chat) rather than by reading every
# pending row: a backlog of a few hundred edits in one chat, as the presses of a busy minute
# leave, halved the due query's time. Needs `_HEAD_CHATS` in the query's WITH clause.
_HEAD_CHATS = f"""
    chats(chat) AS (
        SELECT MIN(chat_id) FROM outbox WHERE status = {PENDING}
        UNION ALL
        SELECT (SELECT MIN(chat_id) FROM outbox WHERE status = {PENDING} AND chat_id > chat)
        FROM chats WHERE chat IS NOT NULL
    )
"""
_HEAD_IDS = f"""
    SELECT (SELECT MIN(id) FROM outbox WHERE status = {PENDING} AND chat_id = chat)
    FROM chats WHERE chat IS NOT NULL
"""

# The heads that are due, with what each one's target shows and where its link goes (made once:
# the sender asks after every send).
_DUE = f"""
    WITH RECURSIVE {_HEAD_CHATS}
    SELECT {", ".join("o." + c.strip() for c in _ITEM_COLUMNS.split(","))},
           r.chat_id AS target_chat_id, r.message_id AS target_message_id,
           {SHOWN_COLUMNS},
           r.chat_id IS NULL AND o.target_ref IS NOT NULL AND EXISTS (
               SELECT 1 FROM outbox p WHERE p.ref = o.target_ref AND p.status = {PENDING}
           ) AS target_pending,
           l.chat_id AS link_chat_id, l.message_id AS link_message_id
    FROM outbox o LEFT JOIN message_refs r ON r.ref = o.target_ref
         LEFT JOIN bot_messages b
           ON b.chat_id = r.chat_id AND b.message_id = r.message_id
         LEFT JOIN message_refs l ON l.ref = json_extract(o.payload, '$.{LINK}.ref')
    WHERE o.id IN ({_HEAD_IDS})
      AND o.not_before <= ?
      AND o.chat_id NOT IN (SELECT value FROM json_each(?))
    ORDER BY o.priority, o.id
    LIMIT ?
"""


def _message_at(row: NamedRow, prefix: str) -> tuple[int, int] | None:
    """(chat_id, message_id) from a row's `<prefix>_chat_id` and `<prefix>_message_id`, when it
    has them (a message that was sent)."""
    chat_id = row[f"{prefix}_chat_id"]
    return None if chat_id is None else (int(chat_id), int(row[f"{prefix}_message_id"]))


class OutboxQueries(MessageQueries):
    db: aiosqlite.Connection
    # The chats the transaction made rows due in (empty: none); None: chats it did not name.
    outbox_chats: set[int] | None

    def _wrote_for(self, chat_id: int | None) -> None:
        """Rows became due in `chat_id` (None: in chats not named here)."""
        if chat_id is None:
            self.outbox_chats = None
        elif self.outbox_chats is not None:
            self.outbox_chats.add(chat_id)

    async def enqueue(
        self, message: OutgoingMessage, now: datetime, *, supersede: bool = True
    ) -> int:
        """Write a message to the outbox; it is sent once the transaction commits. (An edit
        that would change nothing is not sent: the sender compares it with what its message
        shows, see `bot.runtime.outbox`.)

        A new edit of a message supersedes the edits of it still waiting: only the newest
        content is sent, so a card changed five times while Telegram made us wait is edited once.
        `supersede=False`: the caller knows nothing is waiting for that message (a settled
        post), so there is nothing to look for.
        """
        at = to_db_time(now)
        superseded = _SUPERSEDES.get(message.method) if supersede else None
        if superseded and message.target_ref is not None:
            marks = ", ".join("?" for _ in superseded)
            await self.db.execute(
                f"""
                UPDATE outbox SET status = ?, last_error = ?
                WHERE status = {PENDING} AND chat_id = ? AND target_ref = ?
                  AND method IN ({marks})
                """,
                (
                    OutboxStatus.DROPPED.value,
                    SUPERSEDED,
                    message.chat_id,
                    message.target_ref,
                    *(m.value for m in superseded),
                ),
            )
        row_id = await self._insert(message, at, OutboxStatus.PENDING, None)
        self._wrote_for(message.chat_id)
        return row_id

    async def due_outbox(
        self, now: datetime, limit: int, busy: Collection[int] = ()
    ) -> list[OutboxItem]:
        """The oldest pending message of each chat whose time has come, most urgent first;
        none of the `busy` chats (the sender's sends in flight: their heads are those very
        messages, not to be read again until they are marked).

        Only the head of each chat's queue is eligible, so messages to one chat keep their order
        and a chat waiting out a retry does not hold up any other chat.
        """
        # With each row, the message its target_ref names if that was sent already, and what
        # it shows, so the sender needs no lookup of its own before an edit (else whether a
        # pending row is still to send it); and the message its link opens, if sent.
        rows = await fetch_all(self.db, _DUE, (to_db_time(now), json.dumps(list(busy)), limit))
        return [
            _item(
                row,
                _message_at(row, "target"),
                None if row["shown_buttons"] is None else shown_from_row(row),
                target_pending=bool(row["target_pending"]),
                link_target=_message_at(row, "link"),
            )
            for row in rows
        ]

    async def next_outbox_time(self) -> datetime | None:
        """When the earliest pending head-of-chat message becomes due."""
        row = await fetch_one(
            self.db,
            f"""
            WITH RECURSIVE {_HEAD_CHATS}
            SELECT MIN(not_before) AS due FROM outbox WHERE id IN ({_HEAD_IDS})
            """,
        )
        return None if row is None or row["due"] is None else from_db_time(row["due"])

    async def outbox_item(self, item_id: int) -> OutboxItem | None:
        row = await fetch_one(
            self.db, f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE id = ?", (item_id,)
        )
        return None if row is None else _item(row)

    async def outbox_items(
        self, statuses: tuple[OutboxStatus, ...], limit: int = 1000
    ) -> list[OutboxItem]:
        marks = ", ".join("?" for _ in statuses)
        rows = await fetch_all(
            self.db,
            f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE status IN ({marks}) ORDER BY id LIMIT ?",
            (*(status.value for status in statuses), limit),
        )
        return [_item(row) for row in rows]

    async def count_outbox(self, status: OutboxStatus) -> int:
        row = await fetch_one(
            self.db, "SELECT COUNT(*) AS n FROM outbox WHERE status = ?", (status.value,)
        )
        return 0 if row is None else int(row["n"])

    async def mark_sent(
        self,
        item: OutboxItem,
        message_id: int | None,
        now: datetime,
        shows: Showing | None = None,
    ) -> None:
        """Record the send, with what it put on its message (`shows`; the outbox's triggers keep
        bot_messages in step, in the same statement)."""
        at = to_db_time(now)
        sent = (
            OutboxStatus.SENT.value,
            at,
            message_id,
            None if shows is None else shows.to_json(),
            item.id,
            OutboxStatus.PENDING.value,
        )
        cursor = await self.db.execute(_MARK_SENT, sent)
        if cursor.rowcount == 0 and item.method in _SUPERSEDES:
            # An edit superseded while it was on its way was sent all the same: it is recorded
            # as sent, so what its message shows stays true and the newer edit is compared
            # with it (Telegram refuses an edit that changes nothing). Pending again first, so
            # that the outbox's triggers, which follow a row from pending to sent, record it.
            await self.db.execute(
                "UPDATE outbox SET status = ? WHERE id = ? AND status = ? AND last_error = ?",
                (
                    OutboxStatus.PENDING.value,
                    item.id,
                    OutboxStatus.DROPPED.value,
                    SUPERSEDED,
                ),
            )
            await self.db.execute(_MARK_SENT, sent)
        if item.ref is not None and message_id is not None:
            await self.db.execute(
                """
                INSERT INTO message_refs (ref, chat_id, message_id, updated_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (ref) DO UPDATE SET
                    chat_id = excluded.chat_id,
                    message_id = excluded.message_id,
                    updated_at = excluded.updated_at
                """,
                (item.ref, item.chat_id, message_id, at),
            )

    async def mark_attempted(self, ids: list[int], now: datetime) -> None:
        """Sends whose outcome we may never learn are about to start (one statement)."""
        marks = ", ".join("?" for _ in ids)
        await self.db.execute(
            f"UPDATE outbox SET attempted_at = ? WHERE id IN ({marks}) AND status = ?",
            (to_db_time(now), *ids, OutboxStatus.PENDING.value),
        )

    async def clear_attempted(self, item: OutboxItem) -> None:
        """Telegram answered that it did not take the message: no copy of it exists."""
        await self.db.execute("UPDATE outbox SET attempted_at = NULL WHERE id = ?", (item.id,))

    async def postpone(
        self, item: OutboxItem, until: datetime, error: str, *, count: bool = True
    ) -> None:
        """Try again at `until`; `count` says whether this was a failed attempt."""
        await self.db.execute(
            """
            UPDATE outbox SET not_before = ?, attempts = attempts + ?, last_error = ?
            WHERE id = ? AND status = ?
            """,
            (
                to_db_time(until),
                1 if count else 0,
                error[:1000],
                item.id,
                OutboxStatus.PENDING.value,
            ),
        )

    async def park(self, item: OutboxItem, error: str) -> None:
        """Telegram refused the row for a reason retrying will not fix. It answered, so it did
        not take the message: no copy of it exists (attempted_at is cleared)."""
        await self.db.execute(
            """
            UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?,
                              attempted_at = NULL
            WHERE id = ? AND status = ?
            """,
            (OutboxStatus.PARKED.value, error[:1000], item.id, OutboxStatus.PENDING.value),
        )

    async def park_chat(self, chat_id: int, error: str) -> int:
        """Stop retrying a chat that refuses the bot: park everything pending for it."""
        cursor = await self.db.execute(
            "UPDATE outbox SET status = ?, last_error = ? "
            f"WHERE chat_id = ? AND status = {PENDING}",
            (OutboxStatus.PARKED.value, error[:1000], chat_id),
        )
        return cursor.rowcount

    async def requeue_refused(self, chat_id: int, now: datetime) -> int:
        """Send again what this chat refused (it blocked the bot, or never started it) and what
        could not follow: the person has now pressed Start."""
        cursor = await self.db.execute(
            f"""
            UPDATE outbox SET status = ?, not_before = ?, last_error = NULL
            WHERE chat_id = ? AND status = {_PARKED}
              AND (last_error LIKE 'Forbidden%' OR last_error LIKE 'no sent message%')
            """,
            (OutboxStatus.PENDING.value, to_db_time(now), chat_id),
        )
        if cursor.rowcount:
            self._wrote_for(chat_id)
        return cursor.rowcount

    async def _insert(
        self, message: OutgoingMessage, at: str, status: OutboxStatus, error: str | None
    ) -> int:
        cursor = await self.db.execute(
            """
            INSERT INTO outbox (chat_id, method, payload, priority, ref, target_ref,
                                not_before, created_at, fallback, status, last_error)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                message.chat_id,
                message.method.value,
                to_json(message.payload),
                int(message.priority),
                message.ref,
                message.target_ref,
                at,
                at,
                None if message.fallback is None else to_json(message_to_dict(message.fallback)),
                status.value,
                error,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def enqueue_parked(self, message: OutgoingMessage, now: datetime, reason: str) -> None:
        """Write a message that may not go yet, parked with `reason` (a pin where the bot is
        known not to be an admin: `requeue_pins` sends it once the bot is promoted)."""
        await self._insert(message, to_db_time(now), OutboxStatus.PARKED, reason[:1000])

    async def requeue_pins(self, chat_id: int, now: datetime) -> int:
        """The bot was promoted in this chat: pin again what it was refused leave to pin and is
        still to be pinned (a feed card of an open critical incident), and unpin what it could
        not unpin. Each keeps its place in the chat's order."""
        cursor = await self.db.execute(
            f"""
            UPDATE outbox SET status = ?, not_before = ?, last_error = NULL
            WHERE chat_id = ? AND status = {_PARKED}
              AND last_error LIKE '{NO_PIN_RIGHTS}%'
              AND (method = ? OR (method = ? AND target_ref IN (
                    SELECT ref FROM incident_posts WHERE chat_id = ? AND pinned = 1)))
            """,
            (
                OutboxStatus.PENDING.value,
                to_db_time(now),
                chat_id,
                SendMethod.UNPIN_CHAT_MESSAGE.value,
                SendMethod.PIN_CHAT_MESSAGE.value,
                chat_id,
            ),
        )
        if cursor.rowcount:
            self._wrote_for(chat_id)
        return cursor.rowcount

    async def drop_broadcast_copies(self, broadcast_id: int) -> int:
        """The copies of a broadcast still waiting are dropped (`cancel_broadcast`); returns
        how many."""
        cursor = await self.db.execute(
            f"""
            UPDATE outbox SET status = ?, last_error = 'broadcast cancelled'
            WHERE status = {PENDING} AND id IN (
                SELECT outbox_id FROM broadcast_deliveries WHERE broadcast_id = ?
                UNION SELECT photo_outbox_id FROM broadcast_deliveries WHERE broadcast_id = ?
                UNION SELECT location_outbox_id FROM broadcast_deliveries WHERE broadcast_id = ?
                UNION SELECT resend_outbox_id FROM broadcast_deliveries WHERE broadcast_id = ?)
            """,
            (OutboxStatus.DROPPED.value, broadcast_id, broadcast_id, broadcast_id, broadcast_id),
        )
        return cursor.rowcount

    async def requeue_parked(self, item_id: int, now: datetime) -> bool:
        """Put a parked item back in line (an operator fixed the cause); False if not parked.

        Attempts restart from zero so the sender does not begin with its longest backoff."""
        cursor = await self.db.execute(
            """
            UPDATE outbox SET status = ?, not_before = ?, attempts = 0, last_error = NULL
            WHERE id = ? AND status = ?
            """,
            (OutboxStatus.PENDING.value, to_db_time(now), item_id, OutboxStatus.PARKED.value),
        )
        if cursor.rowcount:
            self._wrote_for(None)
        return cursor.rowcount == 1

    async def retarget_chat(self: _RetargetsCopies, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its pending messages and references follow it. What its
        old messages show stays under the old id, where those messages are."""
        await self.db.execute(
            f"UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = {PENDING}",
            (new_chat_id, old_chat_id),
        )
        await self.db.execute(
            "UPDATE message_refs SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
        )
        await self.retarget_broadcast_copies(old_chat_id, new_chat_id)

    async def message_ref(self, ref: str) -> tuple[int, int] | None:
        """(chat_id, message_id) of the message sent under `ref`, once it has been sent."""
        row = await fetch_one(
            self.db, "SELECT chat_id, message_id FROM message_refs WHERE ref = ?", (ref,)
        )
        return None if row is None else (int(row["chat_id"]), int(row["message_id"]))

    async def thread_of_ref(self, ref: str) -> int | None:
        """The forum topic the message named `ref` was first sent to, if any."""
        row = await fetch_one(
            self.db,
            "SELECT payload FROM outbox WHERE ref = ? AND method = ? ORDER BY id LIMIT 1",
            (ref, SendMethod.SEND_MESSAGE.value),
        )
        if row is None:
            # Its send was dropped by retention (`bot.store.retention`): what the message shows
            # remembers the topic too.
            row = await fetch_one(
                self.db,
                """
                SELECT b.thread_id FROM message_refs r
                JOIN bot_messages b ON b.chat_id = r.chat_id AND b.message_id = r.message_id
                WHERE r.ref = ?
                """,
                (ref,),
            )
            return None if row is None or row["thread_id"] is None else int(row["thread_id"])
        thread = from_json(row["payload"]).get("message_thread_id")
        return thread if isinstance(thread, int) else None

    async def ref_is_pending(self, ref: str) -> bool:
        """Whether a send that will create `ref` is still waiting in the outbox."""
        row = await fetch_one(
            self.db, f"SELECT 1 FROM outbox WHERE ref = ? AND status = {PENDING} LIMIT 1", (ref,)
        )
        return row is not None

    # --- erasure ---

    async def scrub_outbox(self, user_id: int, refs: Iterable[str], words: Iterable[str]) -> int:
        """What people read in the outbox rows that are no longer waiting (sent, parked or made
        moot) and that went to the person, named one of `refs`, or mention one of `words`
        (their name, username, phone): their text goes, the rest of the row stays. Returns
        how many rows were scrubbed."""
        conditions = ["chat_id = ?", "ref IN (SELECT value FROM json_each(?))"]
        conditions.append("target_ref IN (SELECT value FROM json_each(?))")
        refs_json = to_json(sorted(set(refs)))
        params: list[object] = [OutboxStatus.PENDING.value, user_id, refs_json, refs_json]
        for word in {w for w in words if w}:
            conditions.append("instr(payload, ?) > 0")
            params.append(json.dumps(word, ensure_ascii=False)[1:-1])
        rows = await fetch_all(
            self.db,
            f"""
            SELECT id, payload FROM outbox
            WHERE status != ? AND ({" OR ".join(conditions)})
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
