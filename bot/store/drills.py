"""SQL of drills (`drills`, `drill_reports`) and of what their after-action review reads."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.store.codec import from_db_time, from_json, maybe_time, to_db_time, to_json
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.drills import Drill, ReviewEvent
from models.incidents import Lifecycle

_DRILL_COLUMNS = "id, scenario, agencies, started_by, started_at, ended_at, ended_by"


def _drill(row: NamedRow) -> Drill:
    return Drill(
        id=row["id"],
        scenario=row["scenario"],
        agencies=tuple(from_json(row["agencies"])),
        started_by=row["started_by"],
        started_at=from_db_time(row["started_at"]),
        ended_at=maybe_time(row["ended_at"]),
        ended_by=row["ended_by"],
    )


class DrillQueries:
    db: aiosqlite.Connection

    async def create_drill(
        self, scenario: str, agencies: list[str], by_user: int, now: datetime
    ) -> int:
        cursor = await self.db.execute(
            "INSERT INTO drills (scenario, agencies, started_by, started_at) VALUES (?, ?, ?, ?)",
            (scenario, to_json(agencies), by_user, to_db_time(now)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def add_drill_report(self, drill_id: int, position: int, due: datetime) -> None:
        await self.db.execute(
            "INSERT INTO drill_reports (drill_id, position, due_at) VALUES (?, ?, ?)",
            (drill_id, position, to_db_time(due)),
        )

    async def due_drill_reports(self, now: datetime) -> list[tuple[int, int]]:
        """(drill, position) of the scripted reports due and not yet filed, of running drills."""
        rows = await fetch_all(
            self.db,
            """
            SELECT r.drill_id, r.position FROM drill_reports r JOIN drills d ON d.id = r.drill_id
            WHERE r.incident_id IS NULL AND r.due_at <= ? AND d.ended_at IS NULL
            ORDER BY r.due_at, r.drill_id, r.position
            """,
            (to_db_time(now),),
        )
        return [(row["drill_id"], row["position"]) for row in rows]

    async def filed_drill_report(self, drill_id: int, position: int, incident_id: int) -> bool:
        """Record the incident a scripted report became; False when it was filed already."""
        cursor = await self.db.execute(
            """
            UPDATE drill_reports SET incident_id = ?
            WHERE drill_id = ? AND position = ? AND incident_id IS NULL
            """,
            (incident_id, drill_id, position),
        )
        return cursor.rowcount == 1

    async def drill(self, drill_id: int) -> Drill | None:
        row = await fetch_one(
            self.db, f"SELECT {_DRILL_COLUMNS} FROM drills WHERE id = ?", (drill_id,)
        )
        return None if row is None else _drill(row)

    async def running_drills(self) -> list[Drill]:
        rows = await fetch_all(
            self.db,
            f"SELECT {_DRILL_COLUMNS} FROM drills WHERE ended_at IS NULL ORDER BY started_at",
        )
        return [_drill(row) for row in rows]

    async def past_drills(self, limit: int) -> list[Drill]:
        rows = await fetch_all(
            self.db,
            f"""
            SELECT {_DRILL_COLUMNS} FROM drills WHERE ended_at IS NOT NULL
            ORDER BY ended_at DESC, id DESC LIMIT ?
            """,
            (limit,),
        )
        return [_drill(row) for row in rows]

    async def end_drill(self, drill_id: int, by_user: int | None, now: datetime) -> bool:
        """End a running drill; False when it had ended already."""
        cursor = await self.db.execute(
            "UPDATE drills SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL",
            (to_db_time(now), by_user, drill_id),
        )
        return cursor.rowcount == 1

    async def drill_waiting(self, drill_id: int) -> int:
        """Scripted reports of the drill not yet filed."""
        row = await fetch_one(
            self.db,
            "SELECT COUNT(*) AS n FROM drill_reports WHERE drill_id = ? AND incident_id IS NULL",
            (drill_id,),
        )
        return int(row["n"]) if row is not None else 0

    async def drill_incidents(self, drill_id: int) -> list[tuple[int, datetime, bool]]:
        """(incident, reported at, still open) of each incident of the drill."""
        rows = await fetch_all(
            self.db,
            """
            SELECT id, created_at, lifecycle = ? AS open FROM incidents
            WHERE drill_id = ? ORDER BY id
            """,
            (Lifecycle.OPEN.value, drill_id),
        )
        return [(row["id"], from_db_time(row["created_at"]), bool(row["open"])) for row in rows]

    async def drill_responses(self, drill_id: int) -> dict[tuple[int, int], str]:
        """(incident, agency) → agency name, for every agency routed to the drill's incidents."""
        rows = await fetch_all(
            self.db,
            """
            SELECT r.incident_id, r.agency_id, a.name FROM responses r
            JOIN incidents i ON i.id = r.incident_id JOIN agencies a ON a.id = r.agency_id
            WHERE i.drill_id = ?
            """,
            (drill_id,),
        )
        return {(row["incident_id"], row["agency_id"]): row["name"] for row in rows}

    async def drill_events(self, drill_id: int) -> list[ReviewEvent]:
        """The timeline of the drill's incidents, with who did each thing."""
        rows = await fetch_all(
            self.db,
            """
            SELECT e.incident_id, e.kind, e.agency_id, e.at,
                   TRIM(COALESCE(u.first_name, '') || ' ' || COALESCE(u.last_name, '')) AS actor
            FROM incident_events e JOIN incidents i ON i.id = e.incident_id
            LEFT JOIN users u ON u.id = e.actor_id
            WHERE i.drill_id = ? ORDER BY e.id
            """,
            (drill_id,),
        )
        return [
            ReviewEvent(
                row["incident_id"],
                row["kind"],
                row["agency_id"],
                from_db_time(row["at"]),
                row["actor"] or None,
            )
            for row in rows
        ]
