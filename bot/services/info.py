"""Information after the first report: asking the reporters, their answers, what they add
unasked, responders' notes, and links for 112 callers to join an incident.

Each operation is one transaction: the information row, its timeline event, the copies posted
under the card in every routed chat, the card re-rendered (what came in, what is still missing,
the latest note) and the word to the people concerned are written together, and the outbox sends
them. The reporter is addressed by the agency that asks, never by the asker's own account.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.i18n import t
from bot.render.cards import short
from bot.render.info import (
    asker_told,
    caller_joined_text,
    caller_link_text,
    note_fills_keyboard,
    note_sent_text,
    question_for_reporter,
    question_undeliverable_text,
    reporter_thanks,
)
from bot.services.conversations import Attachment, Input, Photo, Point, Text
from bot.services.incidents import IncidentService
from bot.services.messages import text_message
from bot.services.publisher import Publisher
from bot.settings import Language, Settings
from bot.store import NewInfo, Store, Tx
from models.clock import Clock
from models.drills import Scenario
from models.incidents import EventKind, IncidentView
from models.info import (
    CALLER_LINK_VALID,
    INFO_TEXT_MAX,
    QUESTION_TEXT_MAX,
    QUESTION_WINDOW,
    QUESTIONS,
    QUESTIONS_PER_WINDOW,
    UNKNOWN_ANSWER,
    WAITING,
    Expect,
    Gap,
    Info,
    InfoEvent,
    InfoKind,
    InfoOutcome,
    InfoState,
    next_info,
)
from models.missing import gaps
from models.outbox import OutgoingMessage, Priority
from models.refs import question_ref

log = logging.getLogger(__name__)

LINK_PREFIX = "c_"  # /start c_<token>: a 112 caller joining an incident
MAX_ITEMS = 10  # things a reporter may send before choosing where they go


@dataclass(frozen=True, slots=True)
class Content:
    """What a reporter sent: text, a photo, a location, or another file (kept by reference to
    the message it came in, which the bot copies under the cards)."""

    text: str = ""
    photo: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    file_id: str | None = None
    file_kind: str | None = None
    chat_id: int | None = None  # where it came from, to copy it under the cards
    message_id: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.text.strip() or self.photo or self.file_id or self.latitude is not None)

    @property
    def has_media(self) -> bool:
        return self.photo is not None or self.file_id is not None or self.latitude is not None

    def to_data(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _CONTENT if getattr(self, name) is not None}

    @staticmethod
    def from_data(data: dict[str, Any]) -> Content:
        return Content(**{name: data[name] for name in _CONTENT if name in data})


def content_of(user_id: int, given: Input) -> Content | None:
    """What a reporter's message in their private chat adds to a report or answers; None for
    what cannot be added (a shared contact, a sticker)."""
    if isinstance(given, Text):
        text = given.text.strip()
        return Content(text=text, chat_id=user_id, message_id=given.message_id) if text else None
    if isinstance(given, Photo):
        return Content(
            text=(given.caption or "").strip(),
            photo=given.file_id,
            chat_id=user_id,
            message_id=given.message_id,
        )
    if isinstance(given, Point):
        return Content(
            text=given.address or "",
            latitude=given.latitude,
            longitude=given.longitude,
            chat_id=user_id,
            message_id=given.message_id,
        )
    if isinstance(given, Attachment):
        return Content(
            text=(given.caption or "").strip(),
            file_id=given.file_id,
            file_kind=given.kind,
            chat_id=user_id,
            message_id=given.message_id,
        )
    return None


_CONTENT = (
    "text",
    "photo",
    "latitude",
    "longitude",
    "file_id",
    "file_kind",
    "chat_id",
    "message_id",
)


@dataclass(frozen=True, slots=True)
class Done:
    outcome: InfoOutcome
    info: Info | None = None
    view: IncidentView | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is InfoOutcome.DONE


class InfoService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        publisher: Publisher,
        incidents: IncidentService,
        scenarios: dict[str, Scenario] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.publisher = publisher
        self.incidents = incidents
        self.unanswered_after = timedelta(minutes=settings.question_unanswered_minutes)
        self.scenarios = scenarios or {}  # a drill's simulated reporter answers from these

    # --- asking ---

    async def may_ask(self, incident_id: int, asker_id: int) -> Done:
        """Whether `asker_id` may ask the incident's reporters now (checked again on asking)."""
        async with self.store.read() as tx:
            return await self.can_ask_in(tx, incident_id, asker_id, self.store.clock.now())

    async def can_ask_in(self, tx: Tx, incident_id: int, asker_id: int, now: datetime) -> Done:
        """Whether `asker_id` may ask the incident's reporters now (and the incident)."""
        view = await tx.incident_view(incident_id)
        if view is None:
            return Done(InfoOutcome.NOT_FOUND)
        if view.incident.lifecycle.closed:
            return Done(InfoOutcome.CLOSED, view=view)
        if view.incident.drill_id is not None:
            return Done(InfoOutcome.DONE, view=view)  # the simulated reporter always answers
        reporters = await tx.reporters_of(incident_id)
        if not reporters:
            return Done(InfoOutcome.NO_REPORTER, view=view)
        if not await self._reachable(tx, reporters):
            return Done(InfoOutcome.UNREACHABLE, view=view)
        if await tx.open_question_by(incident_id, asker_id) is not None:
            return Done(InfoOutcome.ALREADY_ASKING, view=view)
        if await tx.questions_since(incident_id, now - QUESTION_WINDOW) >= QUESTIONS_PER_WINDOW:
            return Done(InfoOutcome.TOO_MANY, view=view)
        return Done(InfoOutcome.DONE, view=view)

    async def ask_in(
        self,
        tx: Tx,
        incident_id: int,
        agency_id: int | None,
        asker_id: int,
        now: datetime,
        *,
        question_key: str | None = None,
        text: str = "",
    ) -> Done:
        """Ask every reachable reporter of the incident one question, in the agency's name."""
        allowed = await self.can_ask_in(tx, incident_id, asker_id, now)
        if not allowed.ok:
            return allowed
        assert allowed.view is not None
        quick = QUESTIONS.get(question_key or "")
        new = NewInfo(
            agency_id=agency_id,
            author_id=asker_id,
            text=text.strip()[:QUESTION_TEXT_MAX],
            question_key=quick.key if quick else None,
            fills=quick.gap if quick else None,
        )
        question_id = await tx.add_info(incident_id, InfoKind.QUESTION, InfoState.OPEN, new, now)
        question = await tx.info(question_id)
        assert question is not None
        reporters = await self._reachable(tx, await tx.reporters_of(incident_id))
        for reporter_id in reporters:
            language = await tx.language_of(reporter_id, self.settings.default_language)
            body, keyboard, reply_keyboard = question_for_reporter(language, allowed.view, question)
            message = text_message(
                reporter_id,
                body,
                priority=Priority.URGENT,
                keyboard=keyboard,
                ref=question_ref(question_id, reporter_id),
            )
            if reply_keyboard is not None:
                message.payload["reply_markup"] = reply_keyboard
            # Blocked since it was checked: the asker hears at once that it cannot arrive.
            asker_language = await tx.language_of(asker_id, self.settings.default_language)
            fallback = text_message(
                asker_id, question_undeliverable_text(asker_language, incident_id)
            )
            message = _with_fallback(message, fallback)
            await tx.enqueue(message, now)
        reached = len(reporters)
        await tx.add_event(
            incident_id,
            EventKind.QUESTION_ASKED,
            now,
            actor_id=asker_id,
            agency_id=agency_id,
            detail=_question_detail(question),
        )
        drill_id = allowed.view.incident.drill_id
        if drill_id is not None:
            await self._scripted_answer(tx, drill_id, question, now)
            reached = 1
        view = await self.incidents.refresh(tx, incident_id, now)
        log.info("question %s on #%s to %d reporters", question_id, incident_id, reached)
        return Done(InfoOutcome.DONE, question, view, {"reached": reached})

    async def _scripted_answer(self, tx: Tx, drill_id: int, question: Info, now: datetime) -> None:
        """A drill's simulated reporter answers at once, as its scenario says (a question the
        scenario did not foresee: "I don't know"); the answer goes under every card."""
        drill = await tx.drill(drill_id)
        scenario = self.scenarios.get(drill.scenario) if drill is not None else None
        key = question.question_key or ""
        said = scenario.answers.get(key) if scenario is not None else None
        quick = QUESTIONS.get(key)
        answer_key = None
        if quick is not None and quick.expects is Expect.CHOICE:
            answer_key = said if said in quick.answers else UNKNOWN_ANSWER
        unknown = t(self.settings.default_language, "drill.unknown_answer")
        new = NewInfo(
            agency_id=question.agency_id,
            author_id=None,
            text="" if answer_key is not None else (said or unknown),
            question_id=question.id,
            question_key=question.question_key,
            answer_key=answer_key,
            fills=question.fills if answer_key != UNKNOWN_ANSWER else None,
        )
        answer = await self._answered(tx, question, new, None, now)
        await self.publisher.post_info(tx, question.incident_id, answer, question, now)

    async def _answered(
        self, tx: Tx, question: Info, new: NewInfo, by: int | None, now: datetime
    ) -> Info:
        """Record an answer to `question` (by a reporter, or a drill's simulated one: None):
        the question answered, the answer and its line in the timeline."""
        if question.state in WAITING:
            answered = next_info(question.state, InfoEvent.ANSWER)
            await tx.move_info(question.id, question.state, answered, now)
        # A second reporter's answer to the same question counts too (they saw the same).
        answer_id = await tx.add_info(
            question.incident_id, InfoKind.ANSWER, InfoState.POSTED, new, now
        )
        answer = await tx.info(answer_id)
        assert answer is not None
        await tx.add_event(
            question.incident_id,
            EventKind.ANSWERED,
            now,
            actor_id=by,
            agency_id=question.agency_id,
            detail={**_question_detail(question), **_said(answer)},
        )
        return answer

    async def _reachable(self, tx: Tx, reporters: list[int]) -> list[int]:
        """The reporters the bot may write to (started it, not blocked, not erased)."""
        found = []
        for user_id in reporters:
            person = await tx.person(user_id)
            if person is None or person.forgotten_at is not None:
                continue
            if await tx.may_message(user_id):
                found.append(user_id)
        return found

    # --- answering ---

    async def question_for(self, user_id: int, reply_to: int | None) -> Info | None:
        """The question a reporter's next message answers: the one they replied to, or the
        newest still waiting; None when they are asked nothing."""
        async with self.store.read() as tx:
            waiting = await tx.questions_waiting_for(user_id)
            if not waiting:
                return None
            if reply_to is not None:
                for question in waiting:
                    shown = await tx.message_ref(question_ref(question.id, user_id))
                    if shown is not None and shown[1] == reply_to:
                        return question
            return waiting[0]

    async def answer(
        self, question_id: int, reporter_id: int, content: Content, answer_index: int | None = None
    ) -> Done:
        """A reporter's answer (text, a location, a photo, a file, or a one-tap answer), in
        the commit that records the update as handled. The same message delivered again, or a
        one-tap answer tapped twice, finds its answer made (`answer_from`) and changes nothing."""
        now = self.clock.now()
        with self.store.completes_update():
            return await self._record_answer(question_id, reporter_id, content, answer_index, now)

    async def _record_answer(
        self,
        question_id: int,
        reporter_id: int,
        content: Content,
        answer_index: int | None,
        now: datetime,
    ) -> Done:
        async with self.store.transaction() as tx:
            question = await tx.info(question_id)
            if question is None or question.kind is not InfoKind.QUESTION:
                return Done(InfoOutcome.GONE)
            if reporter_id not in await tx.reporters_of(question.incident_id):
                return Done(InfoOutcome.NOT_YOURS, question)
            incident = await tx.incident(question.incident_id)
            if incident is None:
                return Done(InfoOutcome.NOT_FOUND, question)
            if incident.lifecycle.closed:
                return Done(InfoOutcome.CLOSED, question)
            quick = QUESTIONS.get(question.question_key or "")
            answer_key = None
            if answer_index is not None:
                if quick is None or not 0 <= answer_index < len(quick.answers):
                    return Done(InfoOutcome.GONE, question)
                answer_key = quick.answers[answer_index]
            elif content.empty:
                return Done(InfoOutcome.GONE, question)
            if content.chat_id is not None and content.message_id is not None:
                made = await tx.answer_from(
                    question.incident_id, content.chat_id, content.message_id
                )
                if made is not None:
                    return Done(InfoOutcome.DONE, made, await tx.incident_view(made.incident_id))
            new = NewInfo(
                agency_id=question.agency_id,
                author_id=reporter_id,
                text=content.text.strip()[:INFO_TEXT_MAX],
                question_id=question.id,
                question_key=question.question_key,
                answer_key=answer_key,
                photo=content.photo,
                latitude=content.latitude,
                longitude=content.longitude,
                file_id=content.file_id,
                file_kind=content.file_kind,
                fills=question.fills,
                chat_id=content.chat_id,
                message_id=content.message_id,
            )
            answer = await self._answered(tx, question, new, reporter_id, now)
            # The answer first, under every card; the cards' count follows.
            await self.publisher.post_info(tx, question.incident_id, answer, question, now)
            view = await self.incidents.refresh(tx, question.incident_id, now)
            if question.author_id is not None:
                language = await tx.language_of(question.author_id, self.settings.default_language)
                await self.publisher.post_info_to(
                    tx,
                    question.incident_id,
                    question.author_id,
                    asker_told(language, answer, question),
                    answer,
                    now,
                )
            language = await tx.language_of(reporter_id, self.settings.default_language)
            thanks = reporter_thanks(language, question.incident_id, question.agency_name)
            await tx.enqueue(_removing_keyboard(text_message(reporter_id, thanks)), now)
        log.info("answer %s to question %s on #%s", answer.id, question_id, question.incident_id)
        return Done(InfoOutcome.DONE, answer, view)

    # --- adding to a report ---

    async def open_reports(self, user_id: int) -> list[IncidentView]:
        """The open incidents a person reports, newest first."""
        async with self.store.read() as tx:
            views = [await tx.incident_view(number) for number in await tx.open_reports_of(user_id)]
        return [view for view in views if view is not None]

    async def add_in(
        self, tx: Tx, incident_id: int, reporter_id: int, items: list[Content], now: datetime
    ) -> Done:
        """What a reporter sent after their report, attached to it: one addition per thing."""
        await tx.incident(incident_id)  # read first: what this writes is about it (a drill's)
        if incident_id not in await tx.open_reports_of(reporter_id):
            incident = await tx.incident(incident_id)
            closed = incident is not None and incident.lifecycle.closed
            return Done(InfoOutcome.CLOSED if closed else InfoOutcome.NOT_YOURS)
        added: list[Info] = []
        for content in items[:MAX_ITEMS]:
            new = NewInfo(
                author_id=reporter_id,
                text=content.text.strip()[:INFO_TEXT_MAX],
                photo=content.photo,
                latitude=content.latitude,
                longitude=content.longitude,
                file_id=content.file_id,
                file_kind=content.file_kind,
                chat_id=content.chat_id,
                message_id=content.message_id,
            )
            info_id = await tx.add_info(incident_id, InfoKind.ADDITION, InfoState.POSTED, new, now)
            info = await tx.info(info_id)
            assert info is not None
            added.append(info)
            await tx.add_event(
                incident_id,
                EventKind.ADDED,
                now,
                actor_id=reporter_id,
                detail=_said(info),
            )
        for info in added:
            await self.publisher.post_info(tx, incident_id, info, None, now)
        view = await self.incidents.refresh(tx, incident_id, now)
        assert view is not None
        return Done(InfoOutcome.DONE, added[-1] if added else None, view, {"count": len(added)})

    # --- notes ---

    async def note(
        self,
        incident_id: int,
        author_id: int | None,
        agency_id: int | None,
        text: str,
        *,
        via: str | None = None,
    ) -> Done:
        """A note on the incident for every agency on it (`/catatan`; from another system over
        the API: `via` names it)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            view = await tx.incident_view(incident_id)
            if view is None:
                return Done(InfoOutcome.NOT_FOUND)
            if view.incident.lifecycle.closed:
                return Done(InfoOutcome.CLOSED, view=view)
            new = NewInfo(agency_id=agency_id, author_id=author_id, text=text[:INFO_TEXT_MAX])
            info_id = await tx.add_info(incident_id, InfoKind.NOTE, InfoState.POSTED, new, now)
            return await self._posted_note(tx, info_id, None, now, via=via)

    async def propose_note(
        self,
        incident_id: int,
        author_id: int,
        agency_id: int,
        text: str,
        chat_id: int,
        message_id: int,
    ) -> Done:
        """A reply to a card in an agency's group: kept as a proposal its author may confirm."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            incident = await tx.incident(incident_id)
            if incident is None:
                return Done(InfoOutcome.NOT_FOUND)
            if incident.lifecycle.closed:
                return Done(InfoOutcome.CLOSED)
            new = NewInfo(
                agency_id=agency_id,
                author_id=author_id,
                text=text[:INFO_TEXT_MAX],
                chat_id=chat_id,
                message_id=message_id,
            )
            info_id = await tx.add_info(incident_id, InfoKind.NOTE, InfoState.PROPOSED, new, now)
            info = await tx.info(info_id)
        return Done(InfoOutcome.DONE, info)

    async def settle_proposal(self, info_id: int, presser_id: int, confirm: bool) -> Done:
        """The author makes their reply a note, or leaves it as chatter."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            info = await tx.info(info_id)
            if info is None or info.kind is not InfoKind.NOTE:
                return Done(InfoOutcome.GONE)
            if info.author_id != presser_id:
                return Done(InfoOutcome.NOT_YOURS, info)
            if info.state is not InfoState.PROPOSED:
                return Done(InfoOutcome.GONE, info)
            incident = await tx.incident(info.incident_id)
            if confirm and incident is not None and incident.lifecycle.closed:
                return Done(InfoOutcome.CLOSED, info)
            event = InfoEvent.CONFIRM if confirm else InfoEvent.DROP
            if not await tx.move_info(info_id, info.state, next_info(info.state, event), now):
                return Done(InfoOutcome.GONE, info)
            if not confirm:
                return Done(InfoOutcome.DONE, info)
            return await self._posted_note(tx, info_id, info.chat_id, now)

    async def _posted_note(
        self, tx: Tx, info_id: int, skip_chat: int | None, now: datetime, *, via: str | None = None
    ) -> Done:
        info = await tx.info(info_id)
        assert info is not None
        detail = {"agency": via or info.agency_name or "", "said": short(info.text, 200)}
        await tx.add_event(
            info.incident_id,
            EventKind.NOTED,
            now,
            actor_id=info.author_id,
            agency_id=info.agency_id,
            detail=detail | ({"via": via} if via else {}),
        )
        chats = await self.publisher.post_info(
            tx, info.incident_id, info, None, now, skip_chat=skip_chat
        )
        view = await self.incidents.refresh(tx, info.incident_id, now)
        assert view is not None
        log.info("note %s on #%s to %d chats", info_id, info.incident_id, chats)
        return Done(InfoOutcome.DONE, info, view, {"chats": chats, "missing": gaps_of(view)})

    async def note_fills(self, info_id: int, presser_id: int, gap: Gap) -> Done:
        """The note's author says it answers one missing item: the card stops listing it."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            info = await tx.info(info_id)
            if info is None or info.kind is not InfoKind.NOTE or info.state is not InfoState.POSTED:
                return Done(InfoOutcome.GONE)
            if info.author_id != presser_id:
                return Done(InfoOutcome.NOT_YOURS, info)
            await tx.set_info_fills(info_id, gap)
            view = await self.incidents.refresh(tx, info.incident_id, now)
        assert view is not None
        return Done(InfoOutcome.DONE, info, view, {"missing": gaps_of(view)})

    def note_sent(self, language: Language, done: Done) -> tuple[str, Any]:
        """What the author of a note is told, with one tap per item it may answer."""
        assert done.info is not None
        text = note_sent_text(language, done.info.incident_id, int(done.detail.get("chats", 0)))
        return text, note_fills_keyboard(language, done.info.id, done.detail.get("missing", ()))

    # --- 112 callers joining by link ---

    async def caller_link(self, incident_id: int, by_user: int, bot_username: str) -> Done:
        """A one-time link for a 112 caller to join a dispatcher's incident."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            incident = await tx.incident(incident_id)
            if incident is None:
                return Done(InfoOutcome.NOT_FOUND)
            if incident.lifecycle.closed:
                return Done(InfoOutcome.CLOSED)
            token = secrets.token_urlsafe(12)  # 16 characters of [A-Za-z0-9_-]
            expires = now + CALLER_LINK_VALID
            await tx.add_caller_link(token, incident_id, by_user, now, expires)
            language = await tx.language_of(by_user, self.settings.default_language)
            url = f"https://t.me/{bot_username}?start={LINK_PREFIX}{token}"
            text = caller_link_text(language, incident_id, url, expires, self.settings.zone)
            await tx.enqueue(text_message(by_user, text, priority=Priority.URGENT), now)
            await tx.add_event(incident_id, EventKind.CALLER_LINK, now, actor_id=by_user)
        return Done(InfoOutcome.DONE, detail={"token": token, "url": url})

    async def join(self, token: str, user_id: int) -> Done:
        """A caller opened the link: they become a reporter of the incident."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            link = await tx.caller_link(token)
            if link is None:
                return Done(InfoOutcome.GONE)
            if link.used_by == user_id:
                return Done(InfoOutcome.DONE, detail={"incident": link.incident_id, "again": True})
            if link.used_by is not None:
                return Done(InfoOutcome.USED)
            if link.expires_at <= now:
                return Done(InfoOutcome.EXPIRED)
            incident = await tx.incident(link.incident_id)
            if incident is None or incident.lifecycle.closed:
                return Done(InfoOutcome.CLOSED)
            if not await tx.use_caller_link(token, user_id, now):
                return Done(InfoOutcome.USED)
            await tx.join_incident(link.incident_id, user_id, "link", now)
            await tx.add_event(link.incident_id, EventKind.CALLER_JOINED, now, actor_id=user_id)
            language = await tx.language_of(link.created_by, self.settings.default_language)
            await tx.enqueue(
                text_message(link.created_by, caller_joined_text(language, link.incident_id)),
                now,
            )
        return Done(InfoOutcome.DONE, detail={"incident": link.incident_id, "again": False})

    # --- the sweep ---

    async def reporter_refused(self, user_id: int) -> int:
        """A reporter blocked the bot (the sender found out): a waiting question that no
        reporter of its incident can receive any more is marked undeliverable, so the card stops
        saying it waits. Its asker was told by the failed send's fallback. How many moved."""
        if user_id <= 0:
            return 0
        now = self.store.clock.now()
        moved = 0
        async with self.store.transaction() as tx:
            for incident_id in await tx.open_reports_of(user_id):
                if await self._reachable(tx, await tx.reporters_of(incident_id)):
                    continue
                view = await tx.incident_view(incident_id)
                if view is None:
                    continue
                waiting = [
                    i for i in view.infos if i.kind is InfoKind.QUESTION and i.state in WAITING
                ]
                for question in waiting:
                    to = next_info(question.state, InfoEvent.UNDELIVERABLE)
                    moved += await tx.move_info(question.id, question.state, to, now)
                if waiting:
                    await self.incidents.refresh(tx, incident_id, now)
        if moved:
            log.info("%d questions to reporter %s cannot be delivered", moved, user_id)
        return moved

    async def mark_unanswered(self) -> int:
        """Questions nobody answered in time are marked so on the card (still answerable)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            stale = await tx.stale_questions(now - self.unanswered_after)
            touched = set()
            for question in stale:
                moved = next_info(question.state, InfoEvent.TIME_OUT)
                if await tx.move_info(question.id, question.state, moved, now):
                    touched.add(question.incident_id)
                    await tx.add_event(
                        question.incident_id,
                        EventKind.QUESTION_UNANSWERED,
                        now,
                        agency_id=question.agency_id,
                        detail={"agency": question.agency_name or ""},
                    )
            for incident_id in sorted(touched):
                await self.incidents.refresh(tx, incident_id, now)
        return len(stale)


def gaps_of(view: IncidentView) -> tuple[Gap, ...]:
    return gaps(view.incident, view.infos) if not view.incident.lifecycle.closed else ()


def _question_detail(question: Info) -> dict[str, object]:
    """A question on the timeline: who asks, and the one-tap question's key or the words."""
    detail: dict[str, object] = {"agency": question.agency_name or ""}
    if question.question_key in QUESTIONS:
        detail["question"] = question.question_key
    else:
        detail["text"] = short(question.text, 200)
    return detail


def _said(info: Info) -> dict[str, object]:
    """An answer or an addition on the timeline: the one-tap answer, the words (short), and
    what came with it."""
    detail: dict[str, object] = {"said": short(info.text, 200)}
    if info.answer_key is not None:
        detail["answer"] = info.answer_key
    media = [kind for kind, has in (("point", info.has_point), ("photo", info.photo)) if has]
    if info.file_kind:
        media.append(info.file_kind)
    if media:
        detail["media"] = media
    return detail


def _with_fallback(message: OutgoingMessage, fallback: OutgoingMessage) -> OutgoingMessage:
    return replace(message, fallback=fallback)


def _removing_keyboard(message: OutgoingMessage) -> OutgoingMessage:
    """The reply keyboard a question put up (Send my location) goes with the thanks."""
    message.payload["reply_markup"] = {"remove_keyboard": True}
    return message
