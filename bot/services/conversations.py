"""Conversations: every multi-step private exchange with the bot, on one durable row per person.

A conversation is a flow — a report, a 112 call form, a broadcast being composed — that a person
goes through in their private chat with the bot, one question at a time. Its state is one row
(`conversations`: kind, step, data, language, the question it waits on, when it was last
touched), so a restart in the middle loses nothing: the next answer goes on where they were.

* **A flow is one module**: a `Flow` subclass registered with `@flow`. It names its kind, the
  commands that start it, the policy action that may start it and the button families it
  answers, and says what happens: `begin` (the first question), `answer` (one answer: the next
  question, or the end), `current` (the question again), `end` (cancelled or expired). It
  renders its own questions. Importing the module registers it; nothing else needs an edit.
* **`Conversations` runs them**: one transaction per answer; the question a reply sends becomes
  the one message whose buttons count (`bind`); `/batal` and expiry work the same for every
  kind; one person has one conversation at a time.
* **Precedence in a private chat** (`handlers.conversations`): an active conversation takes a
  message first; then a pending question to the person (when there is one); then the offer to add
  it to their open report; then the fallback answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.callbacks import Button
from bot.i18n import pick_language, t
from bot.services.messages import text_message
from bot.settings import Language, Settings
from bot.store import Store, Tx
from models.access import Action
from models.clock import Clock
from models.conversations import Talk

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


# --- what a person sends into a conversation ---


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    message_id: int | None = None  # the message it came in (kept when it carries a phone)


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float
    address: str | None = None  # a venue's name and address
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class SharedContact:
    phone: str
    own: bool  # the contact is the sender's own
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Photo:
    file_id: str
    caption: str | None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A voice note, video, video note, audio file or document."""

    kind: str  # voice, video, video_note, audio, document
    file_id: str
    caption: str | None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Pressed:
    """A press of one of the flow's buttons on the question the conversation waits on."""

    button: Button


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A sticker, a poll, a game… which no flow takes."""


Input = Text | Point | SharedContact | Photo | Attachment | Pressed | Unsupported


# --- what a flow answers ---


@dataclass(frozen=True, slots=True)
class Say:
    """One message to the person. `question`: the conversation waits on it from now on (its
    buttons are the ones that count)."""

    text: str
    markup: Markup | None = None
    photo: str | None = None  # a Telegram file id, sent before the text
    location: tuple[float, float] | None = None  # sent before the text
    question: bool = False


@dataclass(frozen=True, slots=True)
class Edit:
    """What becomes of the message a button was pressed on: a new text (None: the same) and new
    buttons (None: none)."""

    text: str | None = None
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What to tell the person after a turn."""

    says: tuple[Say, ...] = ()
    pressed: Edit | None = Edit()  # for a press: its question loses its buttons, by default
    refused: str | None = None  # a press that did not count, and why (nothing changed)

    def but(self, **changes: Any) -> Reply:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Turn:
    """A flow's answer to one input: the conversation's next step and data (`step` None: it is
    over and its row goes), and what to tell the person."""

    step: str | None
    data: dict[str, Any] = field(default_factory=dict)
    reply: Reply = Reply()


@dataclass(frozen=True, slots=True)
class Start:
    """Who starts a flow, in which language, with what (the command's words)."""

    user_id: int
    name: str
    language: Language
    args: tuple[str, ...] = ()
    origin_update_id: int | None = None
    seed: dict[str, Any] = field(default_factory=dict)  # what started it (a message to add)


class Ending(StrEnum):
    CANCELLED = "cancelled"  # /batal
    EXPIRED = "expired"  # untouched for too long
    ERASED = "erased"  # the person asked the bot to forget them


# --- flows ---


class Flow:
    """One kind of conversation. Subclasses set the class attributes and override the steps;
    each step runs inside the conversation's transaction (`tx`)."""

    kind: ClassVar[str]
    commands: ClassVar[tuple[str, ...]] = ()  # the commands that start it (in private)
    action: ClassVar[Action] = Action.VIEW_SELF  # who may start it (everyone, by default)
    buttons: ClassVar[tuple[type[Button], ...]] = ()  # the button families it answers
    gone_key: ClassVar[str] = "callback.stale"  # a press of its buttons with nothing open
    label_key: ClassVar[str | None] = None  # its name in a sentence ("laporan")

    def __init__(self, deps: Any) -> None:
        self.deps = deps  # the services it needs (the composition root's `Services`)

    @staticmethod
    def language(talk: Talk) -> Language:
        """The language the conversation speaks (the person's, when it started)."""
        return pick_language(talk.language, "id")

    async def begin(self, tx: Tx, start: Start, now: datetime) -> Turn:
        """The conversation starts: its first step and question."""
        raise NotImplementedError

    async def answer(self, tx: Tx, talk: Talk, given: Input, now: datetime) -> Turn:
        """One answer: the next step and question, or the end."""
        raise NotImplementedError

    async def current(self, tx: Tx, talk: Talk) -> Reply:
        """The question the conversation waits on, again (a second start, say)."""
        raise NotImplementedError

    async def end(self, tx: Tx, talk: Talk, why: Ending, now: datetime) -> Reply:
        """The conversation is over without finishing: clean up, and what to tell the person."""
        return Reply()

    def replaces(self, talk: Talk, start: Start) -> bool:
        """Whether a new start of this kind replaces the open conversation of the same kind
        (it is about something else) rather than showing it again."""
        return False

    def in_group(self, language: Language, bot_username: str) -> Say | None:
        """What its command answers in a group (None: the policy's answer, private only)."""
        return None

    def label(self, language: Language) -> str:
        """What the person calls this conversation ("laporan", "siaran")."""
        return t(language, self.label_key or "conversation.kind.other")

    def busy(self, language: Language, active: Flow) -> str:
        """Why this flow cannot start while a conversation of another kind is open."""
        return t(language, "conversation.busy", kind=active.label(language))


F = TypeVar("F", bound=type[Flow])
_FLOWS: dict[str, type[Flow]] = {}


def flow(cls: F) -> F:
    """Register a flow: importing its module is all it takes."""
    if cls.kind in _FLOWS and _FLOWS[cls.kind] is not cls:
        raise ValueError(f"a flow of kind {cls.kind!r} is registered already")
    _FLOWS[cls.kind] = cls
    return cls


def registered() -> dict[str, type[Flow]]:
    return dict(_FLOWS)


# --- running them ---


@dataclass(frozen=True, slots=True)
class Begun:
    """What became of a start: the reply, and whether a conversation is now open."""

    reply: Reply
    open: bool


class Conversations:
    """The conversations of all flows: one row per person, one transaction per turn."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        kinds: dict[str, type[Flow]] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.kinds = registered() if kinds is None else kinds  # every flow registered so far
        self.flows: dict[str, Flow] = {}
        self.expiry = timedelta(minutes=settings.report_draft_expiry_minutes)

    def give(self, deps: Any) -> None:
        """The services the flows work with (the composition root's `Services`, once built)."""
        self.flows = {kind: cls(deps) for kind, cls in self.kinds.items()}

    def flow_answering(self, family: type[Button]) -> Flow | None:
        return next((f for f in self.flows.values() if family in f.buttons), None)

    async def begin(self, kind: str, start: Start) -> Begun:
        """Start a conversation — or show the open one (same kind), or say what is open."""
        flow = self.flows[kind]
        now = self.clock.now()
        async with self.store.transaction() as tx:
            talk = await self._live(tx, start.user_id, now)
            if talk is not None and talk.kind == kind and flow.replaces(talk, start):
                await tx.end_conversation(start.user_id)
                talk = None
            if talk is not None and talk.kind == kind:
                return Begun(await flow.current(tx, talk), open=True)
            if talk is not None:
                active = self.flows.get(talk.kind)
                text = flow.busy(start.language, active) if active else ""
                return Begun(Reply((Say(text),)).but(pressed=None), open=True)
            turn = await flow.begin(tx, start, now)
            if turn.step is not None:
                await tx.save_conversation(
                    start.user_id, kind, turn.step, turn.data, start.language, now
                )
            reply = _drill_marked(tx, turn.reply, start.language)
        return Begun(reply, open=turn.step is not None)

    async def answer(
        self, user_id: int, given: Input, *, pressed_on: int | None = None
    ) -> Reply | None:
        """Apply one answer to the person's conversation; None when they have none. A press
        (`pressed_on`: the message it was on) counts only on the question the conversation
        waits on."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            talk = await tx.conversation(user_id)
            if talk is None:
                return None
            flow = self.flows.get(talk.kind)
            if flow is None:  # a flow this version no longer has
                await tx.end_conversation(user_id)
                return None
            if self._expired(talk, now):
                await tx.end_conversation(user_id)
                return await flow.end(tx, talk, Ending.EXPIRED, now)
            if pressed_on is not None and pressed_on != talk.message_id:
                text = t(Flow.language(talk), "conversation.old_question")
                return Reply(pressed=None, refused=text)
            turn = await flow.answer(tx, talk, given, now)
            if turn.step is None:
                await tx.end_conversation(user_id)
            else:
                await tx.save_conversation(
                    user_id, talk.kind, turn.step, turn.data, talk.language, now
                )
            return _drill_marked(tx, turn.reply, Flow.language(talk))

    async def bind(self, user_id: int, message_id: int) -> None:
        """The question just sent is the one the conversation waits on: its buttons count,
        older questions' buttons no longer do."""
        async with self.store.single_write() as tx:
            await tx.bind_conversation(user_id, message_id)

    async def cancel(self, user_id: int) -> Reply | None:
        """`/batal`: end the person's conversation, whatever its kind; None when there is none."""
        return await self._end(user_id, Ending.CANCELLED)

    async def kind_of(self, user_id: int) -> str | None:
        async with self.store.lookup() as tx:
            talk = await tx.conversation(user_id)
        return None if talk is None else talk.kind

    async def expire_stale(self) -> int:
        """End conversations nobody touched for too long, telling their owners; how many."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            stale = await tx.stale_conversations(now - self.expiry)
            for talk in stale:
                await tx.end_conversation(talk.user_id)
                flow = self.flows.get(talk.kind)
                if flow is not None:
                    await self._tell(
                        tx, talk.user_id, await flow.end(tx, talk, Ending.EXPIRED, now)
                    )
        return len(stale)

    async def end_in(self, tx: Tx, user_id: int, why: Ending, now: datetime) -> None:
        """End the person's conversation inside `tx` (erasing them), saying nothing."""
        talk = await tx.conversation(user_id)
        if talk is not None:
            await tx.end_conversation(user_id)
            flow = self.flows.get(talk.kind)
            if flow is not None:
                await flow.end(tx, talk, why, now)

    async def _end(self, user_id: int, why: Ending) -> Reply | None:
        now = self.clock.now()
        async with self.store.transaction() as tx:
            talk = await tx.conversation(user_id)
            if talk is None:
                return None
            await tx.end_conversation(user_id)
            flow = self.flows.get(talk.kind)
            return Reply() if flow is None else await flow.end(tx, talk, why, now)

    async def _live(self, tx: Tx, user_id: int, now: datetime) -> Talk | None:
        """The person's conversation, unless it expired (then it ends, quietly: they are
        starting afresh)."""
        talk = await tx.conversation(user_id)
        if talk is not None and self._expired(talk, now):
            await tx.end_conversation(user_id)
            flow = self.flows.get(talk.kind)
            if flow is not None:
                await flow.end(tx, talk, Ending.EXPIRED, now)
            return None
        return talk

    def _expired(self, talk: Talk, now: datetime) -> bool:
        return talk.updated_at is not None and now - talk.updated_at > self.expiry

    async def _tell(self, tx: Tx, user_id: int, reply: Reply) -> None:
        """Say a reply through the outbox (nobody is waiting on a direct answer: expiry)."""

        for say in reply.says:
            message = text_message(user_id, say.text)
            if isinstance(say.markup, ReplyKeyboardRemove):
                message.payload["reply_markup"] = {"remove_keyboard": True}
            await tx.enqueue(message, self.clock.now())


def _drill_marked(tx: Tx, reply: Reply, language: Language) -> Reply:
    """A reply about a drill incident (the turn read one: asking its simulated reporter, say)
    is headed by the drill's marker, as every message the outbox sends about it is."""
    marker = tx.drill_marker
    if marker is None or not tx.about_drill or not reply.says:
        return reply
    line = marker.lines.get(language) or marker.lines[marker.group_language]
    says = tuple(
        say if marker.heads(say.text) else replace(say, text=f"{line}\n{say.text}")
        for say in reply.says
    )
    return reply.but(says=says)
