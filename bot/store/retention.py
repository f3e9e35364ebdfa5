"""SQL of retention (`bot.services.retention`): what is kept no longer than its purpose needs.

Two sweeps, each over a window of row ids at a time so that no transaction holds the writer for
long on a big file:

* the outbox: a message that was sent (or made moot) is reduced, after its days, to its
  message reference — its row goes, with the text, keyboard and media it carried; the name it
  was sent under stays in `message_refs` (chat and Telegram's message id), and what the message
  shows stays in `bot_messages` (digests and button data, its forum topic), so a press on it is
  still checked and a card can still be edited or posted again in its topic. Rows about an open
  incident keep everything, a broadcast's copies stay (its receipts count them), and rows still
  waiting or parked (an operator may send them again) are not touched;
* closed incidents: after their days, the reporter's identity and contact (their Telegram id,
  phone, a 112 caller's name, the people who joined as reporters) are erased from the incident,
  its timeline and its information; what happened, where and when stays for the statistics;
* people who only ever reported and were not seen for as long: their name, username and phone.

Reclaiming the freed pages (incremental vacuum) is `Store.reclaim`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import to_db_time, to_json
from bot.store.info import _REPORTERS_OWN
from bot.store.rows import fetch_all, fetch_one
from models.incidents import EventKind, Lifecycle
from models.outbox import OutboxStatus
from models.reminders import ReminderState

_DONE = ", ".join(f"'{status.value}'" for status in (OutboxStatus.SENT, OutboxStatus.DROPPED))
_OPEN = f"'{Lifecycle.OPEN.value}'"
_PENDING_REMINDER = f"'{ReminderState.PENDING.value}'"
# The timeline's events a reporter is the actor of as a reporter (not as a responder).
_REPORTERS_EVENTS = ", ".join(
    f"'{kind.value}'"
    for kind in (EventKind.REPORTED, EventKind.ANSWERED, EventKind.ADDED, EventKind.CALLER_JOINED)
)


@dataclass(frozen=True, slots=True)
class OutboxWindow:
    dropped: int  # rows dropped in the window
    last: bool  # the window reached rows newer than the cut-off (or the end): stop here


@dataclass(frozen=True, slots=True)
class ReporterTrace:
    """A closed incident whose reporter's data is due for erasure: who reported it, and the
    contact written on the incident itself."""

    incident_id: int
    people: tuple[int, ...]  # the reporter and whoever joined as one
    contact: tuple[str, ...]  # the phone on the report, a 112 caller's name


class RetentionQueries:
    db: aiosqlite.Connection

    async def outbox_id_range(self) -> tuple[int, int]:
        row = await fetch_one(
            self.db, "SELECT COALESCE(MIN(id), 0) AS low, COALESCE(MAX(id), 0) AS high FROM outbox"
        )
        return (0, 0) if row is None else (int(row["low"]), int(row["high"]))

    async def drop_sent_outbox(self, first: int, last: int, before: datetime) -> OutboxWindow:
        """Drop the rows with ids in [first, last] written before `before` that were sent or
        made moot, unless they are about an open incident or a broadcast's copies."""
        cut = to_db_time(before)
        newer = await fetch_one(
            self.db,
            "SELECT 1 AS found FROM outbox WHERE id BETWEEN ? AND ? AND created_at >= ? LIMIT 1",
            (first, last, cut),
        )
        await self.db.execute(
            f"""
            WITH kept (ref) AS (  -- computed once per window, not per row
                SELECT p.ref FROM incident_posts p JOIN incidents i ON i.id = p.incident_id
                 WHERE i.lifecycle = {_OPEN})
            DELETE FROM outbox AS o
            WHERE o.id BETWEEN ? AND ? AND o.created_at < ? AND o.status IN ({_DONE})
              AND (o.ref IS NULL OR o.ref NOT IN kept)
              AND (o.target_ref IS NULL OR o.target_ref NOT IN kept)
              AND o.id NOT IN (
                  SELECT outbox_id FROM broadcast_deliveries
                  UNION ALL SELECT photo_outbox_id FROM broadcast_deliveries
                   WHERE photo_outbox_id IS NOT NULL
                  UNION ALL SELECT location_outbox_id FROM broadcast_deliveries
                   WHERE location_outbox_id IS NOT NULL
                  UNION ALL SELECT resend_outbox_id FROM broadcast_deliveries
                   WHERE resend_outbox_id IS NOT NULL)
            """,
            (first, last, cut),
        )
        # (A statement that starts with WITH has no rowcount in Python's sqlite3.)
        changed = await fetch_one(self.db, "SELECT changes() AS n")
        return OutboxWindow(0 if changed is None else int(changed["n"]), newer is not None)

    async def incident_id_range(self) -> tuple[int, int]:
        row = await fetch_one(
            self.db,
            "SELECT COALESCE(MIN(id), 0) AS low, COALESCE(MAX(id), 0) AS high FROM incidents",
        )
        return (0, 0) if row is None else (int(row["low"]), int(row["high"]))

    async def drop_settled_reminders(self, first: int, last: int, before: datetime) -> int:
        """The fired and cancelled reminders of incidents with ids in [first, last] closed
        before `before`: they only counted an open incident's late steps (the timeline keeps
        each reminder as an event)."""
        await self.db.execute(
            f"""
            DELETE FROM reminders
            WHERE incident_id BETWEEN ? AND ? AND state != {_PENDING_REMINDER}
              AND incident_id IN (SELECT id FROM incidents
                                   WHERE id BETWEEN ? AND ? AND lifecycle != {_OPEN}
                                     AND closed_at IS NOT NULL AND closed_at < ?)
            """,
            (first, last, first, last, to_db_time(before)),
        )
        changed = await fetch_one(self.db, "SELECT changes() AS n")
        return 0 if changed is None else int(changed["n"])

    async def reporters_due(self, first: int, last: int, before: datetime) -> list[ReporterTrace]:
        """Incidents with ids in [first, last], closed before `before`, that still hold a
        reporter's identity or contact."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT i.id, i.reporter_id, i.reporter_phone, i.caller_name,
                   (SELECT json_group_array(r.user_id) FROM incident_reporters r
                     WHERE r.incident_id = i.id) AS joined
            FROM incidents i
            WHERE i.id BETWEEN ? AND ? AND i.lifecycle != {_OPEN}
              AND i.closed_at IS NOT NULL AND i.closed_at < ?
              AND (i.reporter_id IS NOT NULL OR i.reporter_phone IS NOT NULL
                   OR i.caller_name IS NOT NULL
                   OR EXISTS (SELECT 1 FROM incident_reporters r WHERE r.incident_id = i.id))
            ORDER BY i.id
            """,
            (first, last, to_db_time(before)),
        )
        traces = []
        for row in rows:
            people = [int(user) for user in json.loads(row["joined"])]
            if row["reporter_id"] is not None:
                people.insert(0, int(row["reporter_id"]))
            contact = tuple(str(w) for w in (row["reporter_phone"], row["caller_name"]) if w)
            traces.append(ReporterTrace(int(row["id"]), tuple(people), contact))
        return traces

    async def forget_absent_people(
        self, before: datetime, now: datetime, limit: int, *, keep: Iterable[int] = ()
    ) -> int:
        """People who only ever reported (no role, no agency, no open report), last seen before
        `before`, other than `keep` (the admins of the settings): their name, username and
        phone are erased (`forget_person`'s columns). They are recorded again if they come
        back. How many were forgotten."""
        rows = await fetch_all(
            self.db,
            f"""
            SELECT u.id FROM users u
            WHERE u.last_seen_at < ? AND u.forgotten_at IS NULL
              AND u.id NOT IN (SELECT value FROM json_each(?))
              AND (u.first_name IS NOT NULL OR u.last_name IS NOT NULL
                   OR u.username IS NOT NULL OR u.phone IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id)
              AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)
              AND NOT EXISTS (SELECT 1 FROM incidents i
                               WHERE i.reporter_id = u.id AND i.lifecycle = {_OPEN})
            LIMIT ?
            """,
            (to_db_time(before), to_json(sorted(keep)), limit),
        )
        people = to_json([int(row["id"]) for row in rows])
        await self.db.execute(
            """
            UPDATE users SET first_name = NULL, last_name = NULL, username = NULL, phone = NULL,
                             forgotten_at = ?
            WHERE id IN (SELECT value FROM json_each(?))
            """,
            (to_db_time(now), people),
        )
        return len(rows)

    async def erase_reporters(self, trace: ReporterTrace) -> None:
        """The reporter's identity and contact out of one closed incident (see the module)."""
        incident_id = trace.incident_id
        await self.db.execute(
            """
            UPDATE incidents
               SET reporter_id = NULL, reporter_phone = NULL, reporter_phone_source = NULL,
                   caller_name = NULL
             WHERE id = ?
            """,
            (incident_id,),
        )
        await self.db.execute(
            "DELETE FROM incident_reporters WHERE incident_id = ?", (incident_id,)
        )
        await self.db.execute(
            "UPDATE caller_links SET used_by = 0 WHERE incident_id = ? AND used_by IS NOT NULL",
            (incident_id,),
        )
        await self.db.execute(
            f"""
            UPDATE incident_info SET author_id = NULL, chat_id = NULL, message_id = NULL
             WHERE incident_id = ? AND kind IN ({_REPORTERS_OWN})
            """,
            (incident_id,),
        )
        await self.db.execute(
            f"""
            UPDATE incident_events SET actor_id = NULL
             WHERE incident_id = ? AND kind IN ({_REPORTERS_EVENTS})
               AND actor_id IN (SELECT value FROM json_each(?))
            """,
            (incident_id, to_json(list(trace.people))),
        )
