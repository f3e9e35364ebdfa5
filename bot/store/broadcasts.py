"""SQL of broadcasts: drafts, where each copy went, and who confirmed it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiosqlite

from bot.store.codec import from_db_time, from_json, maybe_time, to_db_time, to_json
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.broadcast import (
    Broadcast,
    BroadcastStatus,
    Counts,
    Delivery,
    DeliveryState,
    Step,
    TargetKind,
    Urgency,
)
from models.outbox import OutboxStatus
from models.users import display_name

_COLUMNS = (
    "id, sender_id, sender_name, text, urgency, target_kind, agency_ids, latitude, longitude, "
    "status, created_at, sent_at, cancelled_at, step, photo_file_id, language, finished_at"
)

# The columns a draft's answers may change.
DRAFT_FIELDS = frozenset(
    {"step", "text", "photo_file_id", "latitude", "longitude", "urgency", "target_kind"}
)


def _broadcast(row: NamedRow) -> Broadcast:
    """A broadcast from the columns `_COLUMNS` names."""
    urgency, target_kind, step = row["urgency"], row["target_kind"], row["step"]
    return Broadcast(
        id=row["id"],
        sender_id=row["sender_id"],
        sender_name=row["sender_name"],
        text=row["text"],
        urgency=Urgency(urgency) if urgency is not None else Urgency.INFO,
        target_kind=TargetKind(target_kind) if target_kind is not None else None,
        agency_ids=tuple(from_json(row["agency_ids"])),
        latitude=row["latitude"],
        longitude=row["longitude"],
        status=BroadcastStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
        sent_at=maybe_time(row["sent_at"]),
        cancelled_at=maybe_time(row["cancelled_at"]),
        step=Step(step) if step is not None else None,
        photo_file_id=row["photo_file_id"],
        language=row["language"],
        finished_at=maybe_time(row["finished_at"]),
    )


@dataclass(frozen=True, slots=True)
class Recipient:
    """A chat a broadcast is about to be sent to."""

    chat_id: int
    thread_id: int | None
    label: str
    language: str
    agency_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A delivery as the services need it to act on one chat."""

    broadcast_id: int
    chat_id: int
    thread_id: int | None
    language: str
    state: DeliveryState
    resent: bool
    ref: str  # the name of its message with Received (chosen when it was queued)


# `status = 'draft'` and `status = 'mengirim'` as the partial indexes broadcasts_one_draft and
# broadcasts_sending spell them. A query that finds drafts, or broadcasts in progress, through
# one of them writes this text into its own WHERE: SQLite plans with such an index only when the
# statement's text implies the index's condition. (Given a bound value instead, it re-prepares
# the statement at every execution to check that value.)
_DRAFT = f"'{BroadcastStatus.DRAFT.value}'"
_SENDING = f"'{BroadcastStatus.SENDING.value}'"

# A delivery's state is that of its message with the Received button (its photo or pin only
# precede it in the same chat's queue; their errors are shown when the message has none).
_STATE = f"""
    CASE
        WHEN m.status = '{OutboxStatus.DROPPED.value}' THEN '{DeliveryState.DROPPED.value}'
        WHEN m.status = '{OutboxStatus.PARKED.value}' THEN '{DeliveryState.FAILED.value}'
        WHEN m.status = '{OutboxStatus.PENDING.value}' THEN '{DeliveryState.PENDING.value}'
        ELSE '{DeliveryState.SENT.value}'
    END
"""


class _DropsCopies(Protocol):
    """What `cancel_broadcast` needs of `Tx` besides these queries."""

    db: aiosqlite.Connection
    changed_broadcasts: set[int]

    async def drop_broadcast_copies(self, broadcast_id: int) -> int: ...


class BroadcastQueries:
    db: aiosqlite.Connection
    changed_broadcasts: set[int]  # broadcasts this transaction changed (Hooks)

    async def _broadcasts(self, where: str, params: tuple[object, ...]) -> list[Broadcast]:
        rows = await fetch_all(self.db, f"SELECT {_COLUMNS} FROM broadcasts WHERE {where}", params)
        return [_broadcast(row) for row in rows]

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        found = await self._broadcasts("id = ?", (broadcast_id,))
        return found[0] if found else None

    async def broadcast_draft(self, sender_id: int) -> Broadcast | None:
        found = await self._broadcasts(f"sender_id = ? AND status = {_DRAFT}", (sender_id,))
        return found[0] if found else None

    async def create_broadcast_draft(
        self, sender_id: int, sender_name: str, language: str, now: datetime
    ) -> Broadcast:
        at = to_db_time(now)
        cursor = await self.db.execute(
            """
            INSERT INTO broadcasts (sender_id, sender_name, language, step, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            (sender_id, sender_name, language, Step.TEXT.value, at, at),
        )
        assert cursor.lastrowid is not None
        created = await self.broadcast(cursor.lastrowid)
        assert created is not None
        return created

    async def update_broadcast_draft(
        self, broadcast_id: int, now: datetime, **fields: object
    ) -> None:
        """Change a draft's answers; only the columns a draft may change are accepted."""
        unknown = fields.keys() - DRAFT_FIELDS
        if unknown:
            raise ValueError(f"not a draft field: {sorted(unknown)}")
        values = [
            field.value if isinstance(field, Step | Urgency | TargetKind) else field
            for field in fields.values()
        ]
        sets = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(
            f"UPDATE broadcasts SET {sets}, updated_at = ? WHERE id = ? AND status = ?",
            (*values, to_db_time(now), broadcast_id, BroadcastStatus.DRAFT.value),
        )

    async def set_broadcast_agencies(
        self, broadcast_id: int, agency_ids: tuple[int, ...], now: datetime
    ) -> None:
        await self.db.execute(
            """
            UPDATE broadcasts SET agency_ids = ?, updated_at = ?
            WHERE id = ? AND status = ?
            """,
            (
                to_json(sorted(agency_ids)),
                to_db_time(now),
                broadcast_id,
                BroadcastStatus.DRAFT.value,
            ),
        )

    async def delete_broadcast_draft(self, sender_id: int) -> bool:
        cursor = await self.db.execute(
            f"DELETE FROM broadcasts WHERE sender_id = ? AND status = {_DRAFT}", (sender_id,)
        )
        return cursor.rowcount > 0

    async def stale_broadcast_drafts(self, before: datetime) -> list[Broadcast]:
        return await self._broadcasts(
            f"status = {_DRAFT} AND updated_at < ? ORDER BY id", (to_db_time(before),)
        )

    async def start_sending(self, broadcast_id: int, now: datetime) -> bool:
        """Turn the draft into a broadcast in progress; False if it is no longer a draft."""
        cursor = await self.db.execute(
            """
            UPDATE broadcasts SET status = ?, step = NULL, sent_at = ?, updated_at = ?
            WHERE id = ? AND status = ?
            """,
            (
                BroadcastStatus.SENDING.value,
                to_db_time(now),
                to_db_time(now),
                broadcast_id,
                BroadcastStatus.DRAFT.value,
            ),
        )
        if cursor.rowcount == 1:
            self.changed_broadcasts.add(broadcast_id)
        return cursor.rowcount == 1

    async def finish_broadcast(self, broadcast_id: int, now: datetime) -> bool:
        """Nothing is left pending: the broadcast is done. False if it already was."""
        cursor = await self.db.execute(
            """
            UPDATE broadcasts SET status = ?, finished_at = ?, updated_at = ?
            WHERE id = ? AND status = ?
            """,
            (
                BroadcastStatus.SENT.value,
                to_db_time(now),
                to_db_time(now),
                broadcast_id,
                BroadcastStatus.SENDING.value,
            ),
        )
        if cursor.rowcount == 1:
            self.changed_broadcasts.add(broadcast_id)
        return cursor.rowcount == 1

    async def cancel_broadcast(self: _DropsCopies, broadcast_id: int, now: datetime) -> int | None:
        """Stop a broadcast in progress: its copies still waiting are dropped. Returns how many
        were dropped, or None when it was not in progress (already done or cancelled)."""
        at = to_db_time(now)
        cursor = await self.db.execute(
            """
            UPDATE broadcasts SET status = ?, cancelled_at = ?, finished_at = ?, updated_at = ?
            WHERE id = ? AND status = ?
            """,
            (
                BroadcastStatus.CANCELLED.value,
                at,
                at,
                at,
                broadcast_id,
                BroadcastStatus.SENDING.value,
            ),
        )
        if cursor.rowcount != 1:
            return None
        self.changed_broadcasts.add(broadcast_id)
        return await self.drop_broadcast_copies(broadcast_id)

    async def add_delivery(
        self,
        broadcast_id: int,
        recipient: Recipient,
        outbox_id: int,
        *,
        photo_outbox_id: int | None = None,
        location_outbox_id: int | None = None,
    ) -> None:
        await self.db.execute(
            """
            INSERT INTO broadcast_deliveries (broadcast_id, chat_id, thread_id, agency_id, user_id,
                                              label, language, outbox_id, photo_outbox_id,
                                              location_outbox_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                broadcast_id,
                recipient.chat_id,
                recipient.thread_id,
                recipient.agency_id,
                recipient.user_id,
                recipient.label,
                recipient.language,
                outbox_id,
                photo_outbox_id,
                location_outbox_id,
            ),
        )

    async def delivery(self, broadcast_id: int, chat_id: int) -> DeliveryRow | None:
        row = await fetch_one(
            self.db,
            f"""
            SELECT d.broadcast_id, d.chat_id, d.thread_id, d.language, {_STATE} AS state,
                   d.resend_outbox_id IS NOT NULL AS resent, m.ref
            FROM broadcast_deliveries d JOIN outbox m ON m.id = d.outbox_id
            WHERE d.broadcast_id = ? AND d.chat_id = ?
            """,
            (broadcast_id, chat_id),
        )
        if row is None:
            return None
        return DeliveryRow(
            broadcast_id=row["broadcast_id"],
            chat_id=row["chat_id"],
            thread_id=row["thread_id"],
            language=row["language"],
            state=DeliveryState(row["state"]),
            resent=bool(row["resent"]),
            ref=row["ref"],
        )

    async def retarget_broadcast_copies(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup (`retarget_chat`): the broadcast copies there stay
        confirmable from the new chat."""
        for table in ("broadcast_deliveries", "broadcast_receipts"):
            await self.db.execute(
                f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?",
                (new_chat_id, old_chat_id),
            )

    async def set_resent(self, broadcast_id: int, chat_id: int, outbox_id: int) -> None:
        await self.db.execute(
            """
            UPDATE broadcast_deliveries SET resend_outbox_id = ?
            WHERE broadcast_id = ? AND chat_id = ?
            """,
            (outbox_id, broadcast_id, chat_id),
        )

    async def deliveries(self, broadcast_id: int) -> list[Delivery]:
        """Every chat of the broadcast, in the order they were queued, with who confirmed."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT d.chat_id, d.label, d.agency_id, d.user_id, {_STATE} AS state,
                   COALESCE(m.last_error, photo.last_error, pin.last_error) AS error,
                   d.resend_outbox_id IS NOT NULL AS resent
            FROM broadcast_deliveries d
            JOIN outbox m ON m.id = d.outbox_id
            LEFT JOIN outbox photo ON photo.id = d.photo_outbox_id
            LEFT JOIN outbox pin ON pin.id = d.location_outbox_id
            WHERE d.broadcast_id = ?
            ORDER BY d.outbox_id
            """,
            (broadcast_id,),
        )
        confirmers = await self._confirmers(broadcast_id)
        return [
            Delivery(
                chat_id=row["chat_id"],
                label=row["label"],
                agency_id=row["agency_id"],
                user_id=row["user_id"],
                state=DeliveryState(row["state"]),
                error=row["error"],
                confirmed_by=tuple(confirmers.get(row["chat_id"], ())),
                resent=bool(row["resent"]),
            )
            for row in rows
        ]

    async def _confirmers(
        self, broadcast_id: int, chat_id: int | None = None
    ) -> dict[int, list[str]]:
        rows = await fetch_all(
            self.db,
            """
            SELECT r.chat_id, r.user_id, u.first_name, u.last_name, u.username
            FROM broadcast_receipts r LEFT JOIN users u ON u.id = r.user_id
            WHERE r.broadcast_id = ? AND (? IS NULL OR r.chat_id = ?)
            ORDER BY r.confirmed_at, r.user_id
            """,
            (broadcast_id, chat_id, chat_id),
        )
        names: dict[int, list[str]] = {}
        for row in rows:
            names.setdefault(row["chat_id"], []).append(
                display_name(row["user_id"], row["first_name"], row["last_name"], row["username"])
            )
        return names

    async def confirmers(self, broadcast_id: int, chat_id: int) -> list[str]:
        """Who in this chat pressed Received, first first."""
        return (await self._confirmers(broadcast_id, chat_id)).get(chat_id, [])

    async def broadcast_counts(self, broadcast_id: int) -> Counts:
        row = await fetch_one(
            self.db,
            f"""
            SELECT COUNT(*) AS total,
                   COALESCE(SUM(state = ?), 0) AS sent,
                   COALESCE(SUM(state = ?), 0) AS pending,
                   COALESCE(SUM(state = ?), 0) AS failed,
                   COALESCE(SUM(state = ?), 0) AS dropped,
                   (SELECT COUNT(DISTINCT chat_id) FROM broadcast_receipts WHERE broadcast_id = ?)
                       AS confirmed
            FROM (SELECT {_STATE} AS state
                  FROM broadcast_deliveries d JOIN outbox m ON m.id = d.outbox_id
                  WHERE d.broadcast_id = ?)
            """,
            (
                DeliveryState.SENT.value,
                DeliveryState.PENDING.value,
                DeliveryState.FAILED.value,
                DeliveryState.DROPPED.value,
                broadcast_id,
                broadcast_id,
            ),
        )
        assert row is not None
        return Counts(
            total=int(row["total"]),
            sent=int(row["sent"]),
            pending=int(row["pending"]),
            failed=int(row["failed"]),
            dropped=int(row["dropped"]),
            confirmed=int(row["confirmed"]),
        )

    async def record_receipt(
        self, broadcast_id: int, chat_id: int, user_id: int, now: datetime
    ) -> bool:
        """Count a press of Received; False if this person already confirmed in this chat."""
        cursor = await self.db.execute(
            """
            INSERT OR IGNORE INTO broadcast_receipts (broadcast_id, chat_id, user_id, confirmed_at)
            VALUES (?, ?, ?, ?)
            """,
            (broadcast_id, chat_id, user_id, to_db_time(now)),
        )
        if cursor.rowcount == 1:
            self.changed_broadcasts.add(broadcast_id)
        return cursor.rowcount == 1

    async def shown_counts(self, broadcast_id: int) -> Counts | None:
        row = await fetch_one(
            self.db, "SELECT shown_counts FROM broadcasts WHERE id = ?", (broadcast_id,)
        )
        if row is None or row["shown_counts"] is None:
            return None
        return Counts(**from_json(row["shown_counts"]))

    async def set_shown_counts(self, broadcast_id: int, counts: Counts) -> None:
        self.changed_broadcasts.add(broadcast_id)  # what the board shows moved too
        await self.db.execute(
            "UPDATE broadcasts SET shown_counts = ? WHERE id = ?",
            (
                to_json(
                    {
                        "total": counts.total,
                        "sent": counts.sent,
                        "pending": counts.pending,
                        "failed": counts.failed,
                        "dropped": counts.dropped,
                        "confirmed": counts.confirmed,
                    }
                ),
                broadcast_id,
            ),
        )

    async def anonymize_broadcasts(self, user_id: int, label: str) -> None:
        """A dispatcher's name on the broadcasts they sent becomes their anonymous label."""
        await self.db.execute(
            "UPDATE broadcasts SET sender_name = ? WHERE sender_id = ?", (label, user_id)
        )

    async def sending_broadcasts(self) -> list[int]:
        rows = await fetch_all(
            self.db, f"SELECT id FROM broadcasts WHERE status = {_SENDING} ORDER BY id"
        )
        return [row["id"] for row in rows]

    async def broadcasts_in_progress(self, since: datetime) -> list[tuple[Broadcast, Counts]]:
        """Broadcasts still sending, and those sent since `since`, newest first, with their
        counts (the board's list)."""
        found = await self._broadcasts(
            f"(status = {_SENDING} OR (status = ? AND sent_at >= ?)) ORDER BY id DESC",
            (BroadcastStatus.SENT.value, to_db_time(since)),
        )
        return [(broadcast, await self.broadcast_counts(broadcast.id)) for broadcast in found]

    async def cap_broadcasts(self, limit: int) -> list[Broadcast]:
        """Broadcasts that went out (stopped ones too), newest first: the CAP feed's."""
        return await self._broadcasts(
            "status != ? AND sent_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            (BroadcastStatus.DRAFT.value, limit),
        )

    async def recent_broadcasts(self, limit: int) -> list[tuple[Broadcast, Counts]]:
        found = await self._broadcasts(
            "status != ? ORDER BY id DESC LIMIT ?", (BroadcastStatus.DRAFT.value, limit)
        )
        return [(broadcast, await self.broadcast_counts(broadcast.id)) for broadcast in found]

    async def people_to_alert(self, now: datetime, *, on_duty_only: bool) -> list[Recipient]:
        """People who started the bot (so it may write to them), optionally only those on duty
        in some agency now. Erased people are left out: they asked the bot to forget them."""
        duty = (
            """AND id IN (SELECT user_id FROM memberships
                          WHERE on_duty = 1 AND (duty_until IS NULL OR duty_until > ?))"""
            if on_duty_only
            else "AND ? IS NOT NULL"
        )
        rows = await fetch_all(
            self.db,
            f"""
            SELECT id, first_name, last_name, username, language_code FROM users
            WHERE started_at IS NOT NULL AND forgotten_at IS NULL {duty}
            ORDER BY id
            """,
            (to_db_time(now),),
        )
        return [
            Recipient(
                chat_id=row["id"],
                thread_id=None,
                label=display_name(row["id"], row["first_name"], row["last_name"], row["username"]),
                language=row["language_code"] or "",
                user_id=row["id"],
            )
            for row in rows
        ]
