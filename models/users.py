"""People the bot has met."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language_code: str | None
    started_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        if name:
            return name
        if self.username:
            return f"@{self.username}"
        return f"#{self.id}"
