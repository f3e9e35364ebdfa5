"""The figures of the coordinators' digest, computed from plain rows of one period.

Pure: the store hands over rows (`PeriodRows`), `compute_digest` turns them into a `Digest`, and
the renderer shows it. No I/O, so the figures are checked against hand-computed fixtures.

What counts, and why:

* **Incidents of the period** are those *created* in [start, end). Their response times belong
  to that period even when the acknowledgement comes later, so a call reported at 23:50 and
  acknowledged at 00:20 counts once, in the day it was reported — and a call from before the
  period that is acknowledged during it does not count here (it was, as unacknowledged, part of
  its own day's figures).
* **Duplicates** (incidents merged into another) are left out of the counts and times — they are
  the same emergency reported twice — and reported as a number of their own. Cancelled incidents
  (false alarms, handled elsewhere) stay in: agencies still had to respond to them.
* **Time to acknowledge** runs from the incident's creation to the moment the agency owned the
  call: its response's `acknowledged_at`, or its first acknowledgement event if earlier.
  Acknowledgements a coordinator made on the agency's behalf count (someone owned the call), and
  are also counted separately so a coordinator sees how often that was needed.
* **Time to on scene** runs from creation to the agency's first ON_SCENE event.
* **Escalated** incidents are those with an ESCALATED event inside the period, whenever created.
* **Still open** are incidents open at the period's end, decided from the lifecycle events
  (resolve, cancel, merge, reopen) before the end, so a later reopening does not rewrite history.

Percentiles interpolate linearly between the closest ranks (the "inclusive" method, numpy's
default), so the 50th percentile is the ordinary median.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from models.incident_types import IncidentType
from models.incidents import EventKind, Lifecycle

ACKNOWLEDGE_KINDS = frozenset({EventKind.ACKNOWLEDGED, EventKind.ACKNOWLEDGED_ON_BEHALF})
CLOSING_KINDS = frozenset({EventKind.RESOLVED, EventKind.CANCELLED, EventKind.MERGED})
# The event kinds the digest reads; the store fetches only these.
DIGEST_EVENT_KINDS: tuple[str, ...] = tuple(
    kind.value
    for kind in (
        *sorted(ACKNOWLEDGE_KINDS),
        EventKind.ON_SCENE,
        EventKind.ESCALATED,
        *sorted(CLOSING_KINDS),
        EventKind.REOPENED,
    )
)


# --- percentiles ---


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation between closest ranks; None if empty.

    With the values sorted as x[0] ≤ … ≤ x[n-1], the rank is h = (n - 1)·q/100 and the result
    x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]). q = 0 is the minimum, q = 100 the maximum.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    fraction = rank - low
    return ordered[low] + fraction * (ordered[high] - ordered[low])


def median(values: Iterable[float]) -> float | None:
    return percentile(values, 50)


# --- the rows the store hands over ---


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """An incident that was open at some moment of the period (or created in it)."""

    id: int
    type: IncidentType
    created_at: datetime
    lifecycle: Lifecycle  # as it is now
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """One agency's response to one incident: the incident was routed to the agency."""

    incident_id: int
    agency_id: int
    acknowledged_at: datetime | None
    on_behalf: bool


@dataclass(frozen=True, slots=True)
class EventRow:
    incident_id: int
    kind: str
    agency_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AgencyRow:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PeriodRows:
    incidents: Sequence[IncidentRow]
    responses: Sequence[ResponseRow]
    events: Sequence[EventRow]
    agencies: Sequence[AgencyRow]


# --- the figures ---


@dataclass(frozen=True, slots=True)
class AgencyFigures:
    agency_id: int
    code: str
    name: str
    routed: int  # incidents of the period routed to the agency
    acknowledged: int
    acknowledged_on_behalf: int  # of `acknowledged`, by a coordinator for the agency
    on_scene: int
    acknowledge_median: float | None  # seconds
    acknowledge_p90: float | None
    on_scene_median: float | None
    on_scene_p90: float | None

    @property
    def unacknowledged(self) -> int:
        return self.routed - self.acknowledged


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    type: IncidentType
    created_at: datetime
    closed_since: bool  # open at the period's end, closed by now


@dataclass(frozen=True, slots=True)
class Digest:
    start: datetime
    end: datetime
    as_of: datetime  # when the figures were taken; ages of open incidents run to here
    total: int  # incidents of the period, duplicates left out
    duplicates: int  # merged into another incident
    unrouted: int  # no agency was registered for the type
    by_type: tuple[tuple[IncidentType, int], ...]  # most frequent first
    agencies: tuple[AgencyFigures, ...]  # most incidents routed first
    escalated: tuple[int, ...]  # incident ids, ascending
    still_open: tuple[OpenIncident, ...]  # oldest first
    created: tuple[datetime, ...]  # creation times of the period's incidents, for the chart

    @property
    def is_empty(self) -> bool:
        return self.total == 0 and not self.escalated and not self.still_open


def _seconds(since: datetime, until: datetime) -> float:
    # A clock step between two writers must not make a negative delay.
    return max(0.0, (until - since).total_seconds())


def _is_lifecycle_event(event: EventRow) -> bool:
    # An agency reopening its own line carries the agency's id; the incident's reopening does not.
    return event.kind in CLOSING_KINDS or (
        event.kind == EventKind.REOPENED and event.agency_id is None
    )


def _open_at(incident: IncidentRow, events: Sequence[EventRow], end: datetime) -> bool:
    """Whether the incident was open at `end`: the last lifecycle event before it decides."""
    if incident.created_at >= end:
        return False
    changes = [e for e in events if _is_lifecycle_event(e)]
    if not changes:
        # Never closed, or closed without a timeline entry: the incident's own columns tell.
        closed_at = incident.closed_at
        return not incident.lifecycle.closed or closed_at is None or closed_at >= end
    open_ = True
    for event in sorted(changes, key=lambda e: e.at):  # stable: same instant keeps store order
        if event.at >= end:
            break
        open_ = event.kind == EventKind.REOPENED
    return open_


def compute_digest(
    rows: PeriodRows, start: datetime, end: datetime, *, as_of: datetime | None = None
) -> Digest:
    """The digest of [start, end) from the rows; `as_of` (default `end`) dates the ages."""
    events_by_incident: dict[int, list[EventRow]] = {}
    for event in rows.events:
        events_by_incident.setdefault(event.incident_id, []).append(event)

    in_period = [i for i in rows.incidents if start <= i.created_at < end]
    counted = {i.id: i for i in in_period if i.lifecycle is not Lifecycle.MERGED}
    duplicates = len(in_period) - len(counted)

    responses_by_agency: dict[int, list[ResponseRow]] = {}
    routed_incidents: set[int] = set()
    for response in rows.responses:
        if response.incident_id in counted:
            responses_by_agency.setdefault(response.agency_id, []).append(response)
            routed_incidents.add(response.incident_id)

    names = {agency.id: agency for agency in rows.agencies}
    agencies: list[AgencyFigures] = []
    for agency_id, responses in responses_by_agency.items():
        to_acknowledge: list[float] = []
        to_scene: list[float] = []
        on_behalf = 0
        for response in responses:
            created = counted[response.incident_id].created_at
            own = [
                e
                for e in events_by_incident.get(response.incident_id, ())
                if e.agency_id == agency_id
            ]
            acks = sorted((e for e in own if e.kind in ACKNOWLEDGE_KINDS), key=lambda e: e.at)
            moments = [e.at for e in acks[:1]]
            if response.acknowledged_at is not None:
                moments.append(response.acknowledged_at)
            if moments:
                to_acknowledge.append(_seconds(created, min(moments)))
                by_coordinator = bool(acks) and acks[0].kind == EventKind.ACKNOWLEDGED_ON_BEHALF
                if response.on_behalf or by_coordinator:
                    on_behalf += 1
            arrivals = [e.at for e in own if e.kind == EventKind.ON_SCENE]
            if arrivals:
                to_scene.append(_seconds(created, min(arrivals)))
        agency = names.get(agency_id)
        agencies.append(
            AgencyFigures(
                agency_id=agency_id,
                code=agency.code if agency else f"#{agency_id}",
                name=agency.name if agency else f"#{agency_id}",
                routed=len(responses),
                acknowledged=len(to_acknowledge),
                acknowledged_on_behalf=on_behalf,
                on_scene=len(to_scene),
                acknowledge_median=median(to_acknowledge),
                acknowledge_p90=percentile(to_acknowledge, 90),
                on_scene_median=median(to_scene),
                on_scene_p90=percentile(to_scene, 90),
            )
        )
    agencies.sort(key=lambda a: (-a.routed, a.code))

    types = Counter(i.type for i in counted.values())
    type_order = list(IncidentType)
    by_type = tuple(sorted(types.items(), key=lambda kv: (-kv[1], type_order.index(kv[0]))))

    escalated = sorted(
        {
            e.incident_id
            for e in rows.events
            if e.kind == EventKind.ESCALATED and start <= e.at < end
        }
    )

    still_open = [
        OpenIncident(i.id, i.type, i.created_at, closed_since=i.lifecycle.closed)
        for i in rows.incidents
        if _open_at(i, events_by_incident.get(i.id, []), end)
    ]
    still_open.sort(key=lambda o: (o.created_at, o.id))

    return Digest(
        start=start,
        end=end,
        as_of=as_of or end,
        total=len(counted),
        duplicates=duplicates,
        unrouted=len(counted) - len(routed_incidents),
        by_type=by_type,
        agencies=tuple(agencies),
        escalated=tuple(escalated),
        still_open=tuple(still_open),
        created=tuple(sorted(i.created_at for i in counted.values())),
    )
