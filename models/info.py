"""Information after the first report: questions to the reporter, their answers, what the
reporter adds unasked, responders' notes, and what an incident still lacks.

The first report is rarely complete, and the critical moment of an emergency is when it is not.
Every piece of information that comes later is one `Info` row of the incident: a question asked
by an agency (or the 112 operators), a reporter's answer to it, an addition the reporter sent on
their own, or a note a responder wrote for every agency. What the card says is still missing is
computed here from the incident and its information (`gaps`), by a rules table per incident type
(`GAPS_BY_TYPE`); the one-tap questions (`QUESTIONS`) are ordered by those gaps, so asking
follows what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from models.incident_types import IncidentType
from models.transitions import IllegalTransition

QUESTION_TEXT_MAX = 300  # a question is short: the reporter reads it in an emergency
INFO_TEXT_MAX = 1000  # an answer, an addition or a note
QUESTIONS_PER_WINDOW = 6  # per incident, so a reporter is not flooded
QUESTION_WINDOW = timedelta(minutes=10)
CALLER_LINK_VALID = timedelta(hours=24)


class InfoKind(StrEnum):
    QUESTION = "question"  # asked by an agency or the operators, to the incident's reporters
    ANSWER = "answer"  # a reporter's answer to one question
    ADDITION = "addition"  # a reporter added to their report unasked
    NOTE = "note"  # a responder's note, for every agency on the incident


class InfoState(StrEnum):
    OPEN = "open"  # a question waiting for its answer
    ANSWERED = "answered"  # a question with an answer
    UNANSWERED = "unanswered"  # a question nobody answered in time (still answerable)
    UNDELIVERABLE = "undeliverable"  # a question no reporter can be reached with
    CLOSED = "closed"  # a question whose incident closed before an answer
    PROPOSED = "proposed"  # a reply to a card, waiting for its author to make it a note
    DROPPED = "dropped"  # a proposed note its author did not confirm
    POSTED = "posted"  # an answer, an addition or a note, shown on the incident


class InfoEvent(StrEnum):
    ANSWER = "answer"
    TIME_OUT = "time_out"
    UNDELIVERABLE = "undeliverable"
    CLOSE = "close"  # the incident closed
    CONFIRM = "confirm"
    DROP = "drop"


_S, _E = InfoState, InfoEvent
INFO_TRANSITIONS: dict[tuple[InfoState, InfoEvent], InfoState] = {
    (_S.OPEN, _E.ANSWER): _S.ANSWERED,
    (_S.UNANSWERED, _E.ANSWER): _S.ANSWERED,  # a late answer still counts
    (_S.OPEN, _E.TIME_OUT): _S.UNANSWERED,
    (_S.OPEN, _E.UNDELIVERABLE): _S.UNDELIVERABLE,
    (_S.UNANSWERED, _E.UNDELIVERABLE): _S.UNDELIVERABLE,
    (_S.OPEN, _E.CLOSE): _S.CLOSED,
    (_S.UNANSWERED, _E.CLOSE): _S.CLOSED,
    (_S.PROPOSED, _E.CONFIRM): _S.POSTED,
    (_S.PROPOSED, _E.DROP): _S.DROPPED,
}

# Questions that still wait: a reporter's next message may be their answer.
WAITING = (InfoState.OPEN, InfoState.UNANSWERED)


def next_info(state: InfoState, event: InfoEvent) -> InfoState:
    try:
        return INFO_TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition("info", state.value, event.value) from None


class Gap(StrEnum):
    """Something the first report lacks that matters for its type."""

    POINT = "point"  # no map point: only words for where it is
    CONTACT = "contact"  # no phone number to call back
    HURT = "hurt"  # unknown whether anyone is hurt or trapped
    PHOTO = "photo"  # no photo
    PEOPLE_INSIDE = "people_inside"  # whether anyone is still inside
    ACCESS = "access"  # whether vehicles can reach it
    CONSCIOUS = "conscious"  # whether the patient is conscious
    WATER_DEPTH = "water_depth"  # how deep the water is

    @property
    def label_key(self) -> str:
        return f"gap.{self.value}"


_G = Gap
# What matters per type, most urgent first: the card lists what of it is still missing.
GAPS_BY_TYPE: dict[IncidentType, tuple[Gap, ...]] = {
    IncidentType.FIRE: (_G.POINT, _G.PEOPLE_INSIDE, _G.HURT, _G.ACCESS, _G.PHOTO, _G.CONTACT),
    IncidentType.FOREST_FIRE: (_G.POINT, _G.ACCESS, _G.PHOTO, _G.CONTACT),
    IncidentType.MEDICAL: (_G.POINT, _G.CONSCIOUS, _G.CONTACT),
    IncidentType.TRAFFIC: (_G.POINT, _G.HURT, _G.PHOTO, _G.CONTACT),
    IncidentType.FLOOD: (_G.POINT, _G.WATER_DEPTH, _G.HURT, _G.PHOTO, _G.CONTACT),
    IncidentType.RESCUE: (_G.POINT, _G.HURT, _G.CONTACT),
    IncidentType.ANIMAL: (_G.POINT, _G.PHOTO, _G.CONTACT),
    IncidentType.COLLAPSE: (_G.POINT, _G.PEOPLE_INSIDE, _G.HURT, _G.PHOTO, _G.CONTACT),
    IncidentType.OTHER: (_G.POINT, _G.CONTACT),
}


class Expect(StrEnum):
    """What kind of answer a question asks for."""

    CHOICE = "choice"  # one tap (free text also accepted)
    TEXT = "text"
    POINT = "point"  # a location
    PHOTO = "photo"


UNKNOWN_ANSWER = "unknown"  # "I don't know" answers, fills no gap


@dataclass(frozen=True, slots=True)
class QuickQuestion:
    """A one-tap question: its text is `question.<key>`, its answers `answer.<answer>`."""

    key: str
    expects: Expect
    gap: Gap | None = None  # the gap an answer fills
    answers: tuple[str, ...] = ()

    @property
    def text_key(self) -> str:
        return f"question.{self.key}"


YES_NO = ("yes", "no", UNKNOWN_ANSWER)
QUESTIONS: dict[str, QuickQuestion] = {
    q.key: q
    for q in (
        QuickQuestion("point", Expect.POINT, Gap.POINT),
        QuickQuestion("photo", Expect.PHOTO, Gap.PHOTO),
        QuickQuestion("people_inside", Expect.CHOICE, Gap.PEOPLE_INSIDE, YES_NO),
        QuickQuestion("hurt", Expect.CHOICE, Gap.HURT, YES_NO),
        QuickQuestion("access", Expect.CHOICE, Gap.ACCESS, ("passable", "blocked", UNKNOWN_ANSWER)),
        QuickQuestion("conscious", Expect.CHOICE, Gap.CONSCIOUS, YES_NO),
        QuickQuestion("breathing", Expect.CHOICE, None, YES_NO),
        QuickQuestion(
            "water_depth", Expect.CHOICE, Gap.WATER_DEPTH, ("ankle", "knee", "waist", "chest")
        ),
        QuickQuestion("spreading", Expect.CHOICE, None, YES_NO),
        QuickQuestion("floor", Expect.TEXT),
        QuickQuestion("how_many", Expect.TEXT),
        QuickQuestion("animal", Expect.TEXT),
        QuickQuestion("now", Expect.TEXT),
    )
}

ANSWERS = frozenset(answer for question in QUESTIONS.values() for answer in question.answers)

QUESTIONS_BY_TYPE: dict[IncidentType, tuple[str, ...]] = {
    IncidentType.FIRE: ("people_inside", "floor", "spreading", "access", "hurt", "point", "photo"),
    IncidentType.FOREST_FIRE: ("spreading", "access", "point", "photo", "now"),
    IncidentType.MEDICAL: ("conscious", "breathing", "how_many", "point", "now"),
    IncidentType.TRAFFIC: ("hurt", "how_many", "access", "point", "photo"),
    IncidentType.FLOOD: ("water_depth", "hurt", "how_many", "access", "point", "photo"),
    IncidentType.RESCUE: ("how_many", "hurt", "point", "now"),
    IncidentType.ANIMAL: ("animal", "point", "photo"),
    IncidentType.COLLAPSE: ("people_inside", "hurt", "how_many", "access", "point", "photo"),
    IncidentType.OTHER: ("now", "point", "photo"),
}


@dataclass(frozen=True, slots=True)
class Info:
    """One piece of information on an incident after its first report."""

    id: int
    incident_id: int
    kind: InfoKind
    state: InfoState
    agency_id: int | None  # the agency that asks or notes; None: the 112 operators
    agency_name: str | None
    author_id: int | None  # who asked, answered, added or noted
    text: str = ""
    question_id: int | None = None  # an answer's question
    question_key: str | None = None  # a one-tap question (on the question and its answer)
    answer_key: str | None = None  # a one-tap answer
    photo: str | None = None  # Telegram file id
    latitude: float | None = None
    longitude: float | None = None
    file_id: str | None = None  # a voice note, video, audio or document, kept as a file
    file_kind: str | None = None
    fills: Gap | None = None
    chat_id: int | None = None  # where it came from: the reporter's chat, or a reply's group
    message_id: int | None = None
    created_at: datetime | None = None
    settled_at: datetime | None = None

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def shown(self) -> bool:
        """Information every agency sees: answers, additions and posted notes."""
        return self.state is InfoState.POSTED

    @property
    def waiting(self) -> bool:
        return self.kind is InfoKind.QUESTION and self.state in WAITING


class InfoOutcome(StrEnum):
    DONE = "done"
    NOT_FOUND = "not_found"
    CLOSED = "closed"  # the incident is closed
    NO_REPORTER = "no_reporter"  # nobody to ask (a call nobody joined)
    UNREACHABLE = "unreachable"  # every reporter blocked the bot or had their data erased
    ALREADY_ASKING = "already_asking"  # the asker's earlier question is still open
    TOO_MANY = "too_many"  # the incident's question limit for now
    NOT_YOURS = "not_yours"  # somebody else's proposal or report
    GONE = "gone"  # the question, proposal or link is no longer there
    EXPIRED = "expired"
    USED = "used"
