"""Broadcast alerts to group chats: what they say, how urgent, and to whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Urgency(StrEnum):
    INFO = "info"
    WARNING = "peringatan"
    EMERGENCY = "darurat"

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


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SENDING = "mengirim"
    SENT = "terkirim"
    CANCELLED = "dibatalkan"


TEXT_MAX = 3500  # leaves room for the heading and the urgency line in one message


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
