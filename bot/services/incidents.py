"""The incident loop's rules: submit, acknowledge, assign, progress, close, look up.

Each public function is one transaction: it checks the state inside the transaction, moves the
state machines of `models.incidents` through their transition tables with conditional updates
(the row count decides who won a race), records timeline events and reconciles the reminders;
what the change means for the chats — the card re-rendered wherever it was posted, the task
card, the word to the reporter — the publisher (`bot.services.publisher`) says, in the same
transaction.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.services.duplicates import detect
from bot.services.publisher import Publisher
from bot.services.reminders import reconcile
from bot.settings import Settings
from bot.store import Store, Tx
from models.access import Target
from models.agencies import Agency, Member
from models.clock import Clock
from models.duplicates import HintState, Report
from models.incident_types import IncidentType
from models.incidents import (
    ACKNOWLEDGING,
    ASSIGNMENT_DRIVES_RESPONSE,
    Assignment,
    AssignmentEvent,
    AssignmentStatus,
    CancelReason,
    EventKind,
    Hurt,
    IllegalTransition,
    IncidentView,
    Lifecycle,
    LifecycleEvent,
    Location,
    PhoneSource,
    ResponseEvent,
    ResponseStatus,
    Severity,
    Source,
    TimelineEvent,
    all_done,
    initial_severity,
    next_assignment,
    next_lifecycle,
    next_response,
)
from models.info import InfoEvent, next_info
from models.report import Submitted


class Outcome(StrEnum):
    DONE = "done"
    ALREADY = "already"  # somebody else got there first, or nothing to change
    CLOSED = "closed"  # the incident is resolved, cancelled or merged
    NOT_FOUND = "not_found"
    NOT_ROUTED = "not_routed"  # the agency has no part in this incident
    ILLEGAL = "illegal"  # the state machine does not allow it from here
    NOT_YOURS = "not_yours"  # a task card pressed by someone else
    NOT_A_MEMBER = "not_a_member"  # the person to assign is not a member of the agency


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    view: IncidentView | None = None
    by_name: str | None = None
    at: datetime | None = None
    assignment_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


@dataclass(frozen=True, slots=True)
class NewIncident:
    kind: IncidentType
    location: Location
    description: str
    hurt: Hurt = Hurt.UNKNOWN
    hurt_count: int | None = None
    photos: list[str] = field(default_factory=list)
    phone: str | None = None
    phone_source: PhoneSource | None = None  # how `phone` was given
    source: Source = Source.REPORT
    reporter_id: int | None = None
    caller_name: str | None = None  # a 112 caller's name, as they gave it to the dispatcher
    origin_update_id: int | None = None  # the Telegram update it came from: a replay is a no-op
    # A drill's scripted report: its drill, and the agencies taking part (routed to no other).
    drill_id: int | None = None
    drill_agencies: frozenset[str] | None = None
    severity: Severity | None = None  # as given (the API); else from the type and people hurt
    via: str | None = None  # another system's name (the API key's), shown as who reported it


@dataclass(frozen=True, slots=True)
class OpenList:
    views: list[IncidentView]  # the ones shown
    total: int
    at: datetime


class IncidentService:
    """The incident operations, bound to the store, the clock and the settings."""

    def __init__(
        self, store: Store, clock: Clock, settings: Settings, publisher: Publisher
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.publisher = publisher  # says every change wherever it must be seen
        self.reminder_policy = settings.reminder_policy()
        self.duplicate_policy = settings.duplicate_policy()

    # --- submission ---

    async def submit(self, report: NewIncident) -> Submitted:
        async with self.store.transaction() as tx:
            return await self.submit_in(tx, report)

    async def submit_in(self, tx: Tx, report: NewIncident) -> Submitted:
        """Create the incident, its responses, reminders and every message, inside `tx`."""
        now = self.clock.now()
        if report.origin_update_id is not None:
            earlier = await tx.incident_from_update(report.origin_update_id)
            if earlier is not None:
                # The same update again (Telegram replays after a crash): nothing new.
                responses = await tx.responses(earlier)
                return Submitted(earlier, [r.agency_name for r in responses], not responses)
        severity = report.severity or initial_severity(report.kind, report.hurt, report.hurt_count)
        incident_id = await tx.create_incident(
            kind=report.kind,
            severity=severity,
            source=report.source,
            reporter_id=report.reporter_id,
            reporter_phone=report.phone,
            phone_source=report.phone_source,
            location=report.location,
            description=report.description,
            hurt=report.hurt,
            hurt_count=report.hurt_count,
            photos=report.photos,
            now=now,
            origin_update_id=report.origin_update_id,
            caller_name=report.caller_name,
            drill_id=report.drill_id,
        )
        await tx.add_event(
            incident_id,
            EventKind.REPORTED,
            now,
            actor_id=report.reporter_id,
            detail={"source": report.source.value} | ({"via": report.via} if report.via else {}),
        )
        agencies = await tx.routed_agencies(report.kind)
        if report.drill_agencies is not None:
            agencies = [a for a in agencies if a.code in report.drill_agencies]
        for agency in agencies:
            await tx.add_response(incident_id, agency.id, now)
        similar = None
        if report.drill_id is None:  # a drill's reports repeat nothing real
            similar = await detect(
                tx, Report(incident_id, report.kind, report.location, now), self.duplicate_policy
            )
        if similar is not None:
            # A hint for people, on both cards: the report is filed and posted as always.
            await tx.add_duplicate_hint(incident_id, similar, now)
            await tx.add_event(
                incident_id,
                EventKind.SIMILAR,
                now,
                detail={"other": similar.of_id, "basis": similar.basis.value},
            )
        view = await tx.incident_view(incident_id)
        assert view is not None
        if agencies:
            names = ", ".join(a.name for a in agencies)
            await tx.add_event(incident_id, EventKind.ROUTED, now, detail={"agency": names})
            for agency in agencies:
                await self.publisher.post_card(tx, view, agency, now)
        else:
            await tx.add_event(incident_id, EventKind.ROUTED_TO_NOBODY, now)
            await self.publisher.post_to_operators(tx, view, now)
        await self.publisher.post_to_feed(tx, view, now)
        await reconcile(tx, view, self.reminder_policy, now)
        if similar is not None:
            await self.publisher.refresh(tx, similar.of_id, now)  # "1 laporan serupa: #13"
        await self.publisher.confirm_report(tx, view, [a.name for a in agencies], now)
        of_id = similar.of_id if similar is not None else None
        return Submitted(incident_id, [a.name for a in agencies], not agencies, of_id)

    # --- re-rendering everywhere ---

    async def refresh(
        self,
        tx: Tx,
        incident_id: int,
        now: datetime,
        view: IncidentView | None = None,
        *,
        erasing: bool = False,
    ) -> IncidentView | None:
        """The incident changed: show it as it is now wherever it was posted, and make its
        reminders match its state (both inside `tx`)."""
        view = await self.publisher.refresh(tx, incident_id, now, view, erasing=erasing)
        if view is not None:
            await reconcile(tx, view, self.reminder_policy, now)
        return view

    # --- owning a call no agency is routed to ---

    async def take_ownership(self, incident_id: int, user_id: int) -> Result:
        """A dispatcher takes over a call no agency is routed to (🙋 Ambil alih): the first
        press wins, and the call is reminded no more as unowned. They route it (add agencies)
        or resolve it from the management card."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            if view is None:
                return Result(Outcome.NOT_FOUND)
            incident = view.incident
            if incident.lifecycle.closed:
                return Result(Outcome.CLOSED, view)
            person = await tx.person(user_id)
            name = person.display_name if person is not None else f"#{user_id}"
            if view.responses or not await tx.take_ownership(incident_id, user_id, name, now):
                return Result(Outcome.ALREADY, view, incident.owner_name, incident.owned_at)
            await tx.add_event(incident_id, EventKind.OWNED, now, actor_id=user_id)
            view = await self.refresh(tx, incident_id, now)
        log.info("#%s taken over by %s", incident_id, user_id)
        return Result(Outcome.DONE, view)

    # --- acknowledge and progress by an agency ---

    async def acknowledge(
        self, incident_id: int, agency_id: int, user_id: int, *, on_behalf: bool = False
    ) -> Result:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            # The conditional update goes first, so one read of the view shows either the
            # acknowledgement or why there was none.
            acknowledged = await tx.acknowledge(
                incident_id, agency_id, user_id, on_behalf, now, ACKNOWLEDGING
            )
            view = await tx.incident_view(incident_id)
            if view is None:
                return Result(Outcome.NOT_FOUND)
            response = view.response_of(agency_id)
            if response is None:
                return Result(Outcome.NOT_ROUTED, view)
            if view.incident.lifecycle.closed:
                return Result(Outcome.CLOSED, view)
            if not acknowledged:
                return Result(
                    Outcome.ALREADY, view, response.acknowledged_by_name, response.acknowledged_at
                )
            # The first agency to acknowledge: every other one is still waiting.
            first = all(
                r.status is ResponseStatus.WAITING
                for r in view.responses
                if r.agency_id != agency_id
            )
            kind = EventKind.ACKNOWLEDGED_ON_BEHALF if on_behalf else EventKind.ACKNOWLEDGED
            await tx.add_event(
                incident_id,
                kind,
                now,
                actor_id=user_id,
                agency_id=agency_id,
                detail={"agency": response.agency_name},
            )
            if first:
                await self.publisher.tell_reporter(
                    tx, view, "acknowledged", now, by=response.agency_name
                )
            view = await self.refresh(tx, incident_id, now, view)
        return Result(Outcome.DONE, view)

    async def agency_progress(
        self, incident_id: int, agency_id: int, user_id: int, event: ResponseEvent
    ) -> Result:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            if view is None:
                return Result(Outcome.NOT_FOUND)
            response = view.response_of(agency_id)
            if response is None:
                return Result(Outcome.NOT_ROUTED, view)
            if view.incident.lifecycle.closed:
                return Result(Outcome.CLOSED, view)
            changed = await self._move_response(tx, view, agency_id, event, user_id, now)
            if changed is None:
                return Result(Outcome.ILLEGAL, view)
            view = await self.refresh(tx, incident_id, now)
        return Result(Outcome.DONE, view)

    async def _move_response(
        self,
        tx: Tx,
        view: IncidentView,
        agency_id: int,
        event: ResponseEvent,
        user_id: int,
        now: datetime,
    ) -> ResponseStatus | None:
        """Move one agency's response; on the last agency done, resolve the incident."""
        response = view.response_of(agency_id)
        assert response is not None
        try:
            target = next_response(response.status, event)
        except IllegalTransition:
            return None
        ack_by = user_id if response.status is ResponseStatus.WAITING else None
        if not await tx.move_response(
            view.incident.id, agency_id, response.status, target, now, acknowledged_by=ack_by
        ):
            return None
        incident_id = view.incident.id
        detail = {"agency": response.agency_name}
        if ack_by is not None:
            await tx.add_event(
                incident_id,
                EventKind.ACKNOWLEDGED,
                now,
                actor_id=user_id,
                agency_id=agency_id,
                detail=detail,
            )
        kind = {
            ResponseStatus.DISPATCHED: EventKind.EN_ROUTE,
            ResponseStatus.ON_SCENE: EventKind.ON_SCENE,
            ResponseStatus.DONE: EventKind.AGENCY_RESOLVED,
            ResponseStatus.ACKNOWLEDGED: EventKind.REOPENED,
        }[target]
        if target is not ResponseStatus.ACKNOWLEDGED or ack_by is None:
            await tx.add_event(
                incident_id, kind, now, actor_id=user_id, agency_id=agency_id, detail=detail
            )
        if target is ResponseStatus.DISPATCHED and not any(
            r.status.progress >= ResponseStatus.DISPATCHED.progress for r in view.responses
        ):
            await self.publisher.tell_reporter(tx, view, "en_route", now, by=response.agency_name)
        if target is ResponseStatus.DONE:
            statuses = [target if r.agency_id == agency_id else r.status for r in view.responses]
            if all_done(statuses):
                await self._close(tx, view, LifecycleEvent.RESOLVE, user_id, now)
        return target

    # --- assignments ---

    async def assign(
        self, incident_id: int, agency_id: int, assignee_id: int, by_user: int
    ) -> Result:
        now = self.clock.now()
        myself = assignee_id == by_user
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            if view is None:
                return Result(Outcome.NOT_FOUND)
            response = view.response_of(agency_id)
            if response is None:
                return Result(Outcome.NOT_ROUTED, view)
            if view.incident.lifecycle.closed:
                return Result(Outcome.CLOSED, view)
            if assignee_id not in {m.user_id for m in await tx.members(agency_id, now)}:
                return Result(Outcome.NOT_A_MEMBER, view)
            status = AssignmentStatus.ACCEPTED if myself else AssignmentStatus.OFFERED
            assignment_id = await tx.offer_assignment(
                incident_id, agency_id, assignee_id, status, by_user, now
            )
            if assignment_id is None:
                return Result(Outcome.ALREADY, view)
            # Taking on a task owns the call for the agency, as an acknowledgement does.
            if response.status is ResponseStatus.WAITING and await tx.acknowledge(
                incident_id, agency_id, by_user, False, now, ACKNOWLEDGING
            ):
                await tx.add_event(
                    incident_id,
                    EventKind.ACKNOWLEDGED,
                    now,
                    actor_id=by_user,
                    agency_id=agency_id,
                    detail={"agency": response.agency_name},
                )
                if all(r.status is ResponseStatus.WAITING for r in view.responses):
                    await self.publisher.tell_reporter(
                        tx, view, "acknowledged", now, by=response.agency_name
                    )
            assignee = await tx.person(assignee_id)
            assignee_name = assignee.display_name if assignee else "?"
            kind = EventKind.TOOK_TASK if myself else EventKind.ASSIGNED
            await tx.add_event(
                incident_id,
                kind,
                now,
                actor_id=by_user,
                agency_id=agency_id,
                detail={"to": assignee_name, "agency": response.agency_name},
            )
            view = await tx.incident_view(incident_id)
            assert view is not None
            assignment = next(a for a in view.assignments if a.id == assignment_id)
            await self.publisher.post_task_card(tx, view, assignment, now)
            view = await self.refresh(tx, incident_id, now)
        return Result(Outcome.DONE, view, assignment_id=assignment_id)

    async def task_progress(
        self, assignment_id: int, user_id: int, event: AssignmentEvent
    ) -> Result:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            assignment = await tx.assignment(assignment_id)
            if assignment is None:
                return Result(Outcome.NOT_FOUND)
            view = await tx.incident_view(assignment.incident_id)
            assert view is not None
            if assignment.user_id != user_id:
                return Result(Outcome.NOT_YOURS, view)
            if view.incident.lifecycle.closed:
                return Result(Outcome.CLOSED, view)
            try:
                target = next_assignment(assignment.status, event)
            except IllegalTransition:
                return Result(Outcome.ILLEGAL, view)
            if not await tx.move_assignment(assignment_id, assignment.status, target, now):
                return Result(Outcome.ALREADY, view)
            kind = {
                AssignmentStatus.ACCEPTED: EventKind.ACCEPTED,
                AssignmentStatus.DECLINED: EventKind.DECLINED,
                AssignmentStatus.EN_ROUTE: EventKind.EN_ROUTE,
                AssignmentStatus.ON_SCENE: EventKind.ON_SCENE,
                AssignmentStatus.DONE: EventKind.DONE,
            }[target]
            response = view.response_of(assignment.agency_id)
            agency_name = response.agency_name if response else "?"
            drives = ASSIGNMENT_DRIVES_RESPONSE.get(event)
            moved = None
            if drives is not None and response is not None:
                moved = await self._move_response(
                    tx, view, assignment.agency_id, drives, user_id, now
                )
            if moved is None or kind in (EventKind.ACCEPTED, EventKind.DECLINED, EventKind.DONE):
                # The agency's line did not move (or the event is the person's own): record it.
                await tx.add_event(
                    view.incident.id,
                    kind,
                    now,
                    actor_id=user_id,
                    agency_id=assignment.agency_id,
                    detail={"agency": agency_name},
                )
            view = await self.refresh(tx, view.incident.id, now)
        return Result(Outcome.DONE, view)

    # --- dispatcher operations ---

    async def cancel(self, incident_id: int, reason: CancelReason, by_user: int) -> Result:
        return await self._lifecycle(incident_id, LifecycleEvent.CANCEL, by_user, reason=reason)

    async def reopen(self, incident_id: int, by_user: int) -> Result:
        return await self._lifecycle(incident_id, LifecycleEvent.REOPEN, by_user)

    async def resolve(self, incident_id: int, by_user: int) -> Result:
        return await self._lifecycle(incident_id, LifecycleEvent.RESOLVE, by_user)

    async def _lifecycle(
        self,
        incident_id: int,
        event: LifecycleEvent,
        by_user: int,
        *,
        reason: CancelReason | None = None,
    ) -> Result:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            if view is None:
                return Result(Outcome.NOT_FOUND)
            try:
                next_lifecycle(view.incident.lifecycle, event)
            except IllegalTransition:
                return Result(Outcome.ILLEGAL, view)
            if not await self._close(tx, view, event, by_user, now, reason=reason):
                return Result(Outcome.ALREADY, view)
            # A duplicate hint between it and another incident no longer stands: the other's
            # cards lose it (and its buttons) too.
            others = [*view.similar, *([view.similar_to.of_id] if view.similar_to else [])]
            for other in others:
                await self.refresh(tx, other, now)
            view = await self.refresh(tx, incident_id, now)
        return Result(Outcome.DONE, view)

    async def _close(
        self,
        tx: Tx,
        view: IncidentView,
        event: LifecycleEvent,
        by_user: int,
        now: datetime,
        *,
        reason: CancelReason | None = None,
        merged_into: int | None = None,
    ) -> bool:
        """Move the lifecycle (resolve, cancel, merge or reopen) with its side effects."""
        incident = view.incident
        target = next_lifecycle(incident.lifecycle, event)
        if not await tx.set_lifecycle(
            incident.id,
            incident.lifecycle,
            target,
            now,
            reason=reason.value if reason else None,
            merged_into=merged_into,
        ):
            return False
        if target.closed:
            for assignment in view.assignments:
                if assignment.status.active:
                    withdrawn = next_assignment(assignment.status, AssignmentEvent.WITHDRAW)
                    await tx.move_assignment(assignment.id, assignment.status, withdrawn, now)
            # Questions to the reporters close with it: nobody waits for their answers now.
            for question in view.infos:
                if question.waiting:
                    closed = next_info(question.state, InfoEvent.CLOSE)
                    await tx.move_info(question.id, question.state, closed, now)
        kind = {
            Lifecycle.RESOLVED: EventKind.RESOLVED,
            Lifecycle.CANCELLED: EventKind.CANCELLED,
            Lifecycle.MERGED: EventKind.MERGED,
            Lifecycle.OPEN: EventKind.REOPENED,
        }[target]
        detail: dict[str, object] = {}
        if reason is not None:
            detail["reason"] = reason.value
        if merged_into is not None:
            detail["other"] = merged_into
        await tx.add_event(incident.id, kind, now, actor_id=by_user, detail=detail)
        if target is Lifecycle.OPEN:
            for response in view.responses:
                if response.status is ResponseStatus.DONE:
                    reopened = next_response(response.status, ResponseEvent.REOPEN)
                    await tx.move_response(
                        incident.id, response.agency_id, response.status, reopened, now
                    )
        elif target is Lifecycle.RESOLVED:
            await self.publisher.tell_reporter(tx, view, "resolved", now)
        elif target is Lifecycle.CANCELLED:
            await self.publisher.tell_reporter(tx, view, "cancelled", now, reason=reason)
        elif target is Lifecycle.MERGED:
            await self.publisher.tell_reporter(tx, view, "merged", now, other=merged_into)
        return True

    async def merge(self, duplicate_id: int, into_id: int, by_user: int) -> Result:
        """Mark `duplicate_id` a duplicate of `into_id`; both cards say so and link each other."""
        now = self.clock.now()
        if duplicate_id == into_id:
            return Result(Outcome.ILLEGAL)
        async with self.store.transaction() as tx:
            duplicate = await tx.incident_view(duplicate_id)
            target = await tx.incident_view(into_id)
            if duplicate is None or target is None:
                return Result(Outcome.NOT_FOUND)
            if target.incident.lifecycle is Lifecycle.MERGED:
                return Result(Outcome.ILLEGAL, target)
            if (duplicate.incident.drill_id is None) != (target.incident.drill_id is None):
                return Result(Outcome.ILLEGAL, target)  # a drill never becomes real, nor back
            if duplicate.incident.lifecycle is not Lifecycle.OPEN:
                return Result(Outcome.CLOSED, duplicate)
            if not await self._close(
                tx, duplicate, LifecycleEvent.MERGE, by_user, now, merged_into=into_id
            ):
                return Result(Outcome.ALREADY, duplicate)
            await tx.add_event(
                into_id,
                EventKind.MERGED_FROM,
                now,
                actor_id=by_user,
                detail={"other": duplicate_id},
            )
            # Its hint is settled; later reports hinted as repeating it now point at `into_id`.
            for hinted in await tx.hints_merged_away(duplicate_id, into_id, now):
                await self.refresh(tx, hinted, now)
            await self.refresh(tx, duplicate_id, now)
            view = await self.refresh(tx, into_id, now)
        return Result(Outcome.DONE, view)

    async def not_duplicate(self, incident_id: int, of_id: int, by_user: int) -> Result:
        """A dispatcher says the report is no duplicate of `of_id`: the hint leaves both cards."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            if view is None:
                return Result(Outcome.NOT_FOUND)
            if not await tx.decide_duplicate_hint(
                incident_id, of_id, HintState.DISMISSED, by_user, now
            ):
                return Result(Outcome.ALREADY, view)
            await tx.add_event(
                incident_id,
                EventKind.NOT_SIMILAR,
                now,
                actor_id=by_user,
                detail={"other": of_id},
            )
            await self.refresh(tx, of_id, now)
            view = await self.refresh(tx, incident_id, now)
        return Result(Outcome.DONE, view)

    async def set_severity(self, incident_id: int, severity: Severity, by_user: int) -> Result:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            if view is None:
                return Result(Outcome.NOT_FOUND)
            if view.incident.lifecycle.closed:
                return Result(Outcome.CLOSED, view)
            if view.incident.severity is severity:
                return Result(Outcome.ALREADY, view)
            await tx.set_severity(incident_id, severity, now)
            await tx.add_event(
                incident_id,
                EventKind.SEVERITY_CHANGED,
                now,
                actor_id=by_user,
                detail={"severity": severity.value},
            )
            view = await self.refresh(tx, incident_id, now)
        return Result(Outcome.DONE, view)

    async def addable_agencies(self, view: IncidentView) -> list[Agency]:
        """Agencies a dispatcher may still add to the incident."""
        routed = {r.agency_id for r in view.responses}
        async with self.store.read() as tx:
            agencies = await tx.active_agencies()
        return [a for a in agencies if a.is_agency and a.id not in routed]

    async def add_agency(self, incident_id: int, agency_id: int, by_user: int) -> Result:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            agency = await tx.agency(agency_id)
            if view is None or agency is None or not agency.active or not agency.is_agency:
                return Result(Outcome.NOT_FOUND)
            if view.incident.lifecycle.closed:
                return Result(Outcome.CLOSED, view)
            if not await tx.add_response(incident_id, agency_id, now):
                return Result(Outcome.ALREADY, view)
            await tx.add_event(
                incident_id,
                EventKind.AGENCY_ADDED,
                now,
                actor_id=by_user,
                agency_id=agency_id,
                detail={"agency": agency.name},
            )
            view = await tx.incident_view(incident_id)
            assert view is not None
            await self.publisher.post_card(tx, view, agency, now)
            view = await self.refresh(tx, incident_id, now)
        return Result(Outcome.DONE, view)

    # --- the reporter ---

    # --- looking things up ---

    async def view(self, incident_id: int) -> IncidentView | None:
        async with self.store.lookup() as tx:
            return await tx.incident_view(incident_id)

    async def events(self, incident_id: int) -> list[TimelineEvent]:
        async with self.store.lookup() as tx:
            return await tx.events(incident_id)

    async def assignment(self, assignment_id: int) -> Assignment | None:
        async with self.store.lookup() as tx:
            return await tx.assignment(assignment_id)

    async def members(self, agency_id: int) -> list[Member]:
        """The agency's members, on duty first (whom a task can go to)."""
        async with self.store.lookup() as tx:
            return await tx.members(agency_id, self.clock.now())

    async def open_list(self, scope: frozenset[int] | None, shown: int) -> OpenList:
        """Open incidents (of the agencies in `scope`; None: all), most severe and oldest
        first: the first `shown` of them read whole, the rest counted."""
        async with self.store.read() as tx:
            ids = await tx.open_incident_ids(scope)
            views = [v for i in ids[:shown] if (v := await tx.incident_view(i))]
        return OpenList(views, len(ids), self.clock.now())

    def completes_update(self) -> AbstractContextManager[None]:
        """Around a press's one write: it records the update as handled in the same commit."""
        return self.store.completes_update()

    async def viewing_target(self, view: IncidentView) -> Target:
        """The incident as the policy sees it when someone asks to see it (`/kejadian`, Open
        #N, the web board): its agencies, owned by everyone who reported it (also in a report
        merged into it: they were told to follow this number)."""
        reporters = await self.reporters(view.incident.id)
        return Target(frozenset(r.agency_id for r in view.responses), reporters)

    async def reporters(self, incident_id: int) -> frozenset[int]:
        """Who reported the incident, with the reporters of reports merged into it and the
        callers who joined by link."""
        async with self.store.lookup() as tx:
            return frozenset(await tx.reporters_of(incident_id))
