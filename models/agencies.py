"""Agencies, their chats, people's roles and membership: the organisation the bot serves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models.users import Person

AGENCY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,19}$")
AGENCY_NAME_MAX = 64
COORDINATORS_CODE = "koordinator"
COORDINATORS_ALIASES = frozenset({"koordinator", "coordinators", "coordinator", "korlap"})
OPERATORS_CODE = "operator"
OPERATORS_ALIASES = frozenset({"operator", "operators", "ops"})


class AgencyKind(StrEnum):
    AGENCY = "agency"
    COORDINATORS = "coordinators"  # the coordinators' group: receives escalations
    OPERATORS = "operators"  # the 112 room's feed: every incident's card


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "koordinator"
    DISPATCHER = "dispatcher"
    RESPONDER = "petugas"

    @property
    def english_code(self) -> str:
        return _ROLE_ENGLISH[self]

    @property
    def label_key(self) -> str:
        return f"role.{self.value}"

    @classmethod
    def parse(cls, text: str) -> Role | None:
        word = text.strip().lower()
        for role in cls:
            if word in (role.value, role.english_code):
                return role
        return None


_ROLE_ENGLISH = {
    Role.ADMIN: "admin",
    Role.COORDINATOR: "coordinator",
    Role.DISPATCHER: "dispatcher",
    Role.RESPONDER: "responder",
}


@dataclass(frozen=True, slots=True)
class Agency:
    id: int
    code: str
    name: str
    kind: AgencyKind
    chat_id: int
    thread_id: int | None
    active: bool
    reachable: bool
    registered_at: datetime

    @property
    def is_coordinators(self) -> bool:
        return self.kind is AgencyKind.COORDINATORS

    @property
    def is_operators(self) -> bool:
        return self.kind is AgencyKind.OPERATORS

    @property
    def is_agency(self) -> bool:
        """An agency that responds (not the coordinators' group or the operators' feed)."""
        return self.kind is AgencyKind.AGENCY


@dataclass(frozen=True, slots=True)
class Member:
    agency_id: int
    person: Person
    on_duty: bool
    duty_until: datetime | None

    @property
    def user_id(self) -> int:
        return self.person.id

    @property
    def display_name(self) -> str:
        return self.person.display_name


def valid_agency_code(code: str) -> bool:
    return bool(AGENCY_CODE.match(code))
