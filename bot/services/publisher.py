"""Posting an incident: the cards in every routed chat, their map pins and photos, the dispatchers'
copy of a call nobody is routed to, task cards, looked-up views, and every word to the reporter.

`IncidentService` decides what happens to an incident (its rules and state machines); the
publisher says it wherever it must be seen. Every operation runs inside the caller's transaction
(`tx`) and writes outbox rows, so a change and the messages it causes commit together.
`refresh` shows the incident as it is now in every chat it was posted to — each card, task card,
copy, escalation (and, when a person's data is erased, each looked-up view) — and queues no edit
that would change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot.i18n import t
from bot.render.alerts import card_link_label, duty_alert, mention_line
from bot.render.cards import (
    assignee_unreachable_text,
    card_markup,
    card_text,
    incident_text,
    reporter_confirmation,
    reporter_update,
    routed_to_nobody_text,
    task_card,
)
from bot.render.escalation import (
    escalation_erased,
    escalation_now,
    reminder_resolved,
    unowned_resolved,
)
from bot.render.info import erased_text, media_caption, posted_text
from bot.services.messages import Markup, edit_message, text_message
from bot.settings import Language, Settings
from bot.store import Post, Store, Tx
from models.agencies import Agency, Role
from models.clock import Clock
from models.incidents import (
    Assignment,
    CancelReason,
    IncidentView,
    Severity,
    Source,
)
from models.info import Info, InfoKind
from models.outbox import (
    COPY_SOURCE,
    LINK,
    NO_PIN_RIGHTS,
    PIN_RIGHTS_NOTICE,
    OutgoingMessage,
    Priority,
    SendMethod,
    changes,
)
from models.refs import (
    PostKind,
    RefKind,
    card_ref,
    duty_ref,
    escalation_ping_ref,
    feed_ref,
    info_ref,
    ops_ref,
    parts_of,
    task_ref,
    view_ref,
)
from models.reminders import ReminderKind, still_holds

log = logging.getLogger(__name__)

ADMINISTRATOR = "administrator"  # the bot's status in a group where it may pin

# Alerts of these severities always ring; the others as `ALERT_RING_BELOW_HIGH` says.
RINGING = frozenset({Severity.CRITICAL, Severity.HIGH})


def _card_link(language: Language, card: str) -> dict[str, str]:
    return {"ref": card, "text": card_link_label(language)}


# Media whose copy takes a caption (a location, a video note or a contact takes none).
CAPTIONED = frozenset({"voice", "video", "audio", "document"})


def media_copy(
    chat_id: int, language: Language, info: Info, *, ref: str | None = None
) -> OutgoingMessage | None:
    """A copy of the photo, place or file a reporter or note sent with `info` (None without one),
    captioned with where it comes from."""
    if info.chat_id is None or info.message_id is None or not _has_media(info):
        return None
    payload: dict[str, object] = {"from_chat_id": info.chat_id, COPY_SOURCE: info.message_id}
    if info.photo is not None or info.file_kind in CAPTIONED:
        payload["caption"] = media_caption(language, info)
        payload["parse_mode"] = "HTML"
    return OutgoingMessage(chat_id, SendMethod.COPY_MESSAGE, payload, Priority.URGENT, ref=ref)


def _has_media(info: Info) -> bool:
    return info.photo is not None or info.file_id is not None or info.has_point


OPERATOR_ROLES = (Role.DISPATCHER.value, Role.COORDINATOR.value)
COORDINATOR_ROLES = (Role.COORDINATOR.value,)


async def operator_chats(
    tx: Tx, settings: Settings, *, with_feed: bool = False
) -> list[tuple[int, int | None, Language]]:
    """Where the 112 room is reached — the coordinators' group (and the operators' feed, when
    `with_feed`: reminders) and every dispatcher and coordinator who started the bot, admins
    when there is nobody — with the language of each (chat id, forum topic, language)."""
    chats: list[tuple[int, int | None, Language]] = []
    group = await tx.coordinators_agency()
    if group is not None:
        chats.append((group.chat_id, group.thread_id, settings.default_language))
    feed = await tx.operators_agency() if with_feed else None
    if feed is not None:
        chats.append((feed.chat_id, feed.thread_id, settings.default_language))
    people = await tx.user_ids_with_roles(OPERATOR_ROLES)
    if not people and group is None:
        people = await tx.admins_to_notify(settings.admin_user_ids)
    for user_id in people:
        chats.append((user_id, None, await tx.language_of(user_id, settings.default_language)))
    return chats


class Publisher:
    """Every message about incidents, queued in the caller's transaction."""

    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings

    @property
    def group_language(self) -> Language:
        # Groups have no language of their own; the service's default speaks to them.
        return self.settings.default_language

    # --- posting ---

    async def post_card(self, tx: Tx, view: IncidentView, agency: Agency, now: datetime) -> None:
        incident = view.incident
        ref = card_ref(incident.id, agency.id)
        language = self.group_language
        await tx.enqueue(
            text_message(
                agency.chat_id,
                await self._agency_card(tx, language, view, agency.id, now),
                priority=Priority.URGENT,
                keyboard=card_markup(language, view, agency.id),
                thread_id=agency.thread_id,
                ref=ref,
                protect=True,  # the reporter's phone number is on it
            ),
            now,
        )
        await tx.add_post(incident.id, ref, PostKind.CARD, agency.chat_id, agency_id=agency.id)
        await self.post_attachments(tx, view, agency.chat_id, agency.thread_id, now)
        await self.alert_on_duty(tx, view, agency, now)

    async def alert_on_duty(self, tx: Tx, view: IncidentView, agency: Agency, now: datetime) -> int:
        """A private alert to every on-duty member of `agency` the bot may write to, after the
        card (each waits for the card to be sent, and links to it). Critical and high severity
        ring; medium and low ring unless `ALERT_RING_BELOW_HIGH` is off. How many."""
        incident = view.incident
        card = card_ref(incident.id, agency.id)
        ring = incident.severity in RINGING or self.settings.alert_ring_below_high
        sent = 0
        for member in await tx.members(agency.id, now):
            if not member.on_duty or not await tx.may_message(member.user_id):
                continue
            language = await self._language_of(tx, member.user_id)
            text, keyboard = duty_alert(language, view, agency.id, agency.name, self.settings.zone)
            ref = duty_ref(incident.id, agency.id, member.user_id)
            message = text_message(
                member.user_id,
                text,
                priority=Priority.URGENT,
                keyboard=keyboard,
                ref=ref,
                reply_to=card,  # waits for the card: never ahead of it
            )
            payload = {**message.payload, LINK: _card_link(language, card)}
            if not ring:
                payload["disable_notification"] = True
            await tx.enqueue(replace(message, payload=payload), now)
            await tx.add_post(incident.id, ref, PostKind.DUTY, member.user_id, agency_id=agency.id)
            sent += 1
        if sent:
            log.info("#%s: %d on-duty members of %s alerted", incident.id, sent, agency.code)
        return sent

    async def post_attachments(
        self, tx: Tx, view: IncidentView, chat_id: int, thread_id: int | None, now: datetime
    ) -> None:
        """The map pin and the photos, after the card."""
        incident = view.incident
        extra: dict[str, object] = {} if thread_id is None else {"message_thread_id": thread_id}
        location = incident.location
        if location.has_point:
            payload: dict[str, object] = {
                "latitude": location.latitude,
                "longitude": location.longitude,
                **extra,
            }
            method = SendMethod.SEND_LOCATION
            if location.address or incident.drill_id is not None:
                # A drill's pin goes as a venue: its title carries the drill's marker.
                method = SendMethod.SEND_VENUE
                payload["title"] = f"#{incident.id}"
                payload["address"] = (location.address or f"#{incident.id}")[:200]
            await tx.enqueue(OutgoingMessage(chat_id, method, payload, Priority.URGENT), now)
        photos = list(incident.photos)
        if len(photos) == 1:
            await tx.enqueue(
                OutgoingMessage(
                    chat_id,
                    SendMethod.SEND_PHOTO,
                    {"photo": photos[0], "caption": f"#{incident.id}", **extra},
                    Priority.URGENT,
                ),
                now,
            )
        elif photos:
            media = [{"type": "photo", "media": file_id} for file_id in photos]
            media[0]["caption"] = f"#{incident.id}"
            await tx.enqueue(
                OutgoingMessage(
                    chat_id, SendMethod.SEND_MEDIA_GROUP, {"media": media, **extra}, Priority.URGENT
                ),
                now,
            )

    async def post_to_operators(self, tx: Tx, view: IncidentView, now: datetime) -> None:
        """Nobody is registered for this type: the coordinators' group and every dispatcher and
        coordinator get it instead, and admins if there are none — never nobody."""
        incident = view.incident
        for chat_id, thread_id, language in await operator_chats(tx, self.settings):
            ref = ops_ref(incident.id, chat_id)
            await tx.enqueue(
                text_message(
                    chat_id,
                    self._ops_text(language, view),
                    priority=Priority.URGENT,
                    keyboard=card_markup(language, view, None),
                    thread_id=thread_id,
                    ref=ref,
                    protect=True,  # the reporter's phone number is on it
                ),
                now,
            )
            await tx.add_post(incident.id, ref, PostKind.OPS, chat_id)
            await self.post_attachments(tx, view, chat_id, thread_id, now)

    async def post_to_feed(self, tx: Tx, view: IncidentView, now: datetime) -> None:
        """Every incident's card in the 112 operators' feed, when one is registered: one
        message with the dispatchers' buttons, edited in place like every card (no map pin or
        photos, so a flood day's calls fit in Telegram's limit for one group); a critical
        incident is pinned while open."""
        feed = await tx.operators_agency()
        if feed is None:
            return
        incident = view.incident
        ref = feed_ref(incident.id)
        language = self.group_language
        await tx.enqueue(
            text_message(
                feed.chat_id,
                self._ops_text(language, view),
                priority=Priority.URGENT,
                keyboard=card_markup(language, view, None),
                thread_id=feed.thread_id,
                ref=ref,
                protect=True,  # the reporter's phone number is on it
            ),
            now,
        )
        await tx.add_post(incident.id, ref, PostKind.FEED, feed.chat_id)
        await self._keep_pinned(tx, view, feed.chat_id, ref, False, now)

    async def _keep_pinned(
        self, tx: Tx, view: IncidentView, chat_id: int, ref: str, pinned: bool, now: datetime
    ) -> None:
        """Pin the feed's card of a critical open incident, unpin it once it is neither. A pin
        the bot may not make falls back to saying, once per chat, that it needs the right."""
        incident = view.incident
        wanted = incident.pinned_in_feed
        if wanted == pinned:
            return
        feed = await tx.operators_agency()
        thread_id = feed.thread_id if feed is not None and feed.chat_id == chat_id else None
        explain = text_message(
            chat_id,
            t(self.group_language, "feed.pin_rights"),
            priority=Priority.NOTICE,
            thread_id=thread_id,
            quiet=True,
        )
        method = SendMethod.PIN_CHAT_MESSAGE if wanted else SendMethod.UNPIN_CHAT_MESSAGE
        payload: dict[str, object] = {"disable_notification": True} if wanted else {}
        pin = OutgoingMessage(
            chat_id, method, payload, Priority.URGENT, target_ref=ref, fallback=explain
        )
        await tx.set_pinned(incident.id, ref, wanted)
        status = await tx.bot_status_in(chat_id)
        if status is None or status == ADMINISTRATOR:
            await tx.enqueue(pin, now)  # refused after all: the outbox says why, once
            return
        # Known not to be an admin there: the pin waits for a promotion without asking.
        await tx.enqueue_parked(pin, now, f"{NO_PIN_RIGHTS} (the bot is not an admin here)")
        if await tx.first_notice(chat_id, PIN_RIGHTS_NOTICE, now):
            await tx.enqueue(explain, now)

    async def confirm_report(
        self, tx: Tx, view: IncidentView, agency_names: list[str], now: datetime
    ) -> None:
        """Tell the reporter their report was filed, and where it went."""
        incident = view.incident
        if incident.reporter_id is None or incident.source is not Source.REPORT:
            return
        language = await self._language_of(tx, incident.reporter_id)
        similar = view.similar_to.of_id if view.similar_to is not None else None
        text = reporter_confirmation(language, incident.id, agency_names, not agency_names, similar)
        await tx.enqueue(text_message(incident.reporter_id, text, quiet=True), now)

    async def post_task_card(
        self, tx: Tx, view: IncidentView, assignment: Assignment, now: datetime
    ) -> None:
        """The assignee's private task card; if they never opened the chat with the bot, the
        agency's chat is asked to tell them to."""
        language = await self._language_of(tx, assignment.user_id)
        text, keyboard = task_card(language, view, assignment, self.settings.zone)
        agency = await tx.agency(assignment.agency_id)
        fallback = None
        if agency is not None:
            fallback = text_message(
                agency.chat_id,
                assignee_unreachable_text(self.group_language, assignment.user_name),
                priority=Priority.URGENT,
                thread_id=agency.thread_id,
            )
        ref = task_ref(assignment.id)
        message = text_message(
            assignment.user_id, text, priority=Priority.URGENT, keyboard=keyboard, ref=ref
        )
        await tx.enqueue(replace(message, fallback=fallback), now)
        await tx.add_post(
            view.incident.id,
            ref,
            PostKind.TASK,
            assignment.user_id,
            agency_id=assignment.agency_id,
            assignment_id=assignment.id,
        )

    async def send_view(
        self,
        incident_id: int,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None,
        update_id: int,
        asked_here: bool,
    ) -> bool:
        """Send a looked-up incident (/kejadian, Open #N) to a chat. It is one of the incident's
        posts, so erasing a person's data reaches this copy too. Unless it was asked for in
        that very chat (`asked_here`), False when the chat is a person who never pressed Start
        (the bot may not write to them)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            if not asked_here and chat_id > 0 and not await tx.may_message(chat_id):
                return False
            ref = view_ref(incident_id, chat_id, update_id)
            message = text_message(
                chat_id, text, priority=Priority.URGENT, thread_id=thread_id, protect=True
            )
            await tx.enqueue(replace(message, ref=ref), now)
            await tx.add_post(incident_id, ref, PostKind.VIEW, chat_id)
        return True

    async def post_info(
        self,
        tx: Tx,
        incident_id: int,
        info: Info,
        question: Info | None,
        now: datetime,
        *,
        skip_chat: int | None = None,
    ) -> int:
        """An answer, an addition or a note under the card in every chat the incident was
        posted to (agencies' cards and the operators' copies), with a copy of the photo, place
        or file that came with it; how many chats. `skip_chat`: where it was written already
        (a reply confirmed as a note)."""
        count = 0
        for post in await tx.posts(incident_id):
            if post.kind not in (PostKind.CARD, PostKind.OPS) or post.chat_id == skip_chat:
                continue
            language = await self._chat_language(tx, post.chat_id)
            ref = info_ref(info.id, post.chat_id, "t")
            text = posted_text(language, info, question)
            message = text_message(
                post.chat_id, text, priority=Priority.URGENT, ref=ref, reply_to=post.ref
            )
            await tx.enqueue(message, now)
            await tx.add_post(
                incident_id, ref, PostKind.INFO, post.chat_id, agency_id=post.agency_id
            )
            copy = media_copy(
                post.chat_id, language, info, ref=info_ref(info.id, post.chat_id, "m")
            )
            if copy is not None:
                await tx.enqueue(replace(copy, target_ref=post.ref), now)
                assert copy.ref is not None
                await tx.add_post(
                    incident_id, copy.ref, PostKind.INFO, post.chat_id, agency_id=post.agency_id
                )
            count += 1
        return count

    async def post_info_to(
        self, tx: Tx, incident_id: int, chat_id: int, text: str, info: Info, now: datetime
    ) -> None:
        """`text` about `info` to one person (the asker of a question, in private), with the
        copy of what came with it: remembered like the posts under the cards, so erasing the
        reporter's data reaches these too."""
        ref = info_ref(info.id, chat_id, "t")
        await tx.enqueue(text_message(chat_id, text, priority=Priority.URGENT, ref=ref), now)
        await tx.add_post(incident_id, ref, PostKind.INFO, chat_id)
        language = await self._chat_language(tx, chat_id)
        copy = media_copy(chat_id, language, info, ref=info_ref(info.id, chat_id, "m"))
        if copy is not None and copy.ref is not None:
            await tx.enqueue(copy, now)
            await tx.add_post(incident_id, copy.ref, PostKind.INFO, chat_id)

    async def _erase_info_post(self, tx: Tx, view: IncidentView, post: Post, now: datetime) -> None:
        """A reporter's answer or addition whose author erased their data: the copy of what
        they sent goes; the text says it was erased."""
        parts = parts_of(post.ref, RefKind.INFO)
        if parts is None:
            return
        info = next((i for i in view.infos if str(i.id) == parts[0]), None)
        if info is None or info.author_id is not None or info.kind is InfoKind.NOTE:
            return  # not a reporter's words, or not erased
        if parts[-1] == "m":
            delete = OutgoingMessage(
                post.chat_id, SendMethod.DELETE_MESSAGE, {}, Priority.NOTICE, target_ref=post.ref
            )
            if post.settled:
                await tx.enqueue(delete, now)
            return
        language = await self._chat_language(tx, post.chat_id)
        edit = edit_message(post.chat_id, post.ref, erased_text(language, info), None)
        if post.settled and not changes(edit, post.shown):
            return
        await tx.enqueue(edit, now, supersede=not post.settled)

    # --- re-rendering everywhere ---

    def _ops_text(self, language: Language, view: IncidentView) -> str:
        """The copy for dispatchers and coordinators; headed as such while no agency has it."""
        card = card_text(language, view, self.settings.zone, show_phone=True)
        if view.responses:
            return card
        return routed_to_nobody_text(language, view) + "\n\n" + card

    async def refresh(
        self,
        tx: Tx,
        incident_id: int,
        now: datetime,
        view: IncidentView | None = None,
        *,
        erasing: bool = False,
    ) -> IncidentView | None:
        """Re-render the incident in every chat it was posted to. `view`: the incident as it
        stands in `tx` now, when the caller has it at hand; otherwise it is read. Escalations
        change once, when the call is owned; looked-up views are snapshots, shown again only
        when a person's data was erased (`erasing`), as is everything else."""
        if view is None:
            view = await tx.incident_view(incident_id)
        if view is None:
            return None
        zone = self.settings.zone
        events = None
        languages: dict[int, Language] = {}  # each person's, looked up once per refresh
        for post in await tx.posts(incident_id):
            rendered: tuple[str, InlineKeyboardMarkup | Markup | None] | None
            if post.kind == PostKind.TASK:
                assignment = next((a for a in view.assignments if a.id == post.assignment_id), None)
                if assignment is None:
                    continue
                language = await self._language_of(tx, assignment.user_id)
                rendered = task_card(language, view, assignment, zone)
            elif post.kind == PostKind.OPS:
                language = await self._chat_language(tx, post.chat_id)
                rendered = self._ops_text(language, view), card_markup(language, view, None)
            elif post.kind == PostKind.FEED:
                language = self.group_language
                rendered = self._ops_text(language, view), card_markup(language, view, None)
                await self._keep_pinned(tx, view, post.chat_id, post.ref, post.pinned, now)
            elif post.kind == PostKind.ESCALATION:
                language = await self._chat_language(tx, post.chat_id)
                agency_id = post.agency_id or 0
                rendered = (
                    escalation_erased(language, view, agency_id, zone)
                    if erasing
                    else escalation_now(language, view, agency_id, zone)
                )
                if rendered is not None and not erasing:
                    await self._settle_ping(tx, post, incident_id, agency_id, rendered, now)
            elif post.kind == PostKind.INFO:
                if erasing:
                    await self._erase_info_post(tx, view, post, now)
                continue
            elif post.kind == PostKind.DUTY:
                response = view.response_of(post.agency_id) if post.agency_id else None
                if response is None:
                    continue
                if post.chat_id not in languages:
                    languages[post.chat_id] = await self._language_of(tx, post.chat_id)
                language = languages[post.chat_id]
                agency_id = response.agency_id
                text, keyboard = duty_alert(language, view, agency_id, response.agency_name, zone)
                edit = edit_message(post.chat_id, post.ref, text, keyboard)
                if post.settled and not changes(edit, post.shown):
                    continue
                payload = {
                    **edit.payload,
                    LINK: _card_link(language, card_ref(incident_id, agency_id)),
                }
                await tx.enqueue(replace(edit, payload=payload), now, supersede=not post.settled)
                continue
            elif post.kind == PostKind.REMINDER:
                parts = parts_of(post.ref, RefKind.REMINDER)
                if parts is None:
                    continue
                kind = ReminderKind(parts[2])
                if still_holds(kind, view, post.agency_id, None):
                    continue  # still true: the reminder stays as sent
                language = await self._chat_language(tx, post.chat_id)
                if post.agency_id is None:
                    rendered = unowned_resolved(language, view, zone), None
                else:
                    text = reminder_resolved(language, view, post.agency_id, kind, zone)
                    rendered = text, None
            elif post.kind == PostKind.VIEW:
                if not erasing:
                    continue
                language = await self._chat_language(tx, post.chat_id)
                events = events if events is not None else await tx.events(incident_id)
                rendered = incident_text(language, view, events, zone, show_phone=False), None
            else:
                language = self.group_language
                rendered = (
                    await self._agency_card(tx, language, view, post.agency_id, now),
                    card_markup(language, view, post.agency_id),
                )
            if rendered is None:
                continue
            edit = edit_message(post.chat_id, post.ref, *rendered)
            if post.settled and not changes(edit, post.shown):
                continue  # it shows this already (Telegram refuses an edit that changes nothing)
            # Settled: no edit of it is waiting, so none to supersede.
            await tx.enqueue(edit, now, supersede=not post.settled)
        return view

    async def _agency_card(
        self, tx: Tx, language: Language, view: IncidentView, agency_id: int | None, now: datetime
    ) -> str:
        """An agency's card; with its on-duty members mentioned when `CARD_MENTIONS_ON_DUTY`."""
        text = card_text(language, view, self.settings.zone, show_phone=True)
        if (
            not self.settings.card_mentions_on_duty
            or agency_id is None
            or view.incident.lifecycle.closed
        ):
            return text
        line = mention_line(language, await tx.members(agency_id, now))
        return text if line is None else f"{text}\n{line}"

    async def _settle_ping(
        self,
        tx: Tx,
        post: Post,
        incident_id: int,
        agency_id: int,
        rendered: tuple[str, InlineKeyboardMarkup | Markup | None],
        now: datetime,
    ) -> None:
        """The call is owned: the escalation's last ping goes, once, as its detailed message
        is edited to say who owns it."""
        if post.settled and not changes(
            edit_message(post.chat_id, post.ref, *rendered), post.shown
        ):
            return  # already says so: the ping went then
        ping = escalation_ping_ref(incident_id, agency_id, post.chat_id)
        if not await tx.still_shown(ping):
            return
        delete = OutgoingMessage(
            post.chat_id, SendMethod.DELETE_MESSAGE, {}, Priority.NOTICE, target_ref=ping
        )
        await tx.enqueue(delete, now)

    async def _chat_language(self, tx: Tx, chat_id: int) -> Language:
        # Private chats have their person's id; groups (negative ids) speak the default.
        return self.group_language if chat_id < 0 else await self._language_of(tx, chat_id)

    # --- the reporter ---

    async def tell_reporter(
        self,
        tx: Tx,
        view: IncidentView,
        kind: str,
        now: datetime,
        *,
        by: str | None = None,
        reason: CancelReason | None = None,
        other: int | None = None,
    ) -> None:
        """Tell whoever reported the incident — also the reporters of reports merged into it,
        who were told that further news comes under this number."""
        incident = view.incident
        reporters = (
            await tx.reporters_of(incident.id)  # with those of merged reports, and callers
            if view.merged_from or incident.source.by_phone
            else [incident.reporter_id]
            if incident.reporter_id is not None
            else []
        )
        for reporter_id in reporters:
            language = await self._language_of(tx, reporter_id)
            text = reporter_update(language, incident.id, kind, by=by, reason=reason, other=other)
            await tx.enqueue(text_message(reporter_id, text), now)

    async def _language_of(self, tx: Tx, user_id: int) -> Language:
        return await tx.language_of(user_id, self.settings.default_language)
