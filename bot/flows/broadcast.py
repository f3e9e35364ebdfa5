"""Composing a broadcast (`/siaran`) as a conversation.

The dispatcher writes the alert (a photo or a map pin may come with it), chooses the urgency and
the targets, sees a preview exactly as recipients will and sends it. The draft's content is its
row in `broadcasts` (`bot.services.broadcasts` keeps it, and sends it); the conversation names that
row and routes the sender's messages and presses to it. The agency picker stays one message: its
ticks and pages change in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from bot.callbacks import ButtonAction, ComposeChoice, ComposeStep
from bot.commands import BROADCAST
from bot.i18n import N_, t
from bot.render.broadcast import (
    agencies_question,
    alert_text,
    confirm_keyboard,
    confirm_text,
    no_recipients_keyboard,
    page_of,
    preview_intro,
    received_keyboard,
    targets_question,
    text_question,
    urgency_question,
)
from bot.services.broadcasts import BroadcastService, Compose, Notice
from bot.services.conversations import (
    Edit,
    Ending,
    Flow,
    Input,
    Pressed,
    Reply,
    Say,
    Start,
    Turn,
    flow,
)
from bot.settings import Language
from bot.store import Tx
from models.access import Action
from models.broadcast import TEXT_MAX, Step
from models.conversations import Talk

STEP = "compose"  # the draft's own step lives in its row


@flow
class BroadcastFlow(Flow):
    """A dispatcher's or coordinator's alert to many chats, composed in private."""

    kind: ClassVar[str] = "broadcast"
    commands: ClassVar[tuple[str, ...]] = BROADCAST.names
    action = Action.BROADCAST
    buttons = (ComposeChoice, ComposeStep)
    label_key = N_("conversation.kind.broadcast")

    @property
    def service(self) -> BroadcastService:
        service: BroadcastService = self.deps.broadcasts
        return service

    def busy(self, language: Language, active: Flow) -> str:
        if active.kind in ("report", "call"):
            return t(language, Notice.REPORT_OPEN)  # the report comes first
        return super().busy(language, active)

    async def begin(self, tx: Tx, start: Start, now: datetime) -> Turn:
        compose = await self.service.start_in(tx, start.user_id, start.name, start.language, now)
        data = {"broadcast_id": compose.draft.id if compose.draft else None}
        return Turn(STEP, data, self._reply(compose, start.language))

    async def current(self, tx: Tx, talk: Talk) -> Reply:
        compose = await self.service.current_in(tx, talk.user_id)
        if compose is None:
            return Reply(pressed=None)
        return self._reply(compose, self.language(talk)).but(pressed=None)

    async def answer(self, tx: Tx, talk: Talk, given: Input, now: datetime) -> Turn:
        service, user_id, language = self.service, talk.user_id, self.language(talk)
        if not isinstance(given, Pressed):
            answered = await service.answer_in(tx, user_id, given, now)
            if answered is None:  # the draft is gone (sent, or dropped elsewhere)
                return Turn(None, reply=Reply(pressed=None))
            return Turn(STEP, talk.data, self._reply(answered, language))
        button = given.button
        if not isinstance(button, ComposeChoice | ComposeStep):
            return Turn(STEP, talk.data, Reply(pressed=None, refused=t(language, "callback.stale")))
        draft_id = button.draft_id
        value = button.value if isinstance(button, ComposeChoice) else 0
        action = button.action
        if action is ButtonAction.BC_DISCARD:
            discarded = await service.discard_in(tx, user_id, draft_id)
            key = N_("broadcast.discarded") if discarded else N_("broadcast.nothing_to_discard")
            return Turn(None, reply=Reply((Say(t(language, key)),), pressed=Edit()))
        compose: Compose | None
        if action is ButtonAction.BC_URGENCY:
            compose = await service.choose_urgency(tx, user_id, draft_id, value, now)
        elif action is ButtonAction.BC_TARGET:
            compose = await service.choose_target(tx, user_id, draft_id, value, now)
        elif action in (ButtonAction.BC_AGENCY, ButtonAction.BC_AGENCY_PAGE):
            toggled = action is ButtonAction.BC_AGENCY
            if toggled:
                compose = await service.toggle_agency(tx, user_id, draft_id, value, now)
            else:
                compose = await service.agencies_shown(tx, user_id, draft_id)
            if compose is not None and compose.draft is not None and not compose.notice:
                # The multi-select stays one message: only its ticks (or its page) change.
                page = page_of(compose.agencies, value) if toggled else value
                _, keyboard = agencies_question(language, compose.draft, compose.agencies, page)
                return Turn(STEP, talk.data, Reply(pressed=Edit(markup=keyboard)))
        elif action is ButtonAction.BC_AGENCIES_DONE:
            compose = await service.agencies_done(tx, user_id, draft_id, now)
        elif action is ButtonAction.BC_RETARGET:
            compose = await service.retarget(tx, user_id, draft_id, now)
        else:
            compose = await service.send(tx, user_id, draft_id, now)
        if compose is None:
            return Turn(STEP, talk.data, Reply(pressed=None, refused=t(language, "callback.stale")))
        reply = self._reply(compose, language)
        if compose.notice is not None or compose.problem is not None:
            reply = reply.but(pressed=None)  # the question stands: its buttons stay
        return Turn(None if compose.sent is not None else STEP, talk.data, reply)

    async def end(self, tx: Tx, talk: Talk, why: Ending, now: datetime) -> Reply:
        await self.service.discard_in(tx, talk.user_id)
        if why is Ending.CANCELLED:
            return Reply((Say(t(self.language(talk), "broadcast.discarded")),))
        if why is Ending.EXPIRED:
            return Reply((Say(t(self.language(talk), "broadcast.expired")),))
        return Reply()

    # --- what the sender is told ---

    def _reply(self, compose: Compose, language: Language) -> Reply:
        """Say what the draft needs now, or what became of it."""
        if compose.sent is not None:
            return Reply()  # the service queued the confirmation with the sending
        draft = compose.draft
        if draft is None or draft.step is None:
            return Reply()
        before = []
        if compose.problem is not None:
            before.append(t(language, compose.problem.value, max=TEXT_MAX))
        if compose.notice is not None:
            before.append(t(language, compose.notice))
        prefix = "\n".join(before) + "\n\n" if before else ""
        if draft.step is Step.TEXT:
            return Reply((Say(prefix + text_question(language), question=True),))
        if draft.step is Step.URGENCY:
            text, keyboard = urgency_question(language, draft)
            return Reply((Say(prefix + text, keyboard, question=True),))
        if draft.step is Step.TARGETS:
            text, keyboard = targets_question(language, draft)
            return Reply((Say(prefix + text, keyboard, question=True),))
        if draft.step is Step.AGENCIES:
            text, keyboard = agencies_question(language, draft, compose.agencies)
            if not compose.agencies:
                text = t(language, "broadcast.no_agencies")
            return Reply((Say(prefix + text, keyboard, question=True),))
        return self._preview(compose, prefix, language)

    def _preview(self, compose: Compose, prefix: str, language: Language) -> Reply:
        """The alert exactly as the groups will see it (in their language), then Send or not.
        The preview's Received button is shown, not live: the preview is no copy of it."""
        draft = compose.draft
        assert draft is not None
        alert_language = self.deps.settings.default_language
        labels = [recipient.label for recipient in compose.recipients]
        if not labels:
            text = prefix + t(language, "broadcast.no_recipients")
            return Reply((Say(text, no_recipients_keyboard(language, draft.id), question=True),))
        says = [Say(prefix + preview_intro(language))]
        if draft.photo_file_id:
            says.append(Say("", photo=draft.photo_file_id))
        if draft.latitude is not None and draft.longitude is not None:
            says.append(Say("", location=(draft.latitude, draft.longitude)))
        says.append(
            Say(alert_text(alert_language, draft), received_keyboard(alert_language, draft.id))
        )
        says.append(
            Say(confirm_text(language, labels), confirm_keyboard(language, draft.id), question=True)
        )
        return Reply(tuple(says))
