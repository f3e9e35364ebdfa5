"""Incidents: severity, who responds, and the state machines of a response, as tables.

Three machines, each a table of allowed (state, event) → state plus one pure function that
raises on an illegal move:

* the **response** of one agency to an incident: waiting → acknowledged → dispatched (a unit is
  on the way) → on scene → done;
* the **assignment** of one person of an agency: offered → accepted → en route → on scene → done
  (or declined; withdrawn when the incident closes);
* the **lifecycle** of the incident itself: open → resolved / cancelled / merged, and reopened.

The overall status people see is derived: the lifecycle when the incident is closed, otherwise
the furthest any agency has got.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from models.incident_types import IncidentType
from models.info import Info
from models.transitions import IllegalTransition as IllegalTransition


class Severity(StrEnum):
    CRITICAL = "kritis"
    HIGH = "tinggi"
    MEDIUM = "sedang"
    LOW = "rendah"

    @property
    def rank(self) -> int:
        """0 is the most severe; sorts the open list."""
        return _SEVERITY_ORDER.index(self)

    @property
    def emoji(self) -> str:
        return {"kritis": "🔴", "tinggi": "🟠", "sedang": "🟡", "rendah": "🟢"}[self.value]

    @property
    def label_key(self) -> str:
        return f"severity.{self.value}"

    @classmethod
    def parse(cls, text: str) -> Severity | None:
        word = text.strip().lower()
        english = {"critical": cls.CRITICAL, "high": cls.HIGH, "medium": cls.MEDIUM, "low": cls.LOW}
        for level in cls:
            if word == level.value:
                return level
        return english.get(word)

    def raised(self, steps: int = 1) -> Severity:
        return _SEVERITY_ORDER[max(0, self.rank - steps)]


_SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


class PhoneSource(StrEnum):
    """How the phone number on an incident was given."""

    CONTACT = "contact"  # the reporter shared their own Telegram contact: Telegram vouches for it
    TYPED = "typed"  # the reporter typed a number (theirs, or anybody's)
    CALL = "call"  # a dispatcher took it from a 112 caller


class Source(StrEnum):
    REPORT = "laporan"  # a resident or volunteer reported it in a private chat
    CALL = "telepon"  # a dispatcher entered a 112 phone call
    DRILL = "latihan"  # a drill's scripted report, from its simulated reporter
    API = "api"  # a 112 call sent by the call centre's software (`POST /api/v1/incidents`)

    @property
    def by_phone(self) -> bool:
        """A 112 phone call, entered by a dispatcher or sent by the call centre's software:
        the caller is not on Telegram, but may be given a link to follow the incident."""
        return self in (Source.CALL, Source.API)

    @property
    def label_key(self) -> str:
        return f"source.{self.value}"


class Hurt(StrEnum):
    """People hurt or trapped, as the reporter answered."""

    NONE = "tidak"
    YES = "ya"
    UNKNOWN = "tidak_tahu"

    @property
    def label_key(self) -> str:
        return f"hurt.{self.value}"


BASE_SEVERITY: dict[IncidentType, Severity] = {
    IncidentType.FIRE: Severity.HIGH,
    IncidentType.FOREST_FIRE: Severity.HIGH,
    IncidentType.MEDICAL: Severity.HIGH,
    IncidentType.TRAFFIC: Severity.HIGH,
    IncidentType.FLOOD: Severity.MEDIUM,
    IncidentType.RESCUE: Severity.HIGH,
    IncidentType.ANIMAL: Severity.MEDIUM,
    IncidentType.COLLAPSE: Severity.CRITICAL,
    IncidentType.OTHER: Severity.MEDIUM,
}

MASS_CASUALTY = 3


def initial_severity(kind: IncidentType, hurt: Hurt, hurt_count: int | None) -> Severity:
    """Severity from type and answers: people hurt raise it; many hurt make it critical."""
    severity = BASE_SEVERITY[kind]
    if hurt is Hurt.YES:
        severity = severity.raised()
        if hurt_count is not None and hurt_count >= MASS_CASUALTY:
            severity = Severity.CRITICAL
    return severity


class CancelReason(StrEnum):
    """Why a dispatcher cancels an incident; the index travels in the cancel button."""

    FALSE_ALARM = "laporan_palsu"
    HANDLED_ELSEWHERE = "sudah_ditangani"
    NOT_AN_EMERGENCY = "bukan_darurat"
    OTHER = "lainnya"

    @property
    def label_key(self) -> str:
        return f"cancel.{self.value}"


CANCEL_REASONS: tuple[CancelReason, ...] = tuple(CancelReason)


# --- the response of one agency ---


class ResponseStatus(StrEnum):
    WAITING = "menunggu"
    ACKNOWLEDGED = "diterima"
    DISPATCHED = "berangkat"
    ON_SCENE = "di_lokasi"
    DONE = "selesai"

    @property
    def progress(self) -> int:
        return list(ResponseStatus).index(self)


class ResponseEvent(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DISPATCH = "dispatch"  # a unit is on the way
    ARRIVE = "arrive"
    FINISH = "finish"
    REOPEN = "reopen"


_R, _RE = ResponseStatus, ResponseEvent
RESPONSE_TRANSITIONS: dict[tuple[ResponseStatus, ResponseEvent], ResponseStatus] = {
    (_R.WAITING, _RE.ACKNOWLEDGE): _R.ACKNOWLEDGED,
    # Progress implies acknowledgement: a crew that is already driving has owned the call.
    (_R.WAITING, _RE.DISPATCH): _R.DISPATCHED,
    (_R.WAITING, _RE.ARRIVE): _R.ON_SCENE,
    (_R.ACKNOWLEDGED, _RE.DISPATCH): _R.DISPATCHED,
    (_R.ACKNOWLEDGED, _RE.ARRIVE): _R.ON_SCENE,
    (_R.DISPATCHED, _RE.ARRIVE): _R.ON_SCENE,
    (_R.ACKNOWLEDGED, _RE.FINISH): _R.DONE,
    (_R.DISPATCHED, _RE.FINISH): _R.DONE,
    (_R.ON_SCENE, _RE.FINISH): _R.DONE,
    (_R.DONE, _RE.REOPEN): _R.ACKNOWLEDGED,
}


S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


def _move(machine: str, table: dict[tuple[S, E], S], state: S, event: E) -> S:
    """The state `event` leads to from `state`, by the machine's table; raises if none."""
    try:
        return table[(state, event)]
    except KeyError:
        raise IllegalTransition(machine, state.value, event.value) from None


def next_response(status: ResponseStatus, event: ResponseEvent) -> ResponseStatus:
    return _move("response", RESPONSE_TRANSITIONS, status, event)


# The press on Acknowledge: the one move the store makes in a single guarded UPDATE.
ACKNOWLEDGING = (
    ResponseStatus.WAITING,
    next_response(ResponseStatus.WAITING, ResponseEvent.ACKNOWLEDGE),
)


# --- the assignment of one person ---


class AssignmentStatus(StrEnum):
    OFFERED = "ditawarkan"
    ACCEPTED = "diterima"
    DECLINED = "ditolak"
    EN_ROUTE = "berangkat"
    ON_SCENE = "di_lokasi"
    DONE = "selesai"
    WITHDRAWN = "ditarik"  # the incident closed before the task was done

    @property
    def active(self) -> bool:
        return self in (
            AssignmentStatus.OFFERED,
            AssignmentStatus.ACCEPTED,
            AssignmentStatus.EN_ROUTE,
            AssignmentStatus.ON_SCENE,
        )


class AssignmentEvent(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    DEPART = "depart"
    ARRIVE = "arrive"
    FINISH = "finish"
    WITHDRAW = "withdraw"


_A, _AE = AssignmentStatus, AssignmentEvent
ASSIGNMENT_TRANSITIONS: dict[tuple[AssignmentStatus, AssignmentEvent], AssignmentStatus] = {
    (_A.OFFERED, _AE.ACCEPT): _A.ACCEPTED,
    (_A.OFFERED, _AE.DECLINE): _A.DECLINED,
    (_A.ACCEPTED, _AE.DEPART): _A.EN_ROUTE,
    (_A.ACCEPTED, _AE.ARRIVE): _A.ON_SCENE,
    (_A.EN_ROUTE, _AE.ARRIVE): _A.ON_SCENE,
    (_A.ACCEPTED, _AE.FINISH): _A.DONE,
    (_A.EN_ROUTE, _AE.FINISH): _A.DONE,
    (_A.ON_SCENE, _AE.FINISH): _A.DONE,
    (_A.OFFERED, _AE.WITHDRAW): _A.WITHDRAWN,
    (_A.ACCEPTED, _AE.WITHDRAW): _A.WITHDRAWN,
    (_A.EN_ROUTE, _AE.WITHDRAW): _A.WITHDRAWN,
    (_A.ON_SCENE, _AE.WITHDRAW): _A.WITHDRAWN,
}

# What an assignee's progress means for their agency's response.
ASSIGNMENT_DRIVES_RESPONSE: dict[AssignmentEvent, ResponseEvent] = {
    AssignmentEvent.DEPART: ResponseEvent.DISPATCH,
    AssignmentEvent.ARRIVE: ResponseEvent.ARRIVE,
    AssignmentEvent.FINISH: ResponseEvent.FINISH,
}


def next_assignment(status: AssignmentStatus, event: AssignmentEvent) -> AssignmentStatus:
    return _move("assignment", ASSIGNMENT_TRANSITIONS, status, event)


# --- the incident's lifecycle ---


class Lifecycle(StrEnum):
    OPEN = "terbuka"
    RESOLVED = "selesai"
    CANCELLED = "dibatalkan"
    MERGED = "digabung"

    @property
    def closed(self) -> bool:
        return self is not Lifecycle.OPEN


class LifecycleEvent(StrEnum):
    RESOLVE = "resolve"
    CANCEL = "cancel"
    MERGE = "merge"
    REOPEN = "reopen"


_L, _LE = Lifecycle, LifecycleEvent
LIFECYCLE_TRANSITIONS: dict[tuple[Lifecycle, LifecycleEvent], Lifecycle] = {
    (_L.OPEN, _LE.RESOLVE): _L.RESOLVED,
    (_L.OPEN, _LE.CANCEL): _L.CANCELLED,
    (_L.OPEN, _LE.MERGE): _L.MERGED,
    (_L.RESOLVED, _LE.REOPEN): _L.OPEN,
    (_L.CANCELLED, _LE.REOPEN): _L.OPEN,
}


def next_lifecycle(state: Lifecycle, event: LifecycleEvent) -> Lifecycle:
    return _move("incident", LIFECYCLE_TRANSITIONS, state, event)


class IncidentStatus(StrEnum):
    """What everybody sees: derived, never stored."""

    REPORTED = "dilaporkan"
    ACKNOWLEDGED = "diterima"
    DISPATCHED = "berangkat"
    ON_SCENE = "di_lokasi"
    RESOLVED = "selesai"
    CANCELLED = "dibatalkan"
    MERGED = "digabung"

    @property
    def label_key(self) -> str:
        return f"status.{self.value}"


_FROM_RESPONSE = {
    ResponseStatus.WAITING: IncidentStatus.REPORTED,
    ResponseStatus.ACKNOWLEDGED: IncidentStatus.ACKNOWLEDGED,
    ResponseStatus.DISPATCHED: IncidentStatus.DISPATCHED,
    ResponseStatus.ON_SCENE: IncidentStatus.ON_SCENE,
    # One agency done while the incident is still open: the furthest real progress is on scene.
    ResponseStatus.DONE: IncidentStatus.ON_SCENE,
}
_FROM_LIFECYCLE = {
    Lifecycle.RESOLVED: IncidentStatus.RESOLVED,
    Lifecycle.CANCELLED: IncidentStatus.CANCELLED,
    Lifecycle.MERGED: IncidentStatus.MERGED,
}


def derive_status(lifecycle: Lifecycle, responses: Iterable[ResponseStatus]) -> IncidentStatus:
    if lifecycle.closed:
        return _FROM_LIFECYCLE[lifecycle]
    furthest = max(responses, key=lambda status: status.progress, default=ResponseStatus.WAITING)
    return _FROM_RESPONSE[furthest]


def all_done(responses: Iterable[ResponseStatus]) -> bool:
    statuses = list(responses)
    return bool(statuses) and all(status is ResponseStatus.DONE for status in statuses)


# --- the records ---


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float | None
    longitude: float | None
    address: str | None  # typed address or landmark, or the venue's name and address

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def map_url(self) -> str | None:
        if not self.has_point:
            return None
        return f"https://maps.google.com/?q={self.latitude:.6f},{self.longitude:.6f}"


@dataclass(frozen=True, slots=True)
class Response:
    incident_id: int
    agency_id: int
    agency_code: str
    agency_name: str
    status: ResponseStatus
    acknowledged_by: int | None
    acknowledged_by_name: str | None
    acknowledged_at: datetime | None
    on_behalf: bool  # acknowledged by a coordinator on the agency's behalf
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Assignment:
    id: int
    incident_id: int
    agency_id: int
    user_id: int
    user_name: str
    status: AssignmentStatus
    assigned_by: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    type: IncidentType
    severity: Severity
    lifecycle: Lifecycle
    source: Source
    reporter_id: int | None
    reporter_name: str | None
    reporter_phone: str | None
    location: Location
    description: str
    hurt: Hurt
    hurt_count: int | None
    photos: tuple[str, ...]
    merged_into: int | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    reporter_phone_source: PhoneSource | None = None
    # A dispatcher who took over a call no agency is routed to (🙋 Ambil alih).
    owner_id: int | None = None
    owner_name: str | None = None
    owned_at: datetime | None = None
    drill_id: int | None = None  # a drill's incident (`/latihan`): marked everywhere

    @property
    def pinned_in_feed(self) -> bool:
        """A critical incident stays pinned in the 112 operators' feed while it is open."""
        return self.severity is Severity.CRITICAL and not self.lifecycle.closed


class Basis(StrEnum):
    """What two reports were compared by (duplicate detection, models.duplicates)."""

    PINS = "pins"
    TEXT = "text"
    PIN_TEXT = "pin_text"


@dataclass(frozen=True, slots=True)
class Hint:
    """A report's open duplicate hint as its card shows it: the incident it may repeat."""

    of_id: int
    basis: Basis
    distance_m: int | None  # between the pins (None: compared by words)
    minutes: int  # how long after that incident's report it came


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident with everything a card shows."""

    incident: Incident
    responses: list[Response] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    merged_from: list[int] = field(default_factory=list)  # duplicates merged into this one
    infos: tuple[Info, ...] = ()  # questions, answers, additions and notes, oldest first
    # Duplicate detection: the open incident this report may repeat, and the later reports
    # that may repeat this one (open hints only).
    similar_to: Hint | None = None
    similar: tuple[int, ...] = ()

    @property
    def status(self) -> IncidentStatus:
        return derive_status(self.incident.lifecycle, (r.status for r in self.responses))

    def response_of(self, agency_id: int) -> Response | None:
        return next((r for r in self.responses if r.agency_id == agency_id), None)

    def assignments_of(self, agency_id: int) -> list[Assignment]:
        return [a for a in self.assignments if a.agency_id == agency_id]


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    id: int
    incident_id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    kind: str
    agency_code: str | None
    detail: dict[str, object]


class EventKind(StrEnum):
    """Kinds of timeline event; each has a line in the catalogs (`event.<value>`)."""

    REPORTED = "reported"
    ROUTED = "routed"
    ROUTED_TO_NOBODY = "routed_to_nobody"
    ACKNOWLEDGED = "acknowledged"
    ACKNOWLEDGED_ON_BEHALF = "acknowledged_on_behalf"
    ASSIGNED = "assigned"
    TOOK_TASK = "took_task"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    DONE = "done"
    AGENCY_RESOLVED = "agency_resolved"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    MERGED = "merged"
    MERGED_FROM = "merged_from"
    REOPENED = "reopened"
    SEVERITY_CHANGED = "severity_changed"
    AGENCY_ADDED = "agency_added"
    ASSIGNEE_UNREACHABLE = "assignee_unreachable"
    REMINDED = "reminded"  # the agency's chat was reminded of an unacknowledged call
    ESCALATED = "escalated"  # coordinators were alerted
    FOLLOW_UP = "follow_up"  # a stale assignment or a long-open incident was chased
    QUESTION_ASKED = "question_asked"  # an agency asked the reporters (models.info)
    ANSWERED = "answered"  # a reporter answered a question
    ADDED = "added"  # a reporter added to their report
    NOTED = "noted"  # a responder's note for every agency
    QUESTION_UNANSWERED = "question_unanswered"  # nobody answered a question in time
    CALLER_LINK = "caller_link"  # a dispatcher made a link for the 112 caller
    CALLER_JOINED = "caller_joined"  # the caller joined by it
    OWNED = "owned"  # a dispatcher took over a call no agency is routed to
    SIMILAR = "similar"  # the report may repeat an open incident (duplicate detection)
    NOT_SIMILAR = "not_similar"  # a dispatcher said it does not

    @property
    def message_key(self) -> str:
        return f"event.{self.value}"
