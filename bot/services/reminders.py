"""Reminders and escalation that never sleep.

The reminders table is the truth. `reconcile` runs inside every incident transaction and makes
the pending reminders match what the incident needs now (a waiting agency needs an ACK reminder,
an offered task an OFFERED follow-up…), so a reminder is created and cancelled in the same
transaction as the change that makes it due or moot. `fire` runs one reminder in one
transaction and checks its condition there, so an acknowledgement that lands in the same
instant wins and no reminder goes out after it. The scheduler only decides *when* to call
`fire`; after a restart an overdue reminder fires once, says it is late, and is rescheduled
from now — never once per missed interval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.i18n import N_, Html, escape, t
from bot.render.cards import card_text
from bot.render.escalation import escalation_keyboard
from bot.render.organisation import type_label
from bot.services.messages import edit_message, text_message
from bot.services.publisher import COORDINATOR_ROLES, operator_chats
from bot.settings import Language, Settings
from bot.store import Store, Tx
from models.agencies import Agency
from models.clock import Clock
from models.incidents import EventKind, IncidentView
from models.outbox import OutgoingMessage, Priority, SendMethod
from models.refs import (
    PostKind,
    card_ref,
    escalation_ping_ref,
    escalation_ref,
    reminder_ref,
    task_ref,
)
from models.reminders import (
    EscalationReach,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    still_holds,
    wanted_reminders,
)

log = logging.getLogger(__name__)

SWEEP_BATCH = 200
NAMES_SHOWN = 10
NAME_MAX = 40


async def reconcile(tx: Tx, view: IncidentView, policy: ReminderPolicy, now: datetime) -> None:
    """Make the incident's pending reminders match what its present state needs."""
    # A follow-up that has fired once is done for good: a later change to the incident (a
    # severity change, another agency acknowledging) must not arm it again.
    pending, done = await tx.pending_and_done_reminders_of(view.incident.id)
    wanted = wanted_reminders(view) - {r.key for r in done}
    have = {r.key: r for r in pending}
    for key, reminder in have.items():
        if key not in wanted:
            await tx.cancel_reminder(reminder.id)
    for key in wanted - have.keys():
        kind, incident_id, agency_id, assignment_id = key
        due = policy.first_due(kind, view, now)
        await tx.schedule_reminder(
            kind, incident_id, due, now, agency_id=agency_id, assignment_id=assignment_id
        )


def _under_card(
    agency: Agency, incident_id: int, text: str, ref: str | None = None
) -> OutgoingMessage:
    """A reminder in the agency's chat (its topic), as a reply to the incident's card there;
    `ref` names it when it is to be edited once moot."""
    return text_message(
        agency.chat_id,
        text,
        priority=Priority.REMINDER,
        thread_id=agency.thread_id,
        reply_to=card_ref(incident_id, agency.id),
        ref=ref,
    )


@dataclass(frozen=True, slots=True)
class Fired:
    reminder_id: int
    sent: bool  # False: its condition had cleared, or someone else fired it


class BroadcastResender(Protocol):
    async def resend(self, tx: Tx, reminder: Reminder, now: datetime) -> datetime | bool | None:
        """Send an emergency broadcast again to a chat that has not confirmed it."""


class ReminderService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        broadcasts: BroadcastResender | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.policy = settings.reminder_policy()
        self.broadcasts = broadcasts

    async def sweep(self) -> int:
        """Fire everything that is due; return how many messages went out."""
        async with self.store.read() as tx:
            due = await tx.due_reminders(self.clock.now(), SWEEP_BATCH)
        sent = 0
        for reminder in due:
            sent += (await self.fire(reminder.id)).sent
        return sent

    async def fire(self, reminder_id: int) -> Fired:
        """Fire one reminder if it is still due and its condition still holds."""
        try:
            return await self._fire(reminder_id)
        except _Raced:
            # The scheduled job and the sweep reached it together; the other one sent it.
            return Fired(reminder_id, sent=False)

    async def _fire(self, reminder_id: int) -> Fired:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            reminder = await tx.reminder(reminder_id)
            if reminder is None or reminder.state != "pending" or reminder.due_at > now:
                return Fired(reminder_id, sent=False)
            if reminder.kind is ReminderKind.BROADCAST:
                return await self._fire_broadcast(tx, reminder, now)
            assert reminder.incident_id is not None
            view = await tx.incident_view(reminder.incident_id)
            if view is None or not still_holds(
                reminder.kind, view, reminder.agency_id, reminder.assignment_id
            ):
                await tx.cancel_reminder(reminder.id)
                return Fired(reminder_id, sent=False)
            late = now - reminder.due_at if now - reminder.due_at > self.policy.late_after else None
            next_due = await self._act(tx, reminder, view, now, late)
            if not await tx.record_firing(reminder, next_due, now):
                raise _Raced
        return Fired(reminder_id, sent=True)

    async def _fire_broadcast(self, tx: Tx, reminder: Reminder, now: datetime) -> Fired:
        """An emergency broadcast's re-send to one chat, unless the chat confirmed it."""
        outcome = (
            False if self.broadcasts is None else await self.broadcasts.resend(tx, reminder, now)
        )
        if outcome is False:
            await tx.cancel_reminder(reminder.id)
            return Fired(reminder.id, sent=False)
        # A time: the first copy still waits in the outbox, so look again then.
        next_due = outcome if isinstance(outcome, datetime) else None
        if not await tx.record_firing(reminder, next_due, now):
            raise _Raced
        return Fired(reminder.id, sent=next_due is None)

    async def _act(
        self, tx: Tx, reminder: Reminder, view: IncidentView, now: datetime, late: timedelta | None
    ) -> datetime | None:
        """Send what the reminder says; return when it is due again (None: done)."""
        if reminder.kind in (ReminderKind.ACK, ReminderKind.UNMOVED):
            assert reminder.agency_id is not None
            agency = await tx.agency(reminder.agency_id)
            wait = self.policy.after_ack_reminder(
                reminder.attempt, view.incident.severity, reminder.kind
            )
            if reminder.kind is ReminderKind.UNMOVED:
                if self.policy.escalates(reminder.attempt):
                    await self._escalate_unmoved(tx, view, reminder, agency, now, late)
                elif agency is not None:
                    await self._remind_unmoved(tx, view, reminder, agency, now, late)
            elif self.policy.escalates(reminder.attempt):
                await self._escalate(tx, view, reminder, agency, now, late, last=wait is None)
            elif agency is not None:
                await self._remind_group(tx, view, reminder, agency, now, late)
            return None if wait is None else now + wait
        if reminder.kind is ReminderKind.UNOWNED:
            wait = self.policy.after_ack_reminder(reminder.attempt, view.incident.severity)
            await self._remind_unowned(tx, view, reminder, now, late)
            return None if wait is None else now + wait
        if reminder.kind is ReminderKind.OPEN_LONG:
            await self._open_too_long(tx, view, now, late)
            return None
        await self._follow_up_task(tx, reminder, view, now, late)
        if reminder.kind is ReminderKind.EN_ROUTE and reminder.attempt == 0:
            return now + self.policy.en_route_after  # once more, then to the agency's group too
        return None

    # --- the messages ---

    def _language(self) -> Language:
        return self.settings.default_language

    def _late_line(self, language: Language, late: timedelta | None) -> str:
        if late is None:
            return ""
        return "\n" + t(language, "remind.late", minutes=max(1, round(late.total_seconds() / 60)))

    async def _on_duty_mentions(
        self, tx: Tx, agency_id: int, now: datetime
    ) -> tuple[str, list[str]]:
        """Mentions of the agency's on-duty members, and their names — at most NAMES_SHOWN of
        each, so a large volunteer corps cannot push a reminder past Telegram's limit."""
        members = await tx.members(agency_id, now)
        on_duty = [m for m in members if m.on_duty]
        shown, hidden = on_duty[:NAMES_SHOWN], len(on_duty) - NAMES_SHOWN
        mentions = " ".join(
            f'<a href="tg://user?id={m.user_id}">{escape(_short(m.display_name))}</a>'
            for m in shown
        )
        names = [_short(m.display_name) for m in shown]
        if hidden > 0:
            mentions += f" +{hidden}"
            names.append(f"+{hidden}")
        return mentions, names

    async def _remind_group(
        self,
        tx: Tx,
        view: IncidentView,
        reminder: Reminder,
        agency: Agency,
        now: datetime,
        late: timedelta | None,
    ) -> None:
        language = self._language()
        incident = view.incident
        mentions, _names = await self._on_duty_mentions(tx, agency.id, now)
        text = t(
            language,
            "remind.group",
            number=incident.id,
            type=Html(type_label(language, incident.type)),
            agency=agency.name,
            minutes=_minutes(now - incident.created_at),
        )
        text += "\n" + (Html(mentions) if mentions else t(language, "remind.nobody_on_duty"))
        text += self._late_line(language, late)
        await self._post_reminder(tx, view, reminder, agency, agency.chat_id, text, now)
        await _agency_event(tx, incident.id, EventKind.REMINDED, agency, now)

    async def _post_reminder(
        self,
        tx: Tx,
        view: IncidentView,
        reminder: Reminder,
        agency: Agency | None,
        chat_id: int,
        text: str,
        now: datetime,
        *,
        thread_id: int | None = None,
        priority: Priority = Priority.REMINDER,
    ) -> None:
        """A reminder about `agency` (None: about the whole call) to one chat (under the card
        in the agency's own): one of the incident's posts, edited to say what happened once it
        no longer applies."""
        incident_id = view.incident.id
        agency_id = agency.id if agency is not None else 0
        ref = reminder_ref(incident_id, agency_id, reminder.kind.value, chat_id, reminder.attempt)
        if agency is not None and chat_id == agency.chat_id:
            message = _under_card(agency, incident_id, text, ref)
        else:
            message = text_message(chat_id, text, priority=priority, thread_id=thread_id, ref=ref)
        await tx.enqueue(message, now)
        await tx.add_post(
            incident_id,
            ref,
            PostKind.REMINDER,
            chat_id,
            agency_id=agency.id if agency is not None else None,
        )

    async def _remind_unowned(
        self, tx: Tx, view: IncidentView, reminder: Reminder, now: datetime, late: timedelta | None
    ) -> None:
        """A call no agency is routed to and nobody has taken over: every dispatcher and
        coordinator (and their group), until one presses 🙋 Ambil alih or routes it."""
        incident = view.incident
        minutes = _minutes(now - incident.created_at)
        for chat_id, thread_id, language in await operator_chats(tx, self.settings, with_feed=True):
            text = t(
                language,
                "remind.unowned",
                number=incident.id,
                type=Html(type_label(language, incident.type)),
                minutes=minutes,
            ) + self._late_line(language, late)
            await self._post_reminder(
                tx,
                view,
                reminder,
                None,
                chat_id,
                text,
                now,
                thread_id=thread_id,
                priority=Priority.URGENT,
            )
        await tx.add_event(incident.id, EventKind.ESCALATED, now, detail={"agency": "—"})

    async def _remind_unmoved(
        self,
        tx: Tx,
        view: IncidentView,
        reminder: Reminder,
        agency: Agency,
        now: datetime,
        late: timedelta | None,
    ) -> None:
        """Acknowledged, but nobody of the agency assigned or on the way: its group, under the
        card with its on-duty members mentioned, and each of them in private."""
        language = self._language()
        incident = view.incident
        response = view.response_of(agency.id)
        since = response.acknowledged_at if response and response.acknowledged_at else now
        minutes = _minutes(now - since)
        mentions, _names = await self._on_duty_mentions(tx, agency.id, now)
        params = {
            "number": incident.id,
            "type": Html(type_label(language, incident.type)),
            "agency": agency.name,
            "minutes": minutes,
        }
        text = t(language, "remind.unmoved", **params)
        text += "\n" + (Html(mentions) if mentions else t(language, "remind.nobody_on_duty"))
        text += self._late_line(language, late)
        await self._post_reminder(tx, view, reminder, agency, agency.chat_id, text, now)
        for member in await tx.members(agency.id, now):
            if not member.on_duty or not await tx.may_message(member.user_id):
                continue
            own = await self._language_of(tx, member.user_id)
            private = t(
                own,
                "remind.unmoved_private",
                **{**params, "type": Html(type_label(own, incident.type))},
            )
            await self._post_reminder(tx, view, reminder, agency, member.user_id, private, now)
        await _agency_event(tx, incident.id, EventKind.REMINDED, agency, now)

    async def _escalate_unmoved(
        self,
        tx: Tx,
        view: IncidentView,
        reminder: Reminder,
        agency: Agency | None,
        now: datetime,
        late: timedelta | None,
    ) -> None:
        """Still nobody moving after the agency's reminders: the coordinators are told (no
        card: the phone number is not repeated), each copy edited once it is moot."""
        if agency is None:
            return
        incident = view.incident
        response = view.response_of(agency.id)
        since = response.acknowledged_at if response and response.acknowledged_at else now
        _mentions, on_duty = await self._on_duty_mentions(tx, agency.id, now)
        for chat_id, thread_id, language in await self._coordinator_targets(
            tx, view, reminder, now
        ):
            text = "\n".join(
                [
                    t(
                        language,
                        "remind.unmoved_escalation",
                        number=incident.id,
                        agency=agency.name,
                        minutes=_minutes(now - since),
                    ),
                    t(language, "remind.on_duty_there", names=", ".join(on_duty) or "—"),
                ]
            ) + self._late_line(language, late)
            await self._post_reminder(
                tx, view, reminder, agency, chat_id, text, now, thread_id=thread_id
            )
        await _agency_event(tx, incident.id, EventKind.ESCALATED, agency, now)

    async def _escalate(
        self,
        tx: Tx,
        view: IncidentView,
        reminder: Reminder,
        agency: Agency | None,
        now: datetime,
        late: timedelta | None,
        *,
        last: bool = False,
    ) -> None:
        """Tell the coordinators an agency has not acknowledged. Each copy is one of the
        incident's posts: once the call is owned, it is edited to say by whom and loses its
        Acknowledge-for button (`IncidentService.refresh`). `last`: a configured cap of
        escalations is reached, and the copy says so."""
        incident = view.incident
        agency_name = agency.name if agency else "?"
        agency_id = reminder.agency_id or 0
        on_duty: list[str] = []
        if agency is not None:
            _mentions, on_duty = await self._on_duty_mentions(tx, agency.id, now)
        targets = await self._coordinator_targets(tx, view, reminder, now)
        posted = {p.ref for p in await tx.posts(incident.id) if p.kind == PostKind.ESCALATION}
        minutes = _minutes(now - incident.created_at)
        for chat_id, thread_id, language in targets:
            text = "\n".join(
                [
                    t(
                        language,
                        "remind.escalation",
                        number=incident.id,
                        agency=agency_name,
                        minutes=_minutes(now - incident.created_at),
                    ),
                    t(language, "remind.on_duty_there", names=", ".join(on_duty) or "—"),
                ]
            )
            text += self._late_line(language, late)
            if last:
                text += "\n" + t(
                    language, "remind.escalation_last", count=self.policy.escalation_max
                )
            # The card without the reporter's phone: escalations repeat, and travel to people
            # outside the agency; whoever needs the number opens the incident (📄 Buka #N).
            text += "\n\n" + card_text(language, view, self.settings.zone, show_phone=False)
            keyboard = escalation_keyboard(
                language, incident.id, agency_id, agency_name, owned=False
            )
            # One detailed message per chat, edited with the latest state at every repeat;
            # each repeat also sends one short ping that notifies, and deletes the one before,
            # so a repeat wakes somebody without piling up messages.
            ref = escalation_ref(incident.id, agency_id, chat_id, 0)
            if ref not in posted:
                await tx.enqueue(
                    text_message(
                        chat_id,
                        text,
                        priority=Priority.URGENT,
                        keyboard=keyboard,
                        thread_id=thread_id,
                        ref=ref,
                    ),
                    now,
                )
                await tx.add_post(
                    incident.id, ref, PostKind.ESCALATION, chat_id, agency_id=agency_id
                )
                continue
            await tx.enqueue(edit_message(chat_id, ref, text, keyboard), now)
            ping = escalation_ping_ref(incident.id, agency_id, chat_id)
            if await tx.still_shown(ping):  # the previous ping, unless it went already
                await tx.enqueue(
                    OutgoingMessage(
                        chat_id, SendMethod.DELETE_MESSAGE, {}, Priority.URGENT, target_ref=ping
                    ),
                    now,
                )
            words = t(
                language, "remind.ping", number=incident.id, agency=agency_name, minutes=minutes
            )
            await tx.enqueue(
                text_message(
                    chat_id, words, priority=Priority.URGENT, thread_id=thread_id, ref=ping
                ),
                now,
            )
        await tx.add_event(
            incident.id,
            EventKind.ESCALATED,
            now,
            agency_id=reminder.agency_id,
            detail={"agency": agency_name},
        )

    async def _coordinator_targets(
        self, tx: Tx, view: IncidentView, reminder: Reminder, now: datetime
    ) -> list[tuple[int, int | None, Language]]:
        """The coordinators' group and every coordinator who started the bot; admins if none.

        Without a registered coordinators' group, admins are warned (once per incident)."""
        targets: list[tuple[int, int | None, Language]] = []
        group = await tx.coordinators_agency()
        people = await tx.user_ids_with_roles(COORDINATOR_ROLES)
        reaches = await tx.escalation_reaches(people)
        # Each coordinator as they chose (`/eskalasi`; both by default): the group gets its
        # copy while one of them wants it there; without a group, everyone privately.
        if group is not None and (
            not people or any(reaches.get(p, EscalationReach.BOTH).in_group for p in people)
        ):
            targets.append((group.chat_id, group.thread_id, self._language()))
        admins = await tx.admins_to_notify(self.settings.admin_user_ids)
        if not people and group is None:
            people = admins
        for user_id in people:
            if group is not None and not reaches.get(user_id, EscalationReach.BOTH).in_private:
                continue
            targets.append((user_id, None, await self._language_of(tx, user_id)))
        if group is None and reminder.attempt == self.policy.group_reminders:
            for admin_id in admins:
                language = await self._language_of(tx, admin_id)
                warning = t(language, "remind.no_coordinators_group", number=view.incident.id)
                await tx.enqueue(text_message(admin_id, warning, priority=Priority.URGENT), now)
        return targets

    async def _follow_up_task(
        self, tx: Tx, reminder: Reminder, view: IncidentView, now: datetime, late: timedelta | None
    ) -> None:
        assignment = next((a for a in view.assignments if a.id == reminder.assignment_id), None)
        if assignment is None:
            return
        incident = view.incident
        minutes = _minutes(now - assignment.updated_at)
        if reminder.kind is ReminderKind.OFFERED:
            agency = await tx.agency(assignment.agency_id)
            if agency is None:
                return
            language = self._language()
            text = t(
                language,
                "remind.offered",
                name=assignment.user_name,
                number=incident.id,
                minutes=minutes,
            )
            text += self._late_line(language, late)
            await tx.enqueue(_under_card(agency, incident.id, text), now)
            what = t(language, "remind.what_offered", name=assignment.user_name)
        else:
            language = await self._language_of(tx, assignment.user_id)
            key = (
                N_("remind.accepted")
                if reminder.kind is ReminderKind.ACCEPTED
                else N_("remind.en_route")
            )
            text = t(language, key, number=incident.id, minutes=minutes) + self._late_line(
                language, late
            )
            message = text_message(
                assignment.user_id,
                text,
                priority=Priority.REMINDER,
                reply_to=task_ref(assignment.id),
            )
            await tx.enqueue(message, now)
            agency = await tx.agency(assignment.agency_id)
            if reminder.kind is ReminderKind.EN_ROUTE and reminder.attempt > 0 and agency:
                # The second time, the assignee's agency hears it too.
                group_text = t(
                    self._language(),
                    "remind.en_route_group",
                    name=assignment.user_name,
                    number=incident.id,
                    minutes=minutes,
                )
                await tx.enqueue(_under_card(agency, incident.id, group_text), now)
            what = t(self._language(), "remind.what_asked", name=assignment.user_name)
        await tx.add_event(
            incident.id,
            EventKind.FOLLOW_UP,
            now,
            agency_id=assignment.agency_id,
            detail={"what": what},
        )

    async def _open_too_long(
        self, tx: Tx, view: IncidentView, now: datetime, late: timedelta | None
    ) -> None:
        incident = view.incident
        hours = max(1, round((now - incident.created_at).total_seconds() / 3600))
        for chat_id, thread_id, language in await operator_chats(tx, self.settings, with_feed=True):
            text = t(
                language,
                "remind.open_long",
                number=incident.id,
                type=Html(type_label(language, incident.type)),
                hours=hours,
            ) + self._late_line(language, late)
            await tx.enqueue(
                text_message(chat_id, text, priority=Priority.REMINDER, thread_id=thread_id), now
            )
        what = t(self._language(), "remind.what_open_long", hours=hours)
        await tx.add_event(incident.id, EventKind.FOLLOW_UP, now, detail={"what": what})

    async def _language_of(self, tx: Tx, user_id: int) -> Language:
        return await tx.language_of(user_id, self.settings.default_language)

    # --- the scheduler's own health ---

    async def overdue(self, grace: timedelta) -> tuple[int, datetime | None]:
        """Reminders more than `grace` past due: a stuck loop or a dead job."""
        async with self.store.read() as tx:
            return await tx.oldest_overdue(self.clock.now() - grace)

    async def alert_stuck(self, count: int, oldest: datetime) -> None:
        """Tell coordinators (or admins) that reminders are late."""
        now = self.clock.now()
        seconds = round((now - oldest).total_seconds())
        async with self.store.transaction() as tx:
            people = await tx.user_ids_with_roles(COORDINATOR_ROLES)
            people += [
                a
                for a in await tx.admins_to_notify(self.settings.admin_user_ids)
                if a not in people
            ]
            for user_id in people:
                language = await self._language_of(tx, user_id)
                text = t(language, "remind.self_check", count=count, seconds=seconds)
                await tx.enqueue(text_message(user_id, text, priority=Priority.URGENT), now)


async def _agency_event(
    tx: Tx, incident_id: int, kind: EventKind, agency: Agency, now: datetime
) -> None:
    """A reminder or an escalation about one agency, on the incident's timeline."""
    await tx.add_event(incident_id, kind, now, agency_id=agency.id, detail={"agency": agency.name})


class _Raced(Exception):
    """Another firing of the same reminder committed first: roll this one back."""


def _short(name: str) -> str:
    return name if len(name) <= NAME_MAX else name[: NAME_MAX - 1] + "…"


def _minutes(delta: timedelta) -> int:
    return max(1, round(delta.total_seconds() / 60))
