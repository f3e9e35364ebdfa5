"""A conversation as data: one person's multi-step exchange with the bot in their private chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Talk:
    """The conversation row: which flow, where it is, what it holds, the question it waits on."""

    user_id: int
    kind: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    language: str = "id"
    message_id: int | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
