"""The names the bot gives the messages it sends, and the kinds of an incident's posted copies.

A *ref* names one message across restarts: the outbox stores it with the message it sends
(`outbox.ref`), later edits and replies find their target by it (`outbox.target_ref`), and the
press pipeline reads it back from `bot_messages` to check that a button is on the message it
belongs to. Every ref is `<kind>:<part>:<part>…` with a `RefKind` first; they are built only
here, so a new kind of message is one line in `RefKind` and one builder below.

`PostKind` names the copies of an incident kept in step (`incident_posts.kind`): every copy is
re-rendered when the incident changes, each by the rules of its kind.
"""

from __future__ import annotations

from enum import StrEnum


class RefKind(StrEnum):
    """The first part of a message's ref: what kind of message it is."""

    CARD = "card"  # an incident's card in an agency's chat
    TASK = "task"  # an assignee's task card in their private chat
    OPS = "ops"  # the operators' copy of a call no agency is routed to
    FEED = "feed"  # an incident's card in the 112 operators' feed
    ESCALATION = "esc"  # an escalation to coordinators about one agency
    VIEW = "view"  # an incident looked up with /kejadian or Open #N
    ALERT = "bc"  # a broadcast alert in one recipient chat
    ALERT_STATUS = "bcs"  # the sender's status message of a broadcast, with its receipts
    DIGEST = "digest"  # the morning digest in one chat
    ERASED = "mine"  # a person's own message the bot deletes when their data is erased
    QUESTION = "q"  # a question to one reporter
    INFO = "info"  # an answer, addition or note posted under the card in one chat
    DUTY = "duty"  # an on-duty member's private alert about a new call for their agency
    REMINDER = "rem"  # a reminder about one agency of an incident, in one chat
    ESCALATION_PING = "escp"  # the latest short ping under an escalation, in one chat


class PostKind(StrEnum):
    """The posted copies of an incident the bot keeps in step (`incident_posts`)."""

    CARD = "card"  # an agency's card in its chat
    OPS = "ops"  # the dispatchers' and coordinators' copy of a call no agency is routed to
    FEED = "feed"  # the card in the 112 operators' feed (every incident): pinned while critical
    TASK = "task"  # an assignee's task card
    ESCALATION = "escalation"  # an escalation to coordinators about one agency
    VIEW = "view"  # an incident looked up (/kejadian, Open #N): a snapshot, re-rendered only
    # when a person's data is erased
    INFO = "info"  # an answer, addition or note under the card: re-rendered only on erasure
    DUTY = "duty"  # an on-duty member's private alert: says who took the call
    REMINDER = "reminder"  # a reminder to an agency: once moot, says what happened


def _ref(kind: RefKind, *parts: int | str) -> str:
    return ":".join((kind.value, *(str(part) for part in parts)))


def kind_of(ref: str) -> RefKind | None:
    """The kind a ref names, or None for a ref no builder here makes."""
    head, _, _ = ref.partition(":")
    try:
        return RefKind(head)
    except ValueError:
        return None


def parts_of(ref: str | None, kind: RefKind) -> tuple[str, ...] | None:
    """The parts after the kind when `ref` is of `kind`, else None."""
    if ref is None or kind_of(ref) is not kind:
        return None
    return tuple(ref.split(":")[1:])


def card_ref(incident_id: int, agency_id: int) -> str:
    """An incident's card in an agency's chat."""
    return _ref(RefKind.CARD, incident_id, agency_id)


def task_ref(assignment_id: int) -> str:
    """An assignee's task card."""
    return _ref(RefKind.TASK, assignment_id)


def ops_ref(incident_id: int, chat_id: int) -> str:
    """The operators' copy of an unrouted call in one chat."""
    return _ref(RefKind.OPS, incident_id, chat_id)


def feed_ref(incident_id: int) -> str:
    """An incident's card in the 112 operators' feed (there is one feed)."""
    return _ref(RefKind.FEED, incident_id)


def escalation_ref(incident_id: int, agency_id: int, chat_id: int, attempt: int) -> str:
    """One escalation message: each attempt is its own message, edited when the call is owned."""
    return _ref(RefKind.ESCALATION, incident_id, agency_id, chat_id, attempt)


def view_ref(incident_id: int, chat_id: int, update_id: int) -> str:
    """A looked-up incident, one per asking update (a retried update posts nothing twice)."""
    return _ref(RefKind.VIEW, incident_id, chat_id, update_id)


def alert_ref(broadcast_id: int, chat_id: int) -> str:
    """A broadcast alert in one recipient chat."""
    return _ref(RefKind.ALERT, broadcast_id, chat_id)


def alert_status_ref(broadcast_id: int) -> str:
    """The sender's status message of a broadcast."""
    return _ref(RefKind.ALERT_STATUS, broadcast_id)


def digest_ref(day: str, chat_id: int) -> str:
    """The morning digest of `day` (ISO date) in one chat."""
    return _ref(RefKind.DIGEST, day, chat_id)


def erased_ref(chat_id: int, message_id: int) -> str:
    """A person's own message queued for deletion when their data is erased."""
    return _ref(RefKind.ERASED, chat_id, message_id)


def question_ref(question_id: int, user_id: int) -> str:
    """A question as one reporter got it (their answer may reply to it)."""
    return _ref(RefKind.QUESTION, question_id, user_id)


def info_ref(info_id: int, chat_id: int, part: str) -> str:
    """An answer, addition or note under the card in one chat: its text (`t`) or the copy of
    what came with it (`m`)."""
    return _ref(RefKind.INFO, info_id, chat_id, part)


def duty_ref(incident_id: int, agency_id: int, user_id: int) -> str:
    """An on-duty member's private alert about a call for their agency."""
    return _ref(RefKind.DUTY, incident_id, agency_id, user_id)


def reminder_ref(incident_id: int, agency_id: int, kind: str, chat_id: int, attempt: int) -> str:
    """A reminder of `kind` (a ReminderKind's value) about one agency of an incident, in one
    chat, at one firing."""
    return _ref(RefKind.REMINDER, incident_id, agency_id, kind, chat_id, attempt)


def escalation_ping_ref(incident_id: int, agency_id: int, chat_id: int) -> str:
    """The short ping of an escalation's latest repeat in one chat: one name for all of them,
    so each new ping deletes the message the name stood for."""
    return _ref(RefKind.ESCALATION_PING, incident_id, agency_id, chat_id)
