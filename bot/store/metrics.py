"""SQL of the `/metrics` snapshot: counts and response-time histograms, aggregated in SQLite so
that a scrape reads a handful of rows, not the history. Drills are left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.store.codec import maybe_time
from bot.store.rows import NamedRow, fetch_all, fetch_one
from models.incidents import EventKind, Lifecycle, ResponseStatus

# Upper bounds (seconds) of the response-time histograms: half a minute to an hour.
BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)

_OPEN = f"'{Lifecycle.OPEN.value}'"
_WAITING = f"'{ResponseStatus.WAITING.value}'"
_ON_SCENE = f"'{EventKind.ON_SCENE.value}'"
_REMINDED = f"'{EventKind.REMINDED.value}'"
_ESCALATED = f"'{EventKind.ESCALATED.value}'"


@dataclass(frozen=True, slots=True)
class Histogram:
    """Cumulative counts per upper bound of `BUCKETS`, then all of them, and their sum."""

    buckets: tuple[int, ...]
    count: int
    total: float


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    incidents: dict[tuple[str, str], int]  # (lifecycle, type) → count
    to_acknowledge: dict[str, Histogram]  # agency code → seconds from report to acknowledgement
    to_on_scene: dict[str, Histogram]  # agency code → seconds from report to on scene
    reminders: int
    escalations: int
    oldest_unacknowledged: datetime | None  # the report time of the oldest call still waiting
    drafts: dict[str, int]  # conversation kind → open drafts


def _histogram_sql(seconds: str) -> str:
    parts = [f"SUM(CASE WHEN {seconds} <= {bound} THEN 1 ELSE 0 END) AS b{i}"
             for i, bound in enumerate(BUCKETS)]  # fmt: skip
    return ", ".join([*parts, "COUNT(*) AS n", f"TOTAL({seconds}) AS total"])


def _histogram(row: NamedRow) -> Histogram:
    return Histogram(
        tuple(int(row[f"b{i}"] or 0) for i in range(len(BUCKETS))),
        int(row["n"]),
        float(row["total"] or 0.0),
    )


class MetricsQueries:
    db: aiosqlite.Connection

    async def metrics_snapshot(self) -> MetricsSnapshot:
        incidents = await fetch_all(
            self.db,
            "SELECT lifecycle, type, COUNT(*) AS n FROM incidents WHERE drill_id IS NULL "
            "GROUP BY lifecycle, type",
        )
        # julianday is a float of days: rounded to the millisecond, a 300 s wait is 300 s.
        ack_seconds = "ROUND((julianday(r.acknowledged_at) - julianday(i.created_at)) * 86400, 3)"
        acks = await fetch_all(
            self.db,
            f"""
            SELECT a.code AS code, {_histogram_sql(ack_seconds)}
            FROM responses r JOIN incidents i ON i.id = r.incident_id
                             JOIN agencies a ON a.id = r.agency_id
            WHERE r.acknowledged_at IS NOT NULL AND i.drill_id IS NULL
            GROUP BY a.code
            """,
        )
        scene_seconds = "ROUND((julianday(s.at) - julianday(i.created_at)) * 86400, 3)"
        scenes = await fetch_all(
            self.db,
            f"""
            SELECT a.code AS code, {_histogram_sql(scene_seconds)}
            FROM (SELECT incident_id, agency_id, MIN(at) AS at FROM incident_events
                  WHERE kind = {_ON_SCENE} AND agency_id IS NOT NULL
                  GROUP BY incident_id, agency_id) s
                 JOIN incidents i ON i.id = s.incident_id
                 JOIN agencies a ON a.id = s.agency_id
            WHERE i.drill_id IS NULL
            GROUP BY a.code
            """,
        )
        fired = await fetch_one(
            self.db,
            f"""
            SELECT SUM(CASE WHEN e.kind = {_REMINDED} THEN 1 ELSE 0 END) AS reminders,
                   SUM(CASE WHEN e.kind = {_ESCALATED} THEN 1 ELSE 0 END) AS escalations
            FROM incident_events e JOIN incidents i ON i.id = e.incident_id
            WHERE e.kind IN ({_REMINDED}, {_ESCALATED}) AND i.drill_id IS NULL
            """,
        )
        oldest = await fetch_one(
            self.db,
            f"""
            SELECT MIN(i.created_at) AS at FROM incidents i
            WHERE i.lifecycle = {_OPEN} AND i.drill_id IS NULL
              AND EXISTS (SELECT 1 FROM responses r
                          WHERE r.incident_id = i.id AND r.status = {_WAITING})
            """,
        )
        drafts = await fetch_all(
            self.db, "SELECT kind, COUNT(*) AS n FROM conversations GROUP BY kind"
        )
        return MetricsSnapshot(
            incidents={(row["lifecycle"], row["type"]): int(row["n"]) for row in incidents},
            to_acknowledge={row["code"]: _histogram(row) for row in acks},
            to_on_scene={row["code"]: _histogram(row) for row in scenes},
            reminders=int((fired or {"reminders": 0})["reminders"] or 0),
            escalations=int((fired or {"escalations": 0})["escalations"] or 0),
            oldest_unacknowledged=maybe_time(oldest["at"]) if oldest is not None else None,
            drafts={row["kind"]: int(row["n"]) for row in drafts},
        )
