"""People the bot has met."""

from __future__ import annotations

import hashlib
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
    phone: str | None = None
    forgotten_at: datetime | None = None

    @property
    def display_name(self) -> str:
        if self.first_name is None and self.username is None and self.forgotten_at is not None:
            return anonymous_label(self.id)
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        if name:
            return name
        if self.username:
            return f"@{self.username}"
        return anonymous_label(self.id)


def anonymous_label(user_id: int) -> str:
    """A stable label for a person whose data was erased, that does not reveal their id."""
    digest = hashlib.blake2s(str(user_id).encode(), digest_size=3).hexdigest()
    return f"anon-{digest}"
