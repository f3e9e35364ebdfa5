"""SQL of duplicate detection: the open incidents a new report is compared with, and the hints
(`duplicate_hints`) that a report may repeat one of them."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, to_db_time
from bot.store.rows import fetch_all
from models.duplicates import HintState, Match, Report
from models.incident_types import IncidentType
from models.incidents import Lifecycle, Location

_OPEN = f"'{Lifecycle.OPEN.value}'"  # as the partial index incidents_open spells it
_HINT_OPEN = f"'{HintState.OPEN.value}'"  # as duplicate_hints_of spells it

# The open hint of an incident and the open hints pointing at it, for `incident_view` (as JSON
# from a row of `incidents i`).
SIMILAR_TO = f"""(SELECT json_object('of_id', h.of_id, 'basis', h.basis,
                                      'distance_m', h.distance_m, 'minutes', h.minutes)
                  FROM duplicate_hints h WHERE h.incident_id = i.id AND h.state = {_HINT_OPEN}
                    AND EXISTS (SELECT 1 FROM incidents o
                                WHERE o.id = h.of_id AND o.lifecycle = {_OPEN}))"""
SIMILAR = f"""(SELECT json_group_array(h.incident_id) FROM duplicate_hints h
               WHERE h.of_id = i.id AND h.state = {_HINT_OPEN}
                 AND EXISTS (SELECT 1 FROM incidents l
                             WHERE l.id = h.incident_id AND l.lifecycle = {_OPEN}))"""


class DuplicateQueries:
    db: aiosqlite.Connection

    async def duplicate_candidates(
        self, types: frozenset[IncidentType], since: datetime, exclude_id: int
    ) -> list[Report]:
        """Open incidents of `types` reported since `since`, but not those already hinted as
        repeating another (the report is compared with the first of an event), nor drills."""
        marks = ", ".join("?" for _ in types)
        rows = await fetch_all(
            self.db,
            f"""
            SELECT i.id, i.type, i.latitude, i.longitude, i.address, i.created_at
            FROM incidents i
            WHERE i.lifecycle = {_OPEN} AND i.created_at >= ? AND i.id != ?
              AND i.drill_id IS NULL
              AND i.type IN ({marks})
              AND NOT EXISTS (SELECT 1 FROM duplicate_hints h
                              WHERE h.incident_id = i.id AND h.state = {_HINT_OPEN})
            """,
            (to_db_time(since), exclude_id, *(kind.value for kind in types)),
        )
        return [
            Report(
                row["id"],
                IncidentType(row["type"]),
                Location(row["latitude"], row["longitude"], row["address"]),
                from_db_time(row["created_at"]),
            )
            for row in rows
        ]

    async def add_duplicate_hint(self, incident_id: int, match: Match, now: datetime) -> None:
        await self.db.execute(
            """
            INSERT INTO duplicate_hints (incident_id, of_id, basis, score, distance_m, minutes,
                                         state, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (incident_id) DO NOTHING
            """,
            (
                incident_id,
                match.of_id,
                match.basis.value,
                match.score,
                match.distance_m,
                match.minutes,
                HintState.OPEN.value,
                to_db_time(now),
            ),
        )

    async def decide_duplicate_hint(
        self, incident_id: int, of_id: int, state: HintState, by_user: int | None, now: datetime
    ) -> bool:
        """Close the open hint that `incident_id` repeats `of_id`; False when there is none (it
        was decided already, or names another incident)."""
        cursor = await self.db.execute(
            f"""
            UPDATE duplicate_hints SET state = ?, decided_by = ?, decided_at = ?
            WHERE incident_id = ? AND of_id = ? AND state = {_HINT_OPEN}
            """,
            (state.value, by_user, to_db_time(now), incident_id, of_id),
        )
        return cursor.rowcount == 1

    async def hints_merged_away(self, duplicate_id: int, into_id: int, now: datetime) -> list[int]:
        """`duplicate_id` was merged into `into_id`: its own hint is settled, and the reports
        hinted as repeating it now point at `into_id`. Returns those reports."""
        await self.db.execute(
            f"""
            UPDATE duplicate_hints SET state = ?, decided_at = ?
            WHERE state = {_HINT_OPEN}
              AND (incident_id = ? OR (incident_id = ? AND of_id = ?))
            """,
            (HintState.MERGED.value, to_db_time(now), duplicate_id, into_id, duplicate_id),
        )
        rows = await fetch_all(
            self.db,
            f"""
            UPDATE duplicate_hints SET of_id = ?
            WHERE of_id = ? AND incident_id != ? AND state = {_HINT_OPEN}
            RETURNING incident_id
            """,
            (into_id, duplicate_id, into_id),
        )
        return [row["incident_id"] for row in rows]
