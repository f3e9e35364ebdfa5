"""Callback data as a versioned schema: `<version>|<action>|<id>|<id>…`, at most 64 bytes.

Only ids travel in a button; everything else is read from the store when the button is pressed
and the press is authorized again, so a forged or stale button can do no harm. Anything that
does not parse is a stale button and gets a polite answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

VERSION = "1"
MAX_BYTES = 64
_PATTERN = re.compile(
    r"^(?P<version>[0-9]+)\|(?P<action>[a-z][a-z0-9_.]{0,15})(?P<ids>(\|-?[0-9]{1,19})*)$"
)


class ButtonAction(StrEnum):
    """Every kind of button the bot sends. Values are short: they travel in callback data."""

    AGENCY_MOVE = "ag.mv"  # move an agency's registration to this chat: |agency
    AGENCY_KEEP = "ag.keep"  # leave it where it is: |agency

    # incident cards in agency chats: |incident|agency
    ACKNOWLEDGE = "ack"
    ASSIGN = "asg"  # open the assign picker
    EN_ROUTE = "rs.go"
    ON_SCENE = "rs.at"
    AGENCY_DONE = "rs.done"
    MANAGE = "mg"  # |incident: a dispatcher opens the management card in private

    # the assign picker: |incident|agency|user, |incident|agency
    ASSIGN_TO = "asg.to"
    ASSIGN_SELF = "asg.me"
    ASSIGN_CLOSE = "asg.x"

    # a person's task card: |assignment
    TASK_ACCEPT = "tk.ok"
    TASK_DECLINE = "tk.no"
    TASK_EN_ROUTE = "tk.go"
    TASK_ON_SCENE = "tk.at"
    TASK_DONE = "tk.done"

    # the dispatcher's management card: |incident|…
    SET_SEVERITY = "sev"  # |incident|severity rank (0 critical … 3 low)
    ADD_AGENCY = "addag"  # |incident|agency
    CANCEL_INCIDENT = "cx"  # |incident|reason index (models.incidents.CANCEL_REASONS)
    REOPEN = "reo"  # |incident

    # escalations to coordinators
    ACK_ON_BEHALF = "ack.for"  # |incident|agency
    OPEN_INCIDENT = "open"  # |incident: send the full card and timeline in private

    # the guided report (the draft is the person's own; no ids needed)
    REPORT_TYPE = "rp.t"  # |index in IncidentType
    REPORT_FAR_OK = "rp.far"  # |1 keep the far location, |0 send another
    REPORT_PHOTOS_DONE = "rp.ph"
    REPORT_HURT = "rp.h"  # |index in Hurt
    REPORT_SUBMIT = "rp.ok"
    REPORT_EDIT = "rp.e"  # |index in the report's fields
    REPORT_CANCEL = "rp.x"

    # composing a broadcast (the draft is the presser's own): |draft|…
    BC_URGENCY = "bc.u"  # |draft|index in Urgency
    BC_TARGET = "bc.t"  # |draft|index in TargetKind
    BC_AGENCY = "bc.a"  # |draft|agency: choose or unchoose
    BC_AGENCY_PAGE = "bc.ap"  # |draft|page of the agency picker
    BC_AGENCIES_DONE = "bc.ad"
    BC_SEND = "bc.s"
    BC_RETARGET = "bc.rt"  # choose the targets again
    BC_DISCARD = "bc.x"
    # a sent broadcast: |broadcast
    BC_RECEIVED = "bc.ok"  # under the alert in every chat it went to
    BC_DETAILS = "bc.d"  # who confirmed and who did not
    BC_STOP = "bc.stop"  # |broadcast|0 asks to confirm, |broadcast|1 cancels what is pending


@dataclass(frozen=True, slots=True)
class CallbackData:
    action: ButtonAction
    ids: tuple[int, ...] = ()

    def encode(self) -> str:
        data = "|".join((VERSION, self.action.value, *(str(i) for i in self.ids)))
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long: {data!r}")
        return data


def encode(action: ButtonAction, *ids: int) -> str:
    return CallbackData(action, ids).encode()


def decode(data: str | None) -> CallbackData | None:
    """The button's meaning, or None for anything stale, forged or from another version."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    match = _PATTERN.match(data)
    if match is None or match.group("version") != VERSION:
        return None
    try:
        action = ButtonAction(match.group("action"))
    except ValueError:
        return None
    ids = tuple(int(part) for part in match.group("ids").split("|") if part)
    if any(not -(2**63) <= i < 2**63 for i in ids):
        return None  # no id of ours is that large: forged, and SQLite could not take it
    return CallbackData(action, ids)


def pattern_for(*actions: ButtonAction) -> re.Pattern[str]:
    """A CallbackQueryHandler pattern matching these actions of the current version."""
    names = "|".join(re.escape(action.value) for action in actions)
    return re.compile(rf"^{VERSION}\|(?:{names})(?:\||$)")
