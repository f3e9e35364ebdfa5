"""Adding to a report: what a reporter sends after submitting, attached with one tap.

When a reporter with an open incident sends something in private that no conversation and no
question takes (text, a photo, a place, a voice note, a video or a file), the router starts this
flow with it (`handlers.conversations`): "Add this to report #12?" — or, with several reports
open, which one. What they send before choosing is gathered with it. A tap attaches everything
(`bot.services.info.InfoService.add_in`): posted under the card in every routed chat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from bot.callbacks import AddChoice, ButtonAction
from bot.i18n import N_, t
from bot.render.info import addition_offer
from bot.render.organisation import type_label
from bot.services.conversations import (
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
from bot.services.info import MAX_ITEMS, Content, InfoService, content_of
from bot.settings import Language
from bot.store import Tx
from models.access import Action
from models.conversations import Talk
from models.info import InfoOutcome

STEP = "offer"


@flow
class AdditionFlow(Flow):
    kind: ClassVar[str] = "add"
    action = Action.VIEW_SELF  # the service checks that the incident is theirs
    buttons = (AddChoice,)
    gone_key = N_("info.add_gone")
    label_key = N_("conversation.kind.add")

    def __init__(self, deps: Any) -> None:
        super().__init__(deps)
        self.info: InfoService = deps.info

    async def begin(self, tx: Tx, start: Start, now: datetime) -> Turn:
        data = {"items": list(start.seed.get("items", [])), "incidents": []}
        return await self._offer(tx, start.user_id, data, start.language)

    async def current(self, tx: Tx, talk: Talk) -> Reply:
        turn = await self._offer(tx, talk.user_id, dict(talk.data), self.language(talk))
        return turn.reply.but(pressed=None)

    async def _offer(self, tx: Tx, user_id: int, data: dict[str, Any], language: Language) -> Turn:
        numbers = await tx.open_reports_of(user_id)
        if not numbers:
            return Turn(None, reply=Reply((Say(t(language, "info.add_nothing_open")),)))
        kinds = await tx.incident_types(numbers[:5])
        labels = [
            (number, type_label(language, kinds[number]) if number in kinds else "")
            for number in numbers[:5]
        ]
        text, keyboard = addition_offer(language, labels, len(data["items"]))
        data = {**data, "incidents": [number for number, _ in labels]}
        return Turn(STEP, data, Reply((Say(text, keyboard, question=True),)))

    async def answer(self, tx: Tx, talk: Talk, given: Input, now: datetime) -> Turn:
        language, data = self.language(talk), dict(talk.data)
        if isinstance(given, Pressed) and isinstance(given.button, AddChoice):
            if given.button.action is ButtonAction.ADD_NOT:
                return Turn(None, reply=Reply((Say(t(language, "info.add_declined")),)))
            number = given.button.incident_id
            if number not in data.get("incidents", []):
                return Turn(STEP, data, Reply(pressed=None, refused=t(language, "callback.stale")))
            items = [Content.from_data(item) for item in data.get("items", [])]
            done = await self.info.add_in(tx, number, talk.user_id, items, now)
            if done.outcome is InfoOutcome.CLOSED:
                text = t(language, "info.add_closed", id=number)
                return Turn(None, reply=Reply((Say(text),)))
            if not done.ok:
                return Turn(None, reply=Reply((Say(t(language, "info.add_not_yours")),)))
            text = t(language, "info.added", id=number, count=len(items))
            return Turn(None, reply=Reply((Say(text),)))
        content = content_of(talk.user_id, given)
        if content is None:
            return Turn(
                STEP, data, Reply((Say(t(language, "info.add_unsupported")),), pressed=None)
            )
        items = list(data.get("items", []))
        if len(items) >= MAX_ITEMS:
            full = t(language, "info.add_full", max=MAX_ITEMS)
            return Turn(STEP, data, Reply((Say(full),), pressed=None))
        data["items"] = [*items, content.to_data()]
        turn = await self._offer(tx, talk.user_id, data, language)
        return Turn(turn.step, turn.data, turn.reply.but(pressed=None))

    async def end(self, tx: Tx, talk: Talk, why: Ending, now: datetime) -> Reply:
        if why is Ending.ERASED:
            return Reply()
        key = N_("info.add_expired") if why is Ending.EXPIRED else N_("info.add_declined")
        return Reply((Say(t(self.language(talk), key)),))
