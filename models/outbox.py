"""Outgoing messages as data: what to send, where, how urgently, and how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from models.shown import Shown, showing


class Priority(IntEnum):
    """Lower goes first. Incident traffic is never held up behind broadcasts or digests."""

    URGENT = 10  # incident cards, their edits, escalations, answers people wait for
    NOTICE = 20  # confirmations and notifications to one person
    REMINDER = 30
    BROADCAST = 50
    DIGEST = 70


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    PARKED = "parked"  # refused by Telegram for a reason retrying will not fix
    DROPPED = "dropped"  # made moot before it was sent (e.g. a cancelled broadcast)


class SendMethod(StrEnum):
    """The Bot API methods the outbox may call."""

    SEND_MESSAGE = "sendMessage"
    SEND_PHOTO = "sendPhoto"
    SEND_MEDIA_GROUP = "sendMediaGroup"
    SEND_LOCATION = "sendLocation"
    SEND_VENUE = "sendVenue"
    SEND_DOCUMENT = "sendDocument"
    COPY_MESSAGE = "copyMessage"  # a person's message shown in another chat (an answer's photo)
    EDIT_MESSAGE_TEXT = "editMessageText"
    EDIT_MESSAGE_REPLY_MARKUP = "editMessageReplyMarkup"
    EDIT_MESSAGE_CAPTION = "editMessageCaption"
    DELETE_MESSAGE = "deleteMessage"
    PIN_CHAT_MESSAGE = "pinChatMessage"
    UNPIN_CHAT_MESSAGE = "unpinChatMessage"

    @property
    def targets_existing_message(self) -> bool:
        return self in _TARGETING

    @property
    def pins(self) -> bool:
        return self in (SendMethod.PIN_CHAT_MESSAGE, SendMethod.UNPIN_CHAT_MESSAGE)


_TARGETING = frozenset(
    {
        SendMethod.EDIT_MESSAGE_TEXT,
        SendMethod.EDIT_MESSAGE_REPLY_MARKUP,
        SendMethod.EDIT_MESSAGE_CAPTION,
        SendMethod.DELETE_MESSAGE,
        SendMethod.PIN_CHAT_MESSAGE,
        SendMethod.UNPIN_CHAT_MESSAGE,
    }
)


# The calls that change what a message already sent shows (a pin or a reply under it does not).
RESHAPING = frozenset(
    {
        SendMethod.EDIT_MESSAGE_TEXT,
        SendMethod.EDIT_MESSAGE_REPLY_MARKUP,
        SendMethod.EDIT_MESSAGE_CAPTION,
        SendMethod.DELETE_MESSAGE,
    }
)


# A message that links to another one (an on-duty member's alert to the card in the group)
# names it in its payload as {"ref": <ref>, "text": <label>} under this key; the outbox adds the
# button once the linked message has been sent, where Telegram has message links.
LINK = "link_to"


def message_link(chat_id: int, message_id: int) -> str | None:
    """A t.me link that opens a message of a supergroup (None elsewhere: basic groups and
    private chats have no message links)."""
    digits = str(chat_id)
    if not digits.startswith("-100") or message_id <= 0:
        return None
    return f"https://t.me/c/{digits[4:]}/{message_id}"


# A pin the bot may not make is parked with a reason that starts so (Telegram's words for it), and
# sent again when the bot is promoted in that chat; the chat is told why once, as this notice.
NO_PIN_RIGHTS = "BadRequest: not enough rights"
PIN_RIGHTS_NOTICE = "pin_rights"


# A copyMessage's payload names the message it copies under this key: `message_id` is filled by
# the outbox for the message an edit applies to, never by the payload.
COPY_SOURCE = "source_message_id"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to be written to the outbox.

    `ref` names the message this send creates so later edits can find it; `target_ref` names
    the message an edit, delete or pin applies to. Edits never carry raw message ids because
    the message may not have been sent yet when the edit is written.
    """

    chat_id: int
    method: SendMethod
    payload: dict[str, Any] = field(default_factory=dict)
    priority: Priority = Priority.URGENT
    ref: str | None = None
    target_ref: str | None = None
    fallback: OutgoingMessage | None = None  # sent instead if Telegram refuses this for good

    def __post_init__(self) -> None:
        if self.method.targets_existing_message and not self.target_ref:
            raise ValueError(f"{self.method} needs target_ref")
        if "chat_id" in self.payload or "message_id" in self.payload:
            raise ValueError("chat_id and message_id are set by the outbox, not the payload")
        if (self.method is SendMethod.COPY_MESSAGE) != (COPY_SOURCE in self.payload):
            raise ValueError(f"a copyMessage, and only one, names its source as {COPY_SOURCE}")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A row of the outbox as the sender sees it."""

    id: int
    chat_id: int
    method: SendMethod
    payload: dict[str, Any]
    priority: int
    ref: str | None
    target_ref: str | None
    status: OutboxStatus
    attempts: int
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None
    message_id: int | None
    last_error: str | None
    fallback: OutgoingMessage | None = None
    attempted_at: datetime | None = None  # a send started whose outcome was never recorded
    # (chat_id, message_id) of the message `target_ref` names, when it was known as the row was
    # read (`due_outbox` reads it along); None: look it up.
    target: tuple[int, int] | None = None
    # What that message shows, read along with it (None: not known).
    shown: Shown | None = None
    # That message is still to be sent by a pending row (of another chat, as an alert's card):
    # read along with the row, so that a row linking to it waits for it.
    target_pending: bool = False
    # (chat_id, message_id) of the message the row's link (`LINK`) opens, when that was sent by
    # the time the row was read (None: look it up).
    link_target: tuple[int, int] | None = None


def message_to_dict(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "chat_id": message.chat_id,
        "method": message.method.value,
        "payload": message.payload,
        "priority": int(message.priority),
        "ref": message.ref,
        "target_ref": message.target_ref,
    }


def message_from_dict(data: dict[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(
        chat_id=int(data["chat_id"]),
        method=SendMethod(data["method"]),
        payload=dict(data["payload"]),
        priority=Priority(int(data["priority"])),
        ref=data.get("ref"),
        target_ref=data.get("target_ref"),
    )


def changes(message: OutgoingMessage, shown: Shown | None) -> bool:
    """Whether sending `message` (an edit) to a message that shows `shown` changes anything."""
    showing_now = showing(message.method.value, message.payload)
    return showing_now is None or showing_now.changes(shown)
