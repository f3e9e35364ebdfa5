"""Asking an incident's reporters a question, in the asker's private chat.

The ❓ button on a card or task card opens it (`handlers.info`). The asker picks a one-tap
question — those that fill what the report still lacks come first — or writes their own; the
question goes to every reachable reporter in the name of the agency that asks
(`bot.services.info.InfoService.ask_in`), and the conversation ends. Pressing ❓ on another
incident replaces an open picker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from bot.callbacks import AskChoice, ButtonAction
from bot.i18n import N_, t
from bot.render.info import ask_picker, asked_text, asker_name, outcome_text
from bot.services.conversations import (
    Ending,
    Flow,
    Input,
    Pressed,
    Reply,
    Say,
    Start,
    Text,
    Turn,
    flow,
)
from bot.services.info import Done, InfoService
from bot.settings import Language
from bot.store import Tx
from models.access import Action
from models.conversations import Talk
from models.info import QUESTION_TEXT_MAX, QUESTIONS
from models.missing import gaps, questions_for
from models.report import visible_count

STEP = "pick"
QUESTION_MIN_CHARS = 3


def refusal_text(language: Language, done: Done, incident_id: int) -> str:
    return outcome_text(language, done.outcome, incident_id)


@flow
class AskFlow(Flow):
    kind: ClassVar[str] = "ask"
    action = Action.ASK_REPORTER
    buttons = (AskChoice,)
    gone_key = N_("info.ask_gone")
    label_key = N_("conversation.kind.ask")

    def __init__(self, deps: Any) -> None:
        super().__init__(deps)
        self.info: InfoService = deps.info

    def replaces(self, talk: Talk, start: Start) -> bool:
        return [str(talk.data.get("incident")), str(talk.data.get("agency"))] != list(start.args)

    async def begin(self, tx: Tx, start: Start, now: datetime) -> Turn:
        incident_id, agency_id = int(start.args[0]), int(start.args[1])
        data = {"incident": incident_id, "agency": agency_id}
        return await self._picker(tx, start.user_id, data, start.language, now)

    async def current(self, tx: Tx, talk: Talk) -> Reply:
        turn = await self._picker(
            tx, talk.user_id, dict(talk.data), self.language(talk), self.deps.clock.now()
        )
        return turn.reply.but(pressed=None)

    async def _picker(
        self, tx: Tx, user_id: int, data: dict[str, Any], language: Language, now: datetime
    ) -> Turn:
        incident_id = int(data["incident"])
        allowed = await self.info.can_ask_in(tx, incident_id, user_id, now)
        if not allowed.ok or allowed.view is None:
            return Turn(None, reply=Reply((Say(refusal_text(language, allowed, incident_id)),)))
        view = allowed.view
        questions = questions_for(view.incident.type, gaps(view.incident, view.infos))
        agency = await tx.agency(int(data["agency"])) if data["agency"] else None
        text, keyboard = ask_picker(
            language, view, questions, asker_name(language, agency.name if agency else None)
        )
        data = {**data, "keys": [q.key for q in questions]}
        return Turn(STEP, data, Reply((Say(text, keyboard, question=True),)))

    async def answer(self, tx: Tx, talk: Talk, given: Input, now: datetime) -> Turn:
        language, data = self.language(talk), dict(talk.data)
        key: str | None = None
        words = ""
        if isinstance(given, Pressed) and isinstance(given.button, AskChoice):
            if given.button.action is ButtonAction.ASK_CANCEL:
                return Turn(None, reply=Reply((Say(t(language, "info.ask_cancelled")),)))
            keys = list(data.get("keys", []))
            if not 0 <= given.button.value < len(keys) or keys[given.button.value] not in QUESTIONS:
                stale = t(language, "callback.stale")
                return Turn(STEP, data, Reply(pressed=None, refused=stale))
            key = keys[given.button.value]
        elif isinstance(given, Text):
            words = " ".join(given.text.split())
            if visible_count(words) < QUESTION_MIN_CHARS or len(words) > QUESTION_TEXT_MAX:
                problem = t(
                    language, "info.ask_length", min=QUESTION_MIN_CHARS, max=QUESTION_TEXT_MAX
                )
                return Turn(STEP, data, Reply((Say(problem),), pressed=None))
        else:
            return Turn(STEP, data, Reply((Say(t(language, "info.ask_words_only")),), pressed=None))
        agency_id = int(data["agency"]) or None
        done = await self.info.ask_in(
            tx, int(data["incident"]), agency_id, talk.user_id, now, question_key=key, text=words
        )
        if not done.ok:
            return Turn(
                None, reply=Reply((Say(refusal_text(language, done, int(data["incident"]))),))
            )
        reached = int(done.detail.get("reached", 0))
        return Turn(None, reply=Reply((Say(asked_text(language, int(data["incident"]), reached)),)))

    async def end(self, tx: Tx, talk: Talk, why: Ending, now: datetime) -> Reply:
        if why is Ending.ERASED:
            return Reply()
        return Reply((Say(t(self.language(talk), "info.ask_cancelled")),))
