"""Reminders, escalations and follow-ups as data, and the policy that times them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from models.incidents import AssignmentStatus, IncidentView, ResponseStatus, Severity


class ReminderKind(StrEnum):
    ACK = "ack"  # an agency has not acknowledged: group reminders, then escalation
    UNMOVED = "unmoved"  # acknowledged, but nobody of the agency assigned or en route
    UNOWNED = "unowned"  # routed to no agency, and no dispatcher has taken it over
    OFFERED = "offered"  # assigned but not accepted: re-offer to the agency
    ACCEPTED = "accepted"  # accepted but not en route: ask the assignee
    EN_ROUTE = "en_route"  # en route but not on scene: ask the assignee
    OPEN_LONG = "open_long"  # open for long: tell dispatchers and coordinators
    BROADCAST = "broadcast"  # an emergency broadcast a chat has not confirmed: send it again


# Acknowledged but unmoved: minutes before the agency is reminded (UNMOVED_TIMEOUT_*_MINUTES).
DEFAULT_UNMOVED: dict[Severity, timedelta] = {
    Severity.CRITICAL: timedelta(minutes=3),
    Severity.HIGH: timedelta(minutes=5),
    Severity.MEDIUM: timedelta(minutes=10),
    Severity.LOW: timedelta(minutes=30),
}


class EscalationReach(StrEnum):
    """Where escalations reach a coordinator (`/eskalasi`); no choice means both."""

    GROUP = "grup"  # the coordinators' group only
    PRIVATE = "pribadi"  # their private chat only
    BOTH = "keduanya"

    @classmethod
    def parse(cls, word: str) -> EscalationReach | None:
        english = {"group": cls.GROUP, "private": cls.PRIVATE, "both": cls.BOTH}
        word = word.strip().lower()
        return english.get(word) or next((r for r in cls if r.value == word), None)

    @property
    def in_group(self) -> bool:
        return self is not EscalationReach.PRIVATE

    @property
    def in_private(self) -> bool:
        return self is not EscalationReach.GROUP


class ReminderState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    kind: ReminderKind
    incident_id: int | None  # None only for BROADCAST
    agency_id: int | None
    assignment_id: int | None
    due_at: datetime
    attempt: int
    state: ReminderState
    created_at: datetime
    broadcast_id: int | None = None
    chat_id: int | None = None

    @property
    def key(self) -> tuple[ReminderKind, int, int | None, int | None]:
        """What an incident's reminder is about (incident reminders only)."""
        assert self.incident_id is not None, "a broadcast reminder is not about an incident"
        return (self.kind, self.incident_id, self.agency_id, self.assignment_id)


ReminderKey = tuple[ReminderKind, int, int | None, int | None]


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When reminders fall due. Defaults follow paging practice: a quick first nudge for
    critical calls, repeats every timeout, then coordinators every few minutes until owned."""

    ack_timeouts: dict[Severity, timedelta]
    # Acknowledged but nobody assigned or en route: the wait per severity before the agency is
    # reminded (then again, then the coordinators, like an unacknowledged call).
    unmoved_timeouts: dict[Severity, timedelta] = field(
        default_factory=lambda: dict(DEFAULT_UNMOVED)
    )
    group_reminders: int = 2
    escalation_every: timedelta = timedelta(minutes=5)
    escalation_max: int = 0  # 0: keep escalating until somebody owns the call
    offered_after: timedelta = timedelta(minutes=5)
    accepted_after: timedelta = timedelta(minutes=10)
    en_route_after: timedelta = timedelta(minutes=30)
    open_after: timedelta = timedelta(hours=2)
    late_after: timedelta = timedelta(seconds=60)

    def first_due(self, kind: ReminderKind, view: IncidentView, now: datetime) -> datetime:
        incident = view.incident
        if kind in (ReminderKind.ACK, ReminderKind.UNOWNED):
            return now + self.ack_timeouts[incident.severity]
        if kind is ReminderKind.UNMOVED:
            return now + self.unmoved_timeouts[incident.severity]
        if kind is ReminderKind.OPEN_LONG:
            return incident.created_at + self.open_after
        return (
            now
            + {
                ReminderKind.OFFERED: self.offered_after,
                ReminderKind.ACCEPTED: self.accepted_after,
                ReminderKind.EN_ROUTE: self.en_route_after,
            }[kind]
        )

    def after_ack_reminder(
        self, attempt: int, severity: Severity, kind: ReminderKind = ReminderKind.ACK
    ) -> timedelta | None:
        """The wait after the `attempt`-th firing (0-based) of an ACK (or UNMOVED) reminder;
        None: stop."""
        timeouts = self.unmoved_timeouts if kind is ReminderKind.UNMOVED else self.ack_timeouts
        if attempt + 1 < self.group_reminders:
            return timeouts[severity]
        escalations = attempt + 1 - self.group_reminders
        if self.escalation_max and escalations >= self.escalation_max:
            return None
        if attempt + 1 == self.group_reminders:
            # The last group reminder is followed by the first escalation one timeout later.
            return timeouts[severity]
        return self.escalation_every

    def escalates(self, attempt: int) -> bool:
        """Whether the `attempt`-th firing (0-based) of an ACK reminder goes to coordinators."""
        return attempt >= self.group_reminders


def unmoved(view: IncidentView, agency_id: int) -> bool:
    """The agency acknowledged, but nobody of it is assigned (offered, accepted) or moving."""
    response = view.response_of(agency_id)
    if response is None or response.status is not ResponseStatus.ACKNOWLEDGED:
        return False
    return not any(a.status.active for a in view.assignments_of(agency_id))


def unowned(view: IncidentView) -> bool:
    """Open, routed to no agency, and no dispatcher has taken it over."""
    incident = view.incident
    return not incident.lifecycle.closed and not view.responses and incident.owner_id is None


def still_holds(
    kind: ReminderKind, view: IncidentView, agency_id: int | None, assignment_id: int | None
) -> bool:
    """Whether a reminder's reason still exists: checked before it fires, and to tell whether
    a reminder already sent should say what happened instead."""
    if view.incident.lifecycle.closed:
        return False
    if kind is ReminderKind.ACK:
        response = view.response_of(agency_id or 0)
        return response is not None and response.status is ResponseStatus.WAITING
    if kind is ReminderKind.UNMOVED:
        return unmoved(view, agency_id or 0)
    if kind is ReminderKind.UNOWNED:
        return unowned(view)
    if kind in (ReminderKind.OPEN_LONG, ReminderKind.BROADCAST):
        return True
    expected = {
        ReminderKind.OFFERED: AssignmentStatus.OFFERED,
        ReminderKind.ACCEPTED: AssignmentStatus.ACCEPTED,
        ReminderKind.EN_ROUTE: AssignmentStatus.EN_ROUTE,
    }[kind]
    return any(a.id == assignment_id and a.status is expected for a in view.assignments)


def wanted_reminders(view: IncidentView) -> set[ReminderKey]:
    """The reminders an incident needs in its present state: the desired state to reconcile."""
    incident = view.incident
    if incident.lifecycle.closed:
        return set()
    wanted: set[ReminderKey] = {(ReminderKind.OPEN_LONG, incident.id, None, None)}
    if unowned(view):
        wanted.add((ReminderKind.UNOWNED, incident.id, None, None))
    for response in view.responses:
        if response.status is ResponseStatus.WAITING:
            wanted.add((ReminderKind.ACK, incident.id, response.agency_id, None))
        elif unmoved(view, response.agency_id):
            wanted.add((ReminderKind.UNMOVED, incident.id, response.agency_id, None))
    for assignment in view.assignments:
        kind = {
            AssignmentStatus.OFFERED: ReminderKind.OFFERED,
            AssignmentStatus.ACCEPTED: ReminderKind.ACCEPTED,
            AssignmentStatus.EN_ROUTE: ReminderKind.EN_ROUTE,
        }.get(assignment.status)
        if kind is not None:
            wanted.add((kind, incident.id, None, assignment.id))
    return wanted
