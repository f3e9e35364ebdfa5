"""SQL of the digest and `/statistik`: the plain rows of one period, for `models.digest`.

The period's rows are the incidents *active* in [start, end) — created before its end and not
closed before its start — because that one set holds the incidents created in the period, the
ones escalated during it and the ones still open at its end. Their events come through the
`incident_events_incident` index and their responses through the responses' primary key; open
incidents through the partial `incidents_open` index. Closed incidents are found by a scan of
`incidents` (there is no index on `closed_at`), which is cheap at one city's volume and runs a
few times a day.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, maybe_time, to_db_time
from bot.store.rows import fetch_all
from models.digest import (
    DIGEST_EVENT_KINDS,
    AgencyRow,
    EventRow,
    IncidentRow,
    PeriodRows,
    ResponseRow,
)
from models.incident_types import IncidentType
from models.incidents import Lifecycle

# Incidents open at some moment of [start, end): open now, or closed at or after the start.
# Drills are left out: they have a review of their own (`/latihan hasil`).
# Parameters: end, end, start. Open incidents have no closed_at (set_lifecycle clears it).
# `lifecycle = 'terbuka'` is written into the text, as the partial index incidents_open spells
# it, so that the first half is planned with that index; the second half is its complement.
_OPEN = f"'{Lifecycle.OPEN.value}'"
_ACTIVE = f"""
    SELECT id FROM incidents WHERE lifecycle = {_OPEN} AND created_at < ? AND drill_id IS NULL
    UNION ALL
    SELECT id FROM incidents WHERE lifecycle <> {_OPEN} AND created_at < ? AND closed_at >= ?
      AND drill_id IS NULL
"""


def _active_params(start: datetime, end: datetime) -> tuple[str, str, str]:
    return to_db_time(end), to_db_time(end), to_db_time(start)


class StatsQueries:
    db: aiosqlite.Connection

    async def incidents_reported(
        self, start: datetime, end: datetime, *, drills: bool = False
    ) -> list[int]:
        """The incidents reported in [start, end), by number; drills only when asked."""
        drill = "" if drills else " AND drill_id IS NULL"
        rows = await fetch_all(
            self.db,
            f"SELECT id FROM incidents WHERE created_at >= ? AND created_at < ?{drill} ORDER BY id",
            (to_db_time(start), to_db_time(end)),
        )
        return [int(row["id"]) for row in rows]

    async def period_rows(self, start: datetime, end: datetime) -> PeriodRows:
        """Everything `models.digest.compute_digest` needs for [start, end)."""
        return PeriodRows(
            incidents=await self.active_incidents(start, end),
            responses=await self.period_responses(start, end),
            events=await self.active_incident_events(start, end),
            agencies=await self.agency_names(),
        )

    async def active_incidents(self, start: datetime, end: datetime) -> list[IncidentRow]:
        """Incidents created before `end` that were not closed before `start`, oldest first."""
        async with self.db.execute(
            f"""
            SELECT i.id, i.type, i.created_at, i.lifecycle, i.closed_at
            FROM incidents i WHERE i.id IN ({_ACTIVE})
            ORDER BY i.created_at, i.id
            """,
            _active_params(start, end),
        ) as cursor:
            return [
                IncidentRow(
                    id=row["id"],
                    type=IncidentType(row["type"]),
                    created_at=from_db_time(row["created_at"]),
                    lifecycle=Lifecycle(row["lifecycle"]),
                    closed_at=maybe_time(row["closed_at"]),
                )
                async for row in cursor
            ]

    async def period_responses(self, start: datetime, end: datetime) -> list[ResponseRow]:
        """Each agency's response to the incidents created in [start, end)."""
        async with self.db.execute(
            """
            SELECT r.incident_id, r.agency_id, r.acknowledged_at, r.on_behalf
            FROM incidents i JOIN responses r ON r.incident_id = i.id
            WHERE i.created_at >= ? AND i.created_at < ? AND i.drill_id IS NULL
            ORDER BY r.incident_id, r.agency_id
            """,
            (to_db_time(start), to_db_time(end)),
        ) as cursor:
            return [
                ResponseRow(
                    incident_id=row["incident_id"],
                    agency_id=row["agency_id"],
                    acknowledged_at=maybe_time(row["acknowledged_at"]),
                    on_behalf=bool(row["on_behalf"]),
                )
                async for row in cursor
            ]

    async def active_incident_events(self, start: datetime, end: datetime) -> list[EventRow]:
        """The events the digest reads (acknowledgements, arrivals, escalations, closing and
        reopening) of the incidents active in [start, end), in the order they were written."""
        kinds = ", ".join("?" for _ in DIGEST_EVENT_KINDS)
        async with self.db.execute(
            f"""
            SELECT e.incident_id, e.kind, e.agency_id, e.at
            FROM incident_events e
            WHERE e.incident_id IN ({_ACTIVE}) AND e.kind IN ({kinds})
            ORDER BY e.incident_id, e.id
            """,
            (*_active_params(start, end), *DIGEST_EVENT_KINDS),
        ) as cursor:
            return [
                EventRow(
                    incident_id=row["incident_id"],
                    kind=row["kind"],
                    agency_id=row["agency_id"],
                    at=from_db_time(row["at"]),
                )
                async for row in cursor
            ]

    async def agency_names(self) -> list[AgencyRow]:
        """Every agency ever registered: old incidents may name one that is inactive now."""
        async with self.db.execute("SELECT id, code, name FROM agencies ORDER BY code") as cursor:
            return [
                AgencyRow(id=row["id"], code=row["code"], name=row["name"]) async for row in cursor
            ]
