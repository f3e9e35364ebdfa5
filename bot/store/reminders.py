"""SQL of the reminders table."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, to_db_time
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.reminders import Reminder, ReminderKind, ReminderState

# `state = 'pending'` and `state = 'done'` as the partial indexes spell them (reminders_due,
# reminders_pending_incident, reminders_one_pending; reminders_done_incident). A query that reads
# through one of them writes this text into its own WHERE: SQLite plans with such an index only
# when the statement's text implies the index's condition. Bound, a state would also make SQLite
# re-prepare a statement that is not a lookup by id at every execution, to check the value
# against those conditions; so such a statement writes its state as text too.
_PENDING = f"'{ReminderState.PENDING.value}'"
_DONE = f"'{ReminderState.DONE.value}'"

_COLUMNS = (
    "id, kind, incident_id, agency_id, assignment_id, due_at, attempt, state, created_at, "
    "broadcast_id, chat_id"
)


def _reminder(row: NamedRow) -> Reminder:
    """A reminder from the columns `_COLUMNS` names."""
    return Reminder(
        id=row["id"],
        kind=ReminderKind(row["kind"]),
        incident_id=row["incident_id"],
        agency_id=row["agency_id"],
        assignment_id=row["assignment_id"],
        due_at=from_db_time(row["due_at"]),
        attempt=row["attempt"],
        state=ReminderState(row["state"]),
        created_at=from_db_time(row["created_at"]),
        broadcast_id=row["broadcast_id"],
        chat_id=row["chat_id"],
    )


class ReminderQueries:
    db: aiosqlite.Connection
    scheduled_reminders: list[tuple[int, datetime]]

    async def schedule_reminder(
        self,
        kind: ReminderKind,
        incident_id: int,
        due_at: datetime,
        now: datetime,
        *,
        agency_id: int | None = None,
        assignment_id: int | None = None,
    ) -> int | None:
        """Add a pending reminder unless the same one is already pending."""
        cursor = await self.db.execute(
            """
            INSERT OR IGNORE INTO reminders (kind, incident_id, agency_id, assignment_id, due_at,
                                             created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            (
                kind.value,
                incident_id,
                agency_id,
                assignment_id,
                to_db_time(due_at),
                to_db_time(now),
            ),
        )
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            return None
        self.scheduled_reminders.append((cursor.lastrowid, due_at))
        return cursor.lastrowid

    async def schedule_broadcast_reminder(
        self, broadcast_id: int, chat_id: int, due_at: datetime, now: datetime
    ) -> int | None:
        """Send an emergency broadcast to this chat again at `due_at` unless it is confirmed."""
        cursor = await self.db.execute(
            """
            INSERT OR IGNORE INTO reminders (kind, broadcast_id, chat_id, due_at, created_at)
            VALUES (?, ?, ?, ?, ?)
            """,
            (
                ReminderKind.BROADCAST.value,
                broadcast_id,
                chat_id,
                to_db_time(due_at),
                to_db_time(now),
            ),
        )
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            return None
        self.scheduled_reminders.append((cursor.lastrowid, due_at))
        return cursor.lastrowid

    async def cancel_broadcast_reminders(
        self, broadcast_id: int, chat_id: int | None = None
    ) -> int:
        """Drop the pending re-sends of a broadcast (to one chat, or to all)."""
        cursor = await self.db.execute(
            f"""
            UPDATE reminders SET state = ?
            WHERE broadcast_id = ? AND state = {_PENDING} AND (? IS NULL OR chat_id = ?)
            """,
            (ReminderState.CANCELLED.value, broadcast_id, chat_id, chat_id),
        )
        return cursor.rowcount

    async def pending_reminders_of(self, incident_id: int) -> list[Reminder]:
        rows = await fetch_all(
            self.db,
            f"SELECT {_COLUMNS} FROM reminders WHERE incident_id = ? AND state = {_PENDING}",
            (incident_id,),
        )
        return [_reminder(row) for row in rows]

    async def pending_reminders_for(self, incident_ids: list[int]) -> dict[int, list[Reminder]]:
        """The pending reminders of these incidents, by incident (the board's late steps)."""
        found: dict[int, list[Reminder]] = {i: [] for i in incident_ids}
        for start in range(0, len(incident_ids), 500):  # SQLite's bound-parameter budget
            chunk = incident_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await fetch_all(
                self.db,
                f"SELECT {_COLUMNS} FROM reminders "
                f"WHERE incident_id IN ({marks}) AND state = {_PENDING}",
                tuple(chunk),
            )
            for row in rows:
                reminder = _reminder(row)
                found[row["incident_id"]].append(reminder)
        return found

    async def pending_and_done_reminders_of(
        self, incident_id: int
    ) -> tuple[list[Reminder], list[Reminder]]:
        """The incident's pending reminders, and those that have run their course (fired and
        done), in one query; each half is served by its own partial index."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {_COLUMNS} FROM reminders WHERE incident_id = ? AND state = {_PENDING}
            UNION ALL
            SELECT {_COLUMNS} FROM reminders WHERE incident_id = ? AND state = {_DONE}
            """,
            (incident_id, incident_id),
        )
        reminders = [_reminder(row) for row in rows]
        return (
            [r for r in reminders if r.state is ReminderState.PENDING],
            [r for r in reminders if r.state is ReminderState.DONE],
        )

    async def cancel_reminder(self, reminder_id: int) -> None:
        await self.db.execute(
            "UPDATE reminders SET state = ? WHERE id = ? AND state = ?",
            (ReminderState.CANCELLED.value, reminder_id, ReminderState.PENDING.value),
        )

    async def reminder(self, reminder_id: int) -> Reminder | None:
        row = await fetch_one(
            self.db, f"SELECT {_COLUMNS} FROM reminders WHERE id = ?", (reminder_id,)
        )
        return None if row is None else _reminder(row)

    async def due_reminders(self, now: datetime, limit: int) -> list[Reminder]:
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {_COLUMNS} FROM reminders
            WHERE state = {_PENDING} AND due_at <= ? ORDER BY due_at LIMIT ?
            """,
            (to_db_time(now), limit),
        )
        return [_reminder(row) for row in rows]

    async def pending_schedule(self, until: datetime) -> list[tuple[int, datetime]]:
        """(id, due) of every pending reminder due by `until`, soonest first: the scheduler's
        jobs are made from these."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT id, due_at FROM reminders WHERE state = {_PENDING} AND due_at <= ?
            ORDER BY due_at
            """,
            (to_db_time(until),),
        )
        return [(row["id"], from_db_time(row["due_at"])) for row in rows]

    async def record_firing(
        self, reminder: Reminder, next_due: datetime | None, now: datetime
    ) -> bool:
        """Count a firing: due again at `next_due`, or done. False when someone else fired it."""
        state = ReminderState.PENDING if next_due is not None else ReminderState.DONE
        cursor = await self.db.execute(
            """
            UPDATE reminders SET attempt = attempt + 1, due_at = ?, state = ?, fired_at = ?
            WHERE id = ? AND state = ? AND attempt = ?
            """,
            (
                to_db_time(next_due or reminder.due_at),
                state.value,
                to_db_time(now),
                reminder.id,
                ReminderState.PENDING.value,
                reminder.attempt,
            ),
        )
        if cursor.rowcount == 1 and next_due is not None:
            self.scheduled_reminders.append((reminder.id, next_due))
        return cursor.rowcount == 1

    async def oldest_overdue(self, before: datetime) -> tuple[int, datetime | None]:
        """How many pending reminders were due before `before`, and the oldest due time."""
        row = await fetch_one(
            self.db,
            "SELECT COUNT(*) AS n, MIN(due_at) AS oldest FROM reminders "
            f"WHERE state = {_PENDING} AND due_at < ?",
            (to_db_time(before),),
        )
        if row is None or not row["n"]:
            return 0, None
        return int(row["n"]), from_db_time(row["oldest"])
