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
        return display_name(self.id, self.first_name, self.last_name, self.username)


def display_name(
    user_id: int, first_name: str | None, last_name: str | None, username: str | None
) -> str:
    """How a person is named to others; an anonymous label once their data was erased."""
    name = " ".join(part for part in (first_name, last_name) if part)
    if name:
        return name
    if username:
        return f"@{username}"
    return anonymous_label(user_id)


def naming_words(person: Person) -> set[str]:
    """The words that name a person wherever they may have been written: first and last name,
    the full name, the username with and without "@", and the phone they shared."""
    full = " ".join(part for part in (person.first_name, person.last_name) if part)
    words = {person.first_name, person.last_name, full, person.username, person.phone}
    if person.username:
        words.add("@" + person.username)
    return {word for word in words if word}


def anonymous_label(user_id: int) -> str:
    """A stable label for a person whose data was erased, that does not reveal their id."""
    digest = hashlib.blake2s(str(user_id).encode(), digest_size=3).hexdigest()
    return f"anon-{digest}"
