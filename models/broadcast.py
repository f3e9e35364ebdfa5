"""Broadcast alerts to group chats: what they say, how urgent, to whom, and how they went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Urgency(StrEnum):
    INFO = "info"
    WARNING = "peringatan"
    EMERGENCY = "darurat"  # re-sent once to every chat that does not confirm it in time

    @property
    def emoji(self) -> str:
        return {"info": "ℹ️", "peringatan": "⚠️", "darurat": "🚨"}[self.value]

    @property
    def label_key(self) -> str:
        return f"broadcast.urgency.{self.value}"


class TargetKind(StrEnum):
    GROUPS = "grup"  # every registered agency group (and the coordinators' group)
    AGENCIES = "instansi"  # chosen agencies' groups
    ON_DUTY = "siaga"  # on-duty responders, in private
    EVERYONE = "semua"  # every person who started the bot, and every agency group

    @property
    def label_key(self) -> str:
        return f"broadcast.target.{self.value}"


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SENDING = "mengirim"
    SENT = "terkirim"  # nothing left pending: every copy was sent or failed
    CANCELLED = "dibatalkan"

    @property
    def label_key(self) -> str:
        return f"broadcast.status.{self.value}"


class Step(StrEnum):
    """The question a broadcast draft is waiting on."""

    TEXT = "text"
    URGENCY = "urgency"
    TARGETS = "targets"
    AGENCIES = "agencies"  # the multi-select of agencies
    PREVIEW = "preview"


class TextProblem(StrEnum):
    EMPTY = "broadcast.problem.empty"
    TOO_LONG = "broadcast.problem.too_long"


class DeliveryState(StrEnum):
    """Where one chat's copy is, read from its outbox row."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "parked"
    DROPPED = "dropped"  # the broadcast was cancelled before it went


class Receipt(StrEnum):
    """What a press of Received did."""

    CONFIRMED = "broadcast.received.thanks"
    ALREADY = "broadcast.received.already"
    CANCELLED = "broadcast.received.cancelled"
    PREVIEW = "broadcast.received.preview"
    NOT_HERE = "broadcast.received.not_here"  # this chat was never sent the broadcast


TEXT_MAX = 3500  # leaves room for the heading, the signature and who confirmed in one message


def check_text(text: str) -> TextProblem | None:
    """Whether the alert text can go out: not blank, not longer than one message allows.

    Length as Telegram counts it (UTF-16 units: an emoji counts two), so a text of emoji that
    fits here fits the message too.
    """
    stripped = text.strip()
    if not stripped:
        return TextProblem.EMPTY
    if sum(2 if ord(char) > 0xFFFF else 1 for char in stripped) > TEXT_MAX:
        return TextProblem.TOO_LONG
    return None


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    sender_id: int
    sender_name: str
    text: str
    urgency: Urgency
    target_kind: TargetKind | None
    agency_ids: tuple[int, ...]
    latitude: float | None
    longitude: float | None
    status: BroadcastStatus
    created_at: datetime
    sent_at: datetime | None
    cancelled_at: datetime | None
    step: Step | None = None
    photo_file_id: str | None = None
    language: str = "id"
    finished_at: datetime | None = None

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One chat a broadcast went to, how its copy fared, and who there confirmed it."""

    chat_id: int
    label: str
    agency_id: int | None
    user_id: int | None
    state: DeliveryState
    error: str | None
    confirmed_by: tuple[str, ...] = field(default_factory=tuple)
    resent: bool = False

    @property
    def confirmed(self) -> bool:
        return bool(self.confirmed_by)


@dataclass(frozen=True, slots=True)
class Counts:
    """What the sender's status message shows."""

    total: int
    sent: int
    pending: int
    failed: int
    dropped: int
    confirmed: int
