"""Callback data as a versioned schema of named button payloads.

A button carries `<version>|<action>|<field>|<field>…`, at most 64 bytes. Each family of buttons
is one small frozen dataclass: its `action` and then integer fields, in the order they travel.
`decode` turns data into an instance of the family its action belongs to, with named fields —
or None for anything that does not parse (a stale, forged or other-version button), which gets a
polite answer. Only ids travel; everything else is read from the store when the button is pressed
and the press is checked again (`handlers.presses`).

The version stays "1" while the wire form of every family stays what it was, so buttons on
messages sent before an upgrade keep working.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import ClassVar, TypeVar

from models.incidents import CANCEL_REASONS, Severity
from models.info import Gap

VERSION = "1"
MAX_BYTES = 64
_PATTERN = re.compile(
    r"^(?P<version>[0-9]+)\|(?P<action>[a-z][a-z0-9_.]{0,15})(?P<ids>(\|-?[0-9]{1,19})*)$"
)
_ID_RANGE = range(-(2**63), 2**63)  # what SQLite can take; no id of ours is larger


class ButtonAction(StrEnum):
    """Every kind of button the bot sends. Values are short: they travel in callback data."""

    AGENCY_MOVE = "ag.mv"
    AGENCY_KEEP = "ag.keep"

    ACKNOWLEDGE = "ack"
    ASSIGN = "asg"
    EN_ROUTE = "rs.go"
    ON_SCENE = "rs.at"
    AGENCY_DONE = "rs.done"
    MANAGE = "mg"

    ASSIGN_TO = "asg.to"
    ASSIGN_SELF = "asg.me"
    ASSIGN_CLOSE = "asg.x"

    TASK_ACCEPT = "tk.ok"
    TASK_DECLINE = "tk.no"
    TASK_EN_ROUTE = "tk.go"
    TASK_ON_SCENE = "tk.at"
    TASK_DONE = "tk.done"

    SET_SEVERITY = "sev"
    ADD_AGENCY = "addag"
    CANCEL_INCIDENT = "cx"  # asks to confirm
    CANCEL_CONFIRMED = "cx.ok"
    RESOLVE = "res"  # asks to confirm
    RESOLVE_CONFIRMED = "res.ok"
    MANAGE_BACK = "mg.back"  # from a confirmation back to the management card
    REOPEN = "reo"

    ACK_ON_BEHALF = "ack.for"
    OPEN_INCIDENT = "open"
    TAKE_OWNERSHIP = "own"  # 🙋 Ambil alih: a dispatcher owns a call no agency is routed to
    MERGE_SIMILAR = "sim.mg"  # 🔗 Gabungkan ke #12: merge a report hinted as a duplicate
    DRILL_PICK = "dr.pick"  # /latihan: a scenario chosen
    DRILL_TOGGLE = "dr.tg"  # an agency in or out of the drill
    DRILL_START = "dr.go"
    DRILL_BACK = "dr.back"
    DRILL_STOP = "dr.stop"
    NOT_SIMILAR = "sim.no"  # ✖️ Bukan duplikat: the hint leaves both cards

    REPORT_TYPE = "rp.t"
    REPORT_FAR_OK = "rp.far"
    REPORT_PHOTOS_DONE = "rp.ph"
    REPORT_HURT = "rp.h"
    REPORT_SUBMIT = "rp.ok"
    REPORT_EDIT = "rp.e"
    REPORT_CANCEL = "rp.x"

    FORGET_CONFIRMED = "fg.ok"  # /lupakan: yes, erase my data
    FORGET_KEPT = "fg.no"  # no, keep it

    BC_URGENCY = "bc.u"
    BC_TARGET = "bc.t"
    BC_AGENCY = "bc.a"
    BC_AGENCY_PAGE = "bc.ap"
    BC_AGENCIES_DONE = "bc.ad"
    BC_SEND = "bc.s"
    BC_RETARGET = "bc.rt"
    BC_DISCARD = "bc.x"
    BC_RECEIVED = "bc.ok"
    BC_DETAILS = "bc.d"
    BC_STOP = "bc.stop"

    ASK_REPORTER = "ask"  # on a card or task card: ask the reporters a question
    ASK_PICK = "ask.q"  # in the asker's private chat: a one-tap question (index)
    ASK_CANCEL = "ask.x"
    QUICK_ANSWER = "qa"  # under a question to a reporter: a one-tap answer (index)
    ADD_TO = "add"  # "add this to report #N?": the incident chosen
    ADD_NOT = "add.x"
    NOTE_CONFIRM = "nt.ok"  # a reply to a card becomes a note
    NOTE_DROP = "nt.x"
    NOTE_FILLS = "nt.f"  # the note answers one missing item (index of the gap)
    CALLER_LINK = "link"  # a one-time link for a 112 caller to join the incident
    DUTY_ACK = "du.ack"  # on an on-duty member's private alert: acknowledge for the agency
    DUTY_TAKE = "du.take"  # …or take the call myself (acknowledges and assigns me)


@dataclass(frozen=True, slots=True)
class Button:
    """A button's payload. Subclasses add integer fields and register with `family`."""

    action: ButtonAction
    ACTIONS: ClassVar[frozenset[ButtonAction]] = frozenset()
    WIRE: ClassVar[tuple[str, ...]] = ()  # the integer fields, in the order they travel

    def encode(self) -> str:
        values = (str(getattr(self, name)) for name in self.WIRE)
        data = "|".join((VERSION, self.action.value, *values))
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long: {data!r}")
        return data

    def valid(self) -> bool:
        """Whether the fields make sense (ranges of indexes); decoding refuses those that do not."""
        return True


B = TypeVar("B", bound=Button)
_FAMILIES: dict[ButtonAction, type[Button]] = {}


def family(*actions: ButtonAction) -> Callable[[type[B]], type[B]]:
    """Register a payload class as the family of these actions."""

    def register(cls: type[B]) -> type[B]:
        cls.ACTIONS = frozenset(actions)
        cls.WIRE = tuple(field.name for field in fields(cls)[1:])
        for action in actions:
            if action in _FAMILIES:
                raise ValueError(f"{action} belongs to {_FAMILIES[action].__name__} already")
            _FAMILIES[action] = cls
        return cls

    return register


def decode(data: str | None) -> Button | None:
    """The button's payload, or None for anything stale, forged or from another version."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    match = _PATTERN.match(data)
    if match is None or match.group("version") != VERSION:
        return None
    try:
        action = ButtonAction(match.group("action"))
    except ValueError:
        return None
    cls = _FAMILIES.get(action)
    if cls is None:
        return None
    ids = [int(part) for part in match.group("ids").split("|") if part]
    if len(ids) != len(cls.WIRE) or any(i not in _ID_RANGE for i in ids):
        return None
    button = cls(action, *ids)
    return button if button.valid() else None


def families() -> dict[ButtonAction, type[Button]]:
    """Every action and the payload class it decodes to."""
    return dict(_FAMILIES)


# --- organisation ---


@family(ButtonAction.AGENCY_MOVE, ButtonAction.AGENCY_KEEP)
@dataclass(frozen=True, slots=True)
class AgencyMove(Button):
    """Move an agency's registration to the chat the question is in, or leave it."""

    agency_id: int


# --- incident cards in agency chats, and the dispatchers' copy ---


@family(
    ButtonAction.ACKNOWLEDGE,
    ButtonAction.ASSIGN,
    ButtonAction.EN_ROUTE,
    ButtonAction.ON_SCENE,
    ButtonAction.AGENCY_DONE,
)
@dataclass(frozen=True, slots=True)
class CardButton(Button):
    """One agency's buttons on its copy of an incident card."""

    incident_id: int
    agency_id: int


@family(
    ButtonAction.MANAGE,
    ButtonAction.OPEN_INCIDENT,
    ButtonAction.TAKE_OWNERSHIP,
    ButtonAction.REOPEN,
    ButtonAction.RESOLVE,
    ButtonAction.RESOLVE_CONFIRMED,
    ButtonAction.MANAGE_BACK,
)
@dataclass(frozen=True, slots=True)
class IncidentButton(Button):
    """A button about a whole incident: manage it, open it in private, resolve or reopen it."""

    incident_id: int


@family(ButtonAction.MERGE_SIMILAR, ButtonAction.NOT_SIMILAR)
@dataclass(frozen=True, slots=True)
class SimilarChoice(Button):
    """A dispatcher's answer to a duplicate hint: the report and the incident it may repeat."""

    incident_id: int
    of_id: int


@family(
    ButtonAction.DRILL_PICK,
    ButtonAction.DRILL_TOGGLE,
    ButtonAction.DRILL_START,
    ButtonAction.DRILL_BACK,
    ButtonAction.DRILL_STOP,
)
@dataclass(frozen=True, slots=True)
class DrillButton(Button):
    """`/latihan`: a scenario (its index) and the agencies chosen (a bit each), or a drill to
    stop (its number)."""

    value: int
    agencies: int

    def valid(self) -> bool:
        return self.agencies < 1 << 20


# --- the assign picker: the person who opened it travels along, for it is theirs ---


@family(ButtonAction.ASSIGN_SELF, ButtonAction.ASSIGN_CLOSE)
@dataclass(frozen=True, slots=True)
class PickerButton(Button):
    incident_id: int
    agency_id: int
    opener_id: int


@family(ButtonAction.ASSIGN_TO)
@dataclass(frozen=True, slots=True)
class PickMember(Button):
    incident_id: int
    agency_id: int
    user_id: int
    opener_id: int


# --- a person's task card ---


@family(
    ButtonAction.TASK_ACCEPT,
    ButtonAction.TASK_DECLINE,
    ButtonAction.TASK_EN_ROUTE,
    ButtonAction.TASK_ON_SCENE,
    ButtonAction.TASK_DONE,
)
@dataclass(frozen=True, slots=True)
class TaskButton(Button):
    assignment_id: int


@family(ButtonAction.DUTY_ACK, ButtonAction.DUTY_TAKE)
@dataclass(frozen=True, slots=True)
class DutyButton(Button):
    """On an on-duty member's private alert about a new call for their agency."""

    incident_id: int
    agency_id: int


# --- the management card and escalations ---


@family(ButtonAction.SET_SEVERITY)
@dataclass(frozen=True, slots=True)
class SetSeverity(Button):
    incident_id: int
    rank: int  # index in models.incidents.Severity: 0 critical … 3 low

    def valid(self) -> bool:
        return 0 <= self.rank < len(Severity)


@family(ButtonAction.ADD_AGENCY, ButtonAction.ACK_ON_BEHALF)
@dataclass(frozen=True, slots=True)
class IncidentAgency(Button):
    """An agency in an incident: add it (management card), acknowledge for it (escalation)."""

    incident_id: int
    agency_id: int


@family(ButtonAction.CANCEL_INCIDENT, ButtonAction.CANCEL_CONFIRMED)
@dataclass(frozen=True, slots=True)
class CancelIncident(Button):
    incident_id: int
    reason: int  # index in models.incidents.CANCEL_REASONS

    def valid(self) -> bool:
        return 0 <= self.reason < len(CANCEL_REASONS)


# --- the guided report (the draft is the presser's own: no ids) ---


@family(
    ButtonAction.REPORT_TYPE,
    ButtonAction.REPORT_FAR_OK,
    ButtonAction.REPORT_HURT,
    ButtonAction.REPORT_EDIT,
)
@dataclass(frozen=True, slots=True)
class ReportChoice(Button):
    """An answer with a value: a type index, far 1/0, a Hurt index (-1: count unknown), the
    index of the field to edit."""

    value: int


@family(ButtonAction.REPORT_PHOTOS_DONE, ButtonAction.REPORT_SUBMIT, ButtonAction.REPORT_CANCEL)
@dataclass(frozen=True, slots=True)
class ReportStep(Button):
    """Photos done, send the report, cancel it."""


# --- erasing one's own data (the presser's own: no ids) ---


@family(ButtonAction.FORGET_CONFIRMED, ButtonAction.FORGET_KEPT)
@dataclass(frozen=True, slots=True)
class ForgetChoice(Button):
    """Yes or no under /lupakan's question."""


# --- composing a broadcast (the draft is the presser's own) and a sent one ---


@family(
    ButtonAction.BC_URGENCY,
    ButtonAction.BC_TARGET,
    ButtonAction.BC_AGENCY,
    ButtonAction.BC_AGENCY_PAGE,
)
@dataclass(frozen=True, slots=True)
class ComposeChoice(Button):
    """An urgency or target index, an agency to tick, a page of the agency picker."""

    draft_id: int
    value: int


@family(
    ButtonAction.BC_AGENCIES_DONE,
    ButtonAction.BC_SEND,
    ButtonAction.BC_RETARGET,
    ButtonAction.BC_DISCARD,
)
@dataclass(frozen=True, slots=True)
class ComposeStep(Button):
    draft_id: int


@family(ButtonAction.BC_RECEIVED, ButtonAction.BC_DETAILS)
@dataclass(frozen=True, slots=True)
class AlertButton(Button):
    """Received (under every copy of an alert), Details (under the sender's status message)."""

    broadcast_id: int


@family(ButtonAction.BC_STOP)
@dataclass(frozen=True, slots=True)
class StopBroadcast(Button):
    broadcast_id: int
    confirmed: int  # 0 asks to confirm, 1 drops what is still pending


# --- information after the first report ---


@family(ButtonAction.ASK_REPORTER, ButtonAction.CALLER_LINK)
@dataclass(frozen=True, slots=True)
class AskReporter(Button):
    """Ask the reporters (on a card: the agency of that chat; 0 on the operators' copies), or get
    a link for a 112 caller to join the incident."""

    incident_id: int
    agency_id: int


@family(ButtonAction.ASK_PICK, ButtonAction.ASK_CANCEL)
@dataclass(frozen=True, slots=True)
class AskChoice(Button):
    """The asker's pick among the one-tap questions (an index; -1 for cancel)."""

    value: int


@family(ButtonAction.QUICK_ANSWER)
@dataclass(frozen=True, slots=True)
class QuickAnswer(Button):
    """A reporter's one-tap answer to a question."""

    question_id: int
    answer: int  # index in the question's answers

    def valid(self) -> bool:
        return 0 <= self.answer < 8


@family(ButtonAction.ADD_TO, ButtonAction.ADD_NOT)
@dataclass(frozen=True, slots=True)
class AddChoice(Button):
    """Which open report the reporter adds what they sent to (0 under "no")."""

    incident_id: int


@family(ButtonAction.NOTE_CONFIRM, ButtonAction.NOTE_DROP, ButtonAction.NOTE_FILLS)
@dataclass(frozen=True, slots=True)
class NoteButton(Button):
    """Make a reply a note, drop it, or say which missing item the note answers."""

    info_id: int
    value: int  # the gap's index for NOTE_FILLS; 0 otherwise

    def valid(self) -> bool:
        return 0 <= self.value < len(Gap)


def pattern_for(*actions: ButtonAction) -> re.Pattern[str]:
    """A pattern matching callback data of these actions of the current version."""
    names = "|".join(re.escape(action.value) for action in actions)
    return re.compile(rf"^{VERSION}\|(?:{names})(?:\||$)")
