"""The evaluation meeting's export, as data: one row per incident and per agency response, with
the times of each step and the minutes between them, and the summaries per agency and month
and per kecamatan. Pure: the service reads the incidents, `bot.services.exports` writes the
CSV or XLSX.

Percentiles are by nearest rank (the 90th of 10 values is the 9th smallest); a summary of no
value is blank."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.areas import KECAMATAN, locate
from models.incidents import EventKind, IncidentView, Lifecycle, TimelineEvent

# The first event of these kinds, for one agency, marks each step.
STEPS: dict[str, frozenset[str]] = {
    "acknowledged": frozenset({EventKind.ACKNOWLEDGED, EventKind.ACKNOWLEDGED_ON_BEHALF}),
    "assigned": frozenset({EventKind.ASSIGNED, EventKind.TOOK_TASK}),
    "en_route": frozenset({EventKind.EN_ROUTE}),
    "on_scene": frozenset({EventKind.ON_SCENE}),
    "done": frozenset({EventKind.AGENCY_RESOLVED, EventKind.DONE}),
}
# name → (from step, to step): the minutes between them; "reported" is the report itself.
DURATIONS: dict[str, tuple[str, str]] = {
    "report_to_ack": ("reported", "acknowledged"),
    "ack_to_assign": ("acknowledged", "assigned"),
    "assign_to_en_route": ("assigned", "en_route"),
    "en_route_to_on_scene": ("en_route", "on_scene"),
    "on_scene_to_done": ("on_scene", "done"),
    "report_to_on_scene": ("reported", "on_scene"),
    "report_to_done": ("reported", "done"),
}
UNKNOWN_AREA = "(tidak diketahui)"


@dataclass(frozen=True, slots=True)
class ExportRow:
    number: int
    reported_at: datetime
    type: str
    severity: str
    source: str
    lifecycle: str
    drill: bool
    location: str  # the address or venue as typed, else the pin's coordinates
    kelurahan: str | None
    kecamatan: str | None
    agency: str | None  # the agency's code (None: routed to no agency)
    agency_name: str | None
    times: dict[str, datetime | None]  # each of STEPS
    closed_at: datetime | None
    reporter: str | None  # personal data: only when asked for
    phone: str | None

    def at(self, step: str) -> datetime | None:
        return self.reported_at if step == "reported" else self.times.get(step)

    def minutes(self, name: str) -> float | None:
        start, end = DURATIONS[name]
        first, last = self.at(start), self.at(end)
        if first is None or last is None:
            return None
        return round((last - first).total_seconds() / 60, 1)


def rows_of(
    view: IncidentView, events: Sequence[TimelineEvent], *, personal_data: bool
) -> list[ExportRow]:
    """The incident's rows: one per agency it was routed to (one without an agency when it was
    routed to none)."""
    incident = view.incident
    location = incident.location
    place = location.address or (
        f"{location.latitude:.5f}, {location.longitude:.5f}" if location.has_point else ""
    )
    area = locate(location.address)
    firsts: dict[tuple[str, str], datetime] = {}
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        for step, kinds in STEPS.items():
            if event.kind in kinds and event.agency_code is not None:
                firsts.setdefault((event.agency_code, step), event.at)
    agencies: list[tuple[str | None, str | None]] = [
        (r.agency_code, r.agency_name) for r in view.responses
    ] or [(None, None)]
    return [
        ExportRow(
            number=incident.id,
            reported_at=incident.created_at,
            type=incident.type.value,
            severity=incident.severity.value,
            source=incident.source.value,
            lifecycle=incident.lifecycle.value,
            drill=incident.drill_id is not None,
            location=place,
            kelurahan=area.kelurahan,
            kecamatan=area.kecamatan,
            agency=code,
            agency_name=name,
            times={step: firsts.get((code, step)) if code else None for step in STEPS},
            closed_at=incident.closed_at,
            reporter=incident.reporter_name if personal_data else None,
            phone=incident.reporter_phone if personal_data else None,
        )
        for code, name in agencies
    ]


# --- summaries ---


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts and response times of a group of rows."""

    key: tuple[str, ...]
    incidents: int  # distinct incidents
    responses: int  # rows with an agency
    acknowledged: int
    done: int
    ack_median: float | None  # minutes from the report to the acknowledgement
    ack_p90: float | None
    on_scene_median: float | None  # minutes from the report to on scene
    on_scene_p90: float | None


def summarize(key: tuple[str, ...], rows: Iterable[ExportRow]) -> Summary:
    """Merged duplicates are left out, as `/statistik` leaves them out: their incident and its
    responses are counted once, on the incident they were merged into."""
    rows = [r for r in rows if r.lifecycle != Lifecycle.MERGED.value]
    acks = [m for r in rows if (m := r.minutes("report_to_ack")) is not None]
    scenes = [m for r in rows if (m := r.minutes("report_to_on_scene")) is not None]
    return Summary(
        key=key,
        incidents=len({r.number for r in rows}),
        responses=sum(1 for r in rows if r.agency is not None),
        acknowledged=len(acks),
        done=sum(1 for r in rows if r.times.get("done") is not None),
        ack_median=median(acks),
        ack_p90=percentile(acks, 90),
        on_scene_median=median(scenes),
        on_scene_p90=percentile(scenes, 90),
    )


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


def by_agency_and_month(rows: Sequence[ExportRow], zone: ZoneInfo) -> list[Summary]:
    groups: dict[tuple[str, str], list[ExportRow]] = {}
    for row in rows:
        if row.agency is not None:
            groups.setdefault((month_of(row.reported_at, zone), row.agency), []).append(row)
    return [summarize(key, groups[key]) for key in sorted(groups)]


def by_kecamatan(rows: Sequence[ExportRow]) -> list[Summary]:
    """One summary per kecamatan, in the list's order, then the rows whose place is unknown."""
    order = [*KECAMATAN, UNKNOWN_AREA]
    groups: dict[str, list[ExportRow]] = {name: [] for name in order}
    for row in rows:
        groups[row.kecamatan or UNKNOWN_AREA].append(row)
    return [summarize((name,), groups[name]) for name in order]


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days, in the configured zone, both ends included."""

    start: date
    end: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[from, to) as aware times."""
        first = datetime.combine(self.start, time(0), zone)
        last = datetime.combine(self.end + timedelta(days=1), time(0), zone)
        return first, last


DEFAULT_DAYS = 30


def period_from_args(args: Sequence[str], today: date, *, most_days: int) -> Period | None:
    """`/ekspor` (the last 30 days to today), `/ekspor 2026-01-01 2026-03-31`: None for
    anything else, an end before the start, or more than `most_days` days."""
    if not args:
        return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)
    if len(args) != 2:
        return None
    try:
        start, end = (date.fromisoformat(word.strip()) for word in args)
    except ValueError:
        return None
    if not (sensible(start) and sensible(end)):
        return None
    if end < start or (end - start).days + 1 > most_days:
        return None
    return Period(start, end)


def sensible(day: date) -> bool:
    """A date an incident can have (year 1 or 9999 would overflow the zone's arithmetic)."""
    return 2000 <= day.year <= 2100
