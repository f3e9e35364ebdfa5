"""Broadcast alerts: compose in private, send to many chats through the outbox, follow receipts.

A broadcast is a row in `broadcasts`, a draft until it is sent, so a restart in the middle of
composing loses nothing. Sending resolves the targets to chats and writes one delivery row and
one outbox row (plus a photo or pin before it) per chat, all in one transaction with the
sender's status message; the outbox sends them behind incident traffic. The status message is
re-rendered from the outbox rows after sends (and by a periodic refresh), so it is right after
a restart too. An emergency broadcast a chat does not confirm in time is sent there once more,
through the reminders table.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.i18n import pick_language, t
from bot.render.broadcast import (
    alert_text,
    details_text,
    received_keyboard,
    report_text,
    resend_text,
    status_keyboard,
    status_text,
)
from bot.services.cap import MsgType, cap_alert
from bot.services.conversations import Input, Photo, Point, Text
from bot.services.messages import edit_message, text_message
from bot.settings import Language, Settings
from bot.store import Recipient, Store, Tx
from models.agencies import Agency
from models.broadcast import (
    Broadcast,
    BroadcastStatus,
    Counts,
    Delivery,
    DeliveryState,
    Receipt,
    Step,
    TargetKind,
    TextProblem,
    Urgency,
    check_text,
)
from models.clock import Clock
from models.outbox import OutboxItem, OutgoingMessage, Priority, SendMethod
from models.refs import RefKind, alert_ref, alert_status_ref, parts_of
from models.reminders import Reminder
from models.report import LocationCheck, check_location

log = logging.getLogger(__name__)

RECENT_SHOWN = 10
STATUS_EVERY_SECONDS = 3.0  # the status message is edited at most this often while sending


class Notice(StrEnum):
    """Something to say before the question; values are message keys."""

    ALREADY_RUNNING = "broadcast.notice.already_running"
    REPORT_OPEN = "broadcast.notice.report_open"
    PHOTO_ADDED = "broadcast.notice.photo_added"
    LOCATION_ADDED = "broadcast.notice.location_added"
    LOCATION_INVALID = "broadcast.notice.location_invalid"
    UNSUPPORTED = "broadcast.notice.unsupported"
    USE_BUTTONS = "broadcast.notice.use_buttons"
    NO_AGENCY_CHOSEN = "broadcast.notice.no_agency_chosen"


@dataclass(frozen=True, slots=True)
class Compose:
    """What to tell the sender now about their draft."""

    draft: Broadcast | None  # None: there is no draft (any more)
    problem: TextProblem | None = None
    notice: Notice | None = None
    agencies: list[Agency] = field(default_factory=list)  # to choose from (AGENCIES)
    recipients: list[Recipient] = field(default_factory=list)  # it would go to (PREVIEW)
    sent: Broadcast | None = None  # just sent
    discarded: bool = False

    @property
    def step(self) -> Step | None:
        return None if self.draft is None else self.draft.step


@dataclass(frozen=True, slots=True)
class Stopped:
    broadcast: Broadcast
    dropped: int  # copies that will not go


class BroadcastService:
    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.resend_after = timedelta(minutes=settings.broadcast_resend_minutes)
        self._status_edited: dict[int, float] = {}  # broadcast id → monotonic time

    # --- composing (inside the sender's conversation: `bot.flows.broadcast`) ---

    async def start_in(
        self, tx: Tx, user_id: int, name: str, language: Language, now: datetime
    ) -> Compose:
        """Begin a broadcast draft, or carry on with the one in progress."""
        draft = await tx.broadcast_draft(user_id)
        if draft is not None:
            return await self._ask(tx, draft, notice=Notice.ALREADY_RUNNING)
        draft = await tx.create_broadcast_draft(user_id, name, language, now)
        return Compose(draft)

    async def current_in(self, tx: Tx, user_id: int) -> Compose | None:
        """The draft's question again; None when the person has no draft."""
        draft = await tx.broadcast_draft(user_id)
        return None if draft is None else await self._ask(tx, draft, notice=Notice.ALREADY_RUNNING)

    async def answer_in(self, tx: Tx, user_id: int, given: Input, now: datetime) -> Compose | None:
        """A private message for the draft; None when the person has no broadcast draft."""
        draft = await tx.broadcast_draft(user_id)
        if draft is None:
            return None
        if isinstance(given, Photo):
            changes: dict[str, object] = {"photo_file_id": given.file_id}
            caption = (given.caption or "").strip()
            if draft.step is Step.TEXT and caption:
                problem = check_text(caption)
                if problem is not None:
                    return await self._ask(tx, draft, problem=problem)
                changes |= {"text": caption, "step": Step.URGENCY}
            await tx.update_broadcast_draft(draft.id, now, **changes)
            return await self._reload(tx, draft.id, notice=Notice.PHOTO_ADDED)
        if isinstance(given, Point):
            if check_location(given.latitude, given.longitude) is LocationCheck.INVALID:
                return await self._ask(tx, draft, notice=Notice.LOCATION_INVALID)
            await tx.update_broadcast_draft(
                draft.id, now, latitude=given.latitude, longitude=given.longitude
            )
            return await self._reload(tx, draft.id, notice=Notice.LOCATION_ADDED)
        if isinstance(given, Text) and draft.step is Step.TEXT:
            problem = check_text(given.text)
            if problem is not None:
                return await self._ask(tx, draft, problem=problem)
            await tx.update_broadcast_draft(
                draft.id, now, text=given.text.strip(), step=Step.URGENCY
            )
            return await self._reload(tx, draft.id)
        if isinstance(given, Text):
            return await self._ask(tx, draft, notice=Notice.USE_BUTTONS)
        return await self._ask(tx, draft, notice=Notice.UNSUPPORTED)

    async def choose_urgency(
        self, tx: Tx, user_id: int, draft_id: int, index: int, now: datetime
    ) -> Compose | None:
        urgencies = list(Urgency)
        if not 0 <= index < len(urgencies):
            return None
        return await self._move(
            tx, user_id, draft_id, Step.URGENCY, now, urgency=urgencies[index], step=Step.TARGETS
        )

    async def choose_target(
        self, tx: Tx, user_id: int, draft_id: int, index: int, now: datetime
    ) -> Compose | None:
        kinds = list(TargetKind)
        if not 0 <= index < len(kinds):
            return None
        kind = kinds[index]
        step = Step.AGENCIES if kind is TargetKind.AGENCIES else Step.PREVIEW
        return await self._move(
            tx, user_id, draft_id, Step.TARGETS, now, target_kind=kind, step=step
        )

    async def retarget(self, tx: Tx, user_id: int, draft_id: int, now: datetime) -> Compose | None:
        return await self._move(tx, user_id, draft_id, Step.PREVIEW, now, step=Step.TARGETS)

    async def toggle_agency(
        self, tx: Tx, user_id: int, draft_id: int, agency_id: int, now: datetime
    ) -> Compose | None:
        draft = await self._own_draft(tx, user_id, draft_id, Step.AGENCIES)
        if draft is None:
            return None
        agency = await tx.agency(agency_id)
        if agency is None or not agency.active:
            return await self._ask(tx, draft)
        chosen = set(draft.agency_ids) ^ {agency_id}
        await tx.set_broadcast_agencies(draft.id, tuple(chosen), now)
        return await self._reload(tx, draft.id)

    async def agencies_shown(self, tx: Tx, user_id: int, draft_id: int) -> Compose | None:
        """The agency picker again (another page of it); None for a stale button."""
        draft = await self._own_draft(tx, user_id, draft_id, Step.AGENCIES)
        return None if draft is None else await self._ask(tx, draft)

    async def agencies_done(
        self, tx: Tx, user_id: int, draft_id: int, now: datetime
    ) -> Compose | None:
        draft = await self._own_draft(tx, user_id, draft_id, Step.AGENCIES)
        if draft is None:
            return None
        if not draft.agency_ids:
            return await self._ask(tx, draft, notice=Notice.NO_AGENCY_CHOSEN)
        await tx.update_broadcast_draft(draft.id, now, step=Step.PREVIEW)
        return await self._reload(tx, draft.id)

    async def discard_in(self, tx: Tx, user_id: int, draft_id: int | None = None) -> bool:
        """Drop the person's draft (only the one named, when a button names it)."""
        draft = await tx.broadcast_draft(user_id)
        if draft is None or (draft_id is not None and draft.id != draft_id):
            return False
        return await tx.delete_broadcast_draft(user_id)

    async def _move(
        self, tx: Tx, user_id: int, draft_id: int, at: Step, now: datetime, **changes: object
    ) -> Compose | None:
        """Answer the question the draft is on with a button; None for a stale button."""
        draft = await self._own_draft(tx, user_id, draft_id, at)
        if draft is None:
            return None
        await tx.update_broadcast_draft(draft.id, now, **changes)
        return await self._reload(tx, draft.id)

    async def _own_draft(self, tx: Tx, user_id: int, draft_id: int, at: Step) -> Broadcast | None:
        draft = await tx.broadcast_draft(user_id)
        if draft is None or draft.id != draft_id or draft.step is not at:
            return None  # an old button: another draft, or a question already answered
        return draft

    async def _reload(self, tx: Tx, draft_id: int, *, notice: Notice | None = None) -> Compose:
        draft = await tx.broadcast(draft_id)
        assert draft is not None
        return await self._ask(tx, draft, notice=notice)

    async def _ask(
        self,
        tx: Tx,
        draft: Broadcast,
        *,
        problem: TextProblem | None = None,
        notice: Notice | None = None,
    ) -> Compose:
        if draft.step is Step.AGENCIES:
            agencies = [a for a in await tx.active_agencies() if a.is_agency]
            return Compose(draft, problem, notice, agencies=agencies)
        if draft.step is Step.PREVIEW:
            recipients = await self._recipients(tx, draft)
            return Compose(draft, problem, notice, recipients=recipients)
        return Compose(draft, problem, notice)

    async def _recipients(self, tx: Tx, draft: Broadcast) -> list[Recipient]:
        """The chats the draft's targets mean now, each once; never the sender themself."""
        kind = draft.target_kind
        found: list[Recipient] = []
        group_language = self.settings.default_language
        if kind in (TargetKind.GROUPS, TargetKind.EVERYONE, TargetKind.AGENCIES):
            chosen = set(draft.agency_ids)
            by_chat: dict[int, list[Agency]] = {}
            for agency in await tx.active_agencies():
                if kind is not TargetKind.AGENCIES or agency.id in chosen:
                    by_chat.setdefault(agency.chat_id, []).append(agency)
            for chat_id, agencies in by_chat.items():
                # One copy per chat. An agency bound to a forum topic gets it there; several
                # agencies sharing a forum get it once, in its general topic, for all of them.
                first = agencies[0]
                found.append(
                    Recipient(
                        chat_id,
                        first.thread_id if len(agencies) == 1 else None,
                        ", ".join(agency.name for agency in agencies),
                        group_language,
                        agency_id=first.id,
                    )
                )
        if kind in (TargetKind.ON_DUTY, TargetKind.EVERYONE):
            people = await tx.people_to_alert(
                self.clock.now(), on_duty_only=kind is TargetKind.ON_DUTY
            )
            found += [
                replace(person, language=pick_language(person.language, group_language))
                for person in people
            ]
        seen: set[int] = {draft.sender_id}
        unique = []
        for recipient in found:
            if recipient.chat_id not in seen:
                seen.add(recipient.chat_id)
                unique.append(recipient)
        return unique

    # --- sending ---

    async def send(self, tx: Tx, user_id: int, draft_id: int, now: datetime) -> Compose | None:
        """Send the draft to every chat its targets mean now; None for a stale button."""
        draft = await self._own_draft(tx, user_id, draft_id, Step.PREVIEW)
        if draft is None:
            return None
        recipients = await self._recipients(tx, draft)
        if not recipients:
            return Compose(draft, recipients=[])
        if not await tx.start_sending(draft.id, now):
            return None
        broadcast = await tx.broadcast(draft.id)
        assert broadcast is not None
        # Queued with the sending, ahead of the status message it points to: the sender learns
        # the broadcast went out even if the bot stops right after this commit.
        sent = t(broadcast.language, "broadcast.sent", number=broadcast.id, count=len(recipients))
        await tx.enqueue(text_message(user_id, sent, remove_reply_keyboard=True, quiet=True), now)
        for recipient in recipients:
            await self._queue_copy(tx, broadcast, recipient, now)
        counts = await tx.broadcast_counts(broadcast.id)
        await tx.set_shown_counts(broadcast.id, counts)
        language = broadcast.language
        await tx.enqueue(
            text_message(
                broadcast.sender_id,
                status_text(language, broadcast, counts),
                keyboard=status_keyboard(language, broadcast),
                ref=alert_status_ref(broadcast.id),
            ),
            now,
        )
        log.info(
            "broadcast %s (%s) by %s to %d chats",
            broadcast.id,
            broadcast.urgency.value,
            user_id,
            len(recipients),
        )
        self._status_edited[broadcast.id] = time.monotonic()
        return Compose(None, sent=broadcast, recipients=recipients)

    async def _queue_copy(
        self, tx: Tx, broadcast: Broadcast, recipient: Recipient, now: datetime
    ) -> None:
        chat, thread = recipient.chat_id, recipient.thread_id
        common: dict[str, object] = {} if thread is None else {"message_thread_id": thread}
        quiet = {"disable_notification": True} if broadcast.urgency is Urgency.INFO else {}
        photo_id = location_id = None
        if broadcast.photo_file_id:
            photo_id = await tx.enqueue(
                OutgoingMessage(
                    chat,
                    SendMethod.SEND_PHOTO,
                    {"photo": broadcast.photo_file_id, **common, **quiet},
                    Priority.BROADCAST,
                ),
                now,
            )
        if broadcast.latitude is not None and broadcast.longitude is not None:
            location_id = await tx.enqueue(
                OutgoingMessage(
                    chat,
                    SendMethod.SEND_LOCATION,
                    {
                        "latitude": broadcast.latitude,
                        "longitude": broadcast.longitude,
                        **common,
                        **quiet,
                    },
                    Priority.BROADCAST,
                ),
                now,
            )
        language = recipient.language
        outbox_id = await tx.enqueue(
            text_message(
                chat,
                alert_text(language, broadcast),
                priority=Priority.BROADCAST,
                keyboard=received_keyboard(language, broadcast.id),
                thread_id=thread,
                ref=alert_ref(broadcast.id, chat),
                quiet=broadcast.urgency is Urgency.INFO,  # news, not an alarm
            ),
            now,
        )
        await tx.add_delivery(
            broadcast.id,
            recipient,
            outbox_id,
            photo_outbox_id=photo_id,
            location_outbox_id=location_id,
        )
        if broadcast.urgency is Urgency.EMERGENCY:
            await tx.schedule_broadcast_reminder(broadcast.id, chat, now + self.resend_after, now)

    # --- following it ---

    async def after_send(self, item: OutboxItem) -> None:
        """The outbox settled one row: if it carried a broadcast, bring its status up to date."""
        parts = parts_of(item.ref, RefKind.ALERT)
        if parts is not None:
            broadcast_id = int(parts[0])
            last = self._status_edited.get(broadcast_id, 0.0)
            await self.refresh(broadcast_id, edit=time.monotonic() - last >= STATUS_EVERY_SECONDS)

    async def refresh_all(self) -> None:
        """Every broadcast still going out (after a start, and now and then as a safety net)."""
        async with self.store.read() as tx:
            sending = await tx.sending_broadcasts()
        for broadcast_id in sending:
            await self.refresh(broadcast_id, edit=True)

    async def refresh(self, broadcast_id: int, *, edit: bool = True) -> None:
        """Show the sender the present counts; once nothing is pending, the delivery report.

        `edit=False` only finishes a broadcast that is done (the status edit waits its turn).
        """
        now = self.clock.now()
        async with self.store.transaction() as tx:
            broadcast = await tx.broadcast(broadcast_id)
            if broadcast is None or broadcast.status is BroadcastStatus.DRAFT:
                return
            counts = await tx.broadcast_counts(broadcast_id)
            finished = (
                broadcast.status is BroadcastStatus.SENDING
                and not counts.pending
                and await tx.finish_broadcast(broadcast_id, now)
            )
            if finished:
                broadcast = replace(broadcast, status=BroadcastStatus.SENT, finished_at=now)
            changed = counts != await tx.shown_counts(broadcast_id)
            if not finished and not (edit and changed):
                return
            await self._show_status(tx, broadcast, counts, now)
            if finished:
                await self._report(tx, broadcast, now)
        self._status_edited[broadcast_id] = time.monotonic()
        if finished:
            log.info("broadcast %s done: %s", broadcast_id, counts)
            self._status_edited.pop(broadcast_id, None)

    async def _report(self, tx: Tx, broadcast: Broadcast, now: datetime) -> None:
        """The delivery report, under the status message, once nothing more will go."""
        report = report_text(broadcast.language, broadcast, await tx.deliveries(broadcast.id))
        await tx.enqueue(
            text_message(broadcast.sender_id, report, reply_to=alert_status_ref(broadcast.id)), now
        )

    async def _show_status(
        self, tx: Tx, broadcast: Broadcast, counts: Counts, now: datetime
    ) -> None:
        language = broadcast.language
        message = edit_message(
            broadcast.sender_id,
            alert_status_ref(broadcast.id),
            status_text(language, broadcast, counts),
            status_keyboard(language, broadcast),
            priority=Priority.NOTICE,
        )
        await tx.enqueue(message, now)
        await tx.set_shown_counts(broadcast.id, counts)

    async def confirm(self, broadcast_id: int, chat_id: int, user_id: int) -> Receipt:
        """Someone in `chat_id` pressed Received under broadcast `broadcast_id` (on a copy in
        an upgraded group's old history, `chat_id` is the old id)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            chat_id = await tx.current_chat_id(chat_id)
            broadcast = await tx.broadcast(broadcast_id)
            if broadcast is None:
                return Receipt.NOT_HERE
            if broadcast.status is BroadcastStatus.DRAFT:
                return Receipt.PREVIEW
            if broadcast.status is BroadcastStatus.CANCELLED:
                return Receipt.CANCELLED
            delivery = await tx.delivery(broadcast_id, chat_id)
            if delivery is None:
                # The sender's own preview stays in their chat after sending; it is no copy.
                return Receipt.PREVIEW if chat_id == broadcast.sender_id else Receipt.NOT_HERE
            if not await tx.record_receipt(broadcast_id, chat_id, user_id, now):
                return Receipt.ALREADY
            await tx.cancel_broadcast_reminders(broadcast_id, chat_id)
            names = await tx.confirmers(broadcast_id, chat_id)
            language = delivery.language
            message = edit_message(
                chat_id,
                delivery.ref,
                alert_text(language, broadcast, names),
                received_keyboard(language, broadcast_id),
                priority=Priority.NOTICE,
            )
            await tx.enqueue(message, now)
            counts = await tx.broadcast_counts(broadcast_id)
            shown = await tx.shown_counts(broadcast_id)
            if shown is None or shown.confirmed != counts.confirmed:
                await self._show_status(tx, broadcast, counts, now)
        return Receipt.CONFIRMED

    async def finished(self, broadcast_id: int) -> bool:
        """Whether the broadcast is no longer in progress (all sent, or stopped)."""
        async with self.store.lookup() as tx:
            broadcast = await tx.broadcast(broadcast_id)
        return broadcast is not None and broadcast.status in (
            BroadcastStatus.SENT,
            BroadcastStatus.CANCELLED,
        )

    async def stop(self, broadcast_id: int) -> Stopped | None:
        """Cancel a broadcast in progress: what is still waiting is dropped, what went stays.
        None when it is not in progress any more."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            dropped = await tx.cancel_broadcast(broadcast_id, now)
            if dropped is None:
                return None
            await tx.cancel_broadcast_reminders(broadcast_id)
            broadcast = await tx.broadcast(broadcast_id)
            assert broadcast is not None
            counts = await tx.broadcast_counts(broadcast_id)
            await self._show_status(tx, broadcast, counts, now)
            await self._report(tx, broadcast, now)
        log.info("broadcast %s cancelled: %d copies dropped", broadcast_id, dropped)
        self._status_edited.pop(broadcast_id, None)
        return Stopped(broadcast, dropped)

    async def resend(self, tx: Tx, reminder: Reminder, now: datetime) -> datetime | bool | None:
        """Fire an emergency re-send reminder inside the reminders' transaction.

        Returns False when it is moot (confirmed, cancelled, the copy failed), a time when it must
        wait (the first copy has not gone yet), or None once the copy was sent again.
        """
        assert reminder.broadcast_id is not None and reminder.chat_id is not None
        broadcast = await tx.broadcast(reminder.broadcast_id)
        delivery = await tx.delivery(reminder.broadcast_id, reminder.chat_id)
        if broadcast is None or delivery is None or delivery.resent:
            return False
        if broadcast.status is BroadcastStatus.CANCELLED:
            return False
        if delivery.state is DeliveryState.PENDING:
            return now + self.resend_after
        if delivery.state is not DeliveryState.SENT:
            return False
        if await tx.confirmers(reminder.broadcast_id, reminder.chat_id):
            return False
        language = delivery.language
        outbox_id = await tx.enqueue(
            text_message(
                reminder.chat_id,
                resend_text(language, broadcast),
                priority=Priority.REMINDER,
                keyboard=received_keyboard(language, broadcast.id),
                thread_id=delivery.thread_id,
                reply_to=delivery.ref,
            ),
            now,
        )
        await tx.set_resent(broadcast.id, reminder.chat_id, outbox_id)
        return None

    # --- looking back ---

    async def recent(self) -> list[tuple[Broadcast, Counts]]:
        async with self.store.read() as tx:
            return await tx.recent_broadcasts(RECENT_SHOWN)

    async def details(self, broadcast_id: int) -> tuple[Broadcast, list[Delivery]] | None:
        async with self.store.read() as tx:
            broadcast = await tx.broadcast(broadcast_id)
            if broadcast is None or broadcast.status is BroadcastStatus.DRAFT:
                return None
            return broadcast, await tx.deliveries(broadcast_id)

    async def details_text(self, broadcast_id: int, language: Language) -> str | None:
        found = await self.details(broadcast_id)
        if found is None:
            return None
        return details_text(language, *found, self.settings.zone)

    async def cap(self, broadcast_id: int, msg_type: MsgType | None = None) -> bytes | None:
        """The broadcast as a CAP 1.2 alert (None: no such broadcast, or still a draft); a
        stopped one is its Cancel unless `msg_type` asks for its Alert."""
        found = await self.details(broadcast_id)
        if found is None:
            return None
        broadcast, deliveries = found
        agencies = [d.label for d in deliveries if d.agency_id is not None]
        return cap_alert(
            broadcast,
            sender=self.settings.cap_sender,
            agency_names=agencies,
            zone=self.settings.zone,
            msg_type=msg_type,
        )

    async def get(self, broadcast_id: int) -> Broadcast | None:
        async with self.store.lookup() as tx:
            return await tx.broadcast(broadcast_id)

    async def cap_feed(self, limit: int) -> list[Broadcast]:
        """The broadcasts of the CAP feed: those that went out, stopped ones too, newest first."""
        async with self.store.lookup() as tx:
            return await tx.cap_broadcasts(limit)
