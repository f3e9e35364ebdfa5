"""The HTTP API's requests and its event subscriptions, as data.

The pydantic models here validate what other systems send (`bot.web.api`) and are the source of
the OpenAPI document, so the two never disagree. Text is checked by the same rules as a report
typed in Telegram (`models.report`)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.incident_types import IncidentType
from models.incidents import EventKind, Hurt, Severity
from models.info import INFO_TEXT_MAX
from models.report import (
    DESCRIPTION_MAX_CHARS,
    HURT_COUNT_MAX,
    LocationCheck,
    Problem,
    ServiceArea,
    check_location,
    clean_text,
    normalize_phone,
    validate_address,
    validate_caller_name,
    validate_description,
    visible_count,
)

EXTERNAL_ID_MAX = 100
NOTE_MAX = INFO_TEXT_MAX  # as a note typed in Telegram
KEY_PREFIX = "s112_"  # keys are recognisable in a config file or a leaked log


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"  # reads too


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    PARKED = "parked"  # a day of failure: listed by `subscription log`, sent again on request
    DROPPED = "dropped"  # its subscription was removed before it went


class EventName(StrEnum):
    """What a subscription may ask to be told about."""

    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    MERGED = "merged"


# Timeline events and the subscription event each one is.
SUBSCRIBED: dict[str, EventName] = {
    EventKind.REPORTED.value: EventName.CREATED,
    EventKind.ACKNOWLEDGED.value: EventName.ACKNOWLEDGED,
    EventKind.ACKNOWLEDGED_ON_BEHALF.value: EventName.ACKNOWLEDGED,
    EventKind.ASSIGNED.value: EventName.ASSIGNED,
    EventKind.TOOK_TASK.value: EventName.ASSIGNED,
    EventKind.RESOLVED.value: EventName.RESOLVED,
    EventKind.CANCELLED.value: EventName.CANCELLED,
    EventKind.MERGED.value: EventName.MERGED,
}


def parse_events(text: str) -> list[EventName] | None:
    """ "created,acknowledged" → the events; None when one is not known or none is given."""
    names = [word.strip().lower() for word in text.split(",") if word.strip()]
    if not names or any(name not in EventName._value2member_map_ for name in names):
        return None
    return list(dict.fromkeys(EventName(name) for name in names))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`X-Siaga112-Signature`: HMAC-SHA256 of "timestamp.body" under the subscription's
    secret, hex, prefixed "sha256="."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# --- requests ---


def _checked(value: str | Problem, what: str) -> str:
    if isinstance(value, Problem):
        raise ValueError(f"{what}: {value.name.lower()}")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocationIn(Strict):
    """A point, an address or landmark, or both (at least one)."""

    lat: Annotated[float, Field(ge=-90, le=90, description="latitude, WGS 84")] | None = None
    lon: Annotated[float, Field(ge=-180, le=180, description="longitude, WGS 84")] | None = None
    address: str | None = Field(
        default=None, max_length=300, description="address or landmark a crew can find"
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else _checked(validate_address(value), "address")

    @model_validator(mode="after")
    def _somewhere(self) -> LocationIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together")
        if self.lat is None and self.address is None:
            raise ValueError("a point (lat, lon), an address, or both")
        point = self.lat is not None and self.lon is not None
        if point and check_location(self.lat or 0, self.lon or 0, _AREA) is LocationCheck.INVALID:
            raise ValueError("not a place on Earth (0, 0 is a broken GPS fix)")
        return self


class CallerIn(Strict):
    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=24, description="Indonesian number")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _checked(validate_caller_name(value), "name")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else _checked(normalize_phone(value), "phone")


class HurtIn(StrEnum):
    NONE = "none"
    YES = "yes"
    UNKNOWN = "unknown"

    @property
    def hurt(self) -> Hurt:
        return {"none": Hurt.NONE, "yes": Hurt.YES, "unknown": Hurt.UNKNOWN}[self.value]


class SeverityIn(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def severity(self) -> Severity:
        return {
            "critical": Severity.CRITICAL,
            "high": Severity.HIGH,
            "medium": Severity.MEDIUM,
            "low": Severity.LOW,
        }[self.value]


class IncidentIn(Strict):
    """A 112 call as the call-centre software sends it."""

    type: IncidentType = Field(description="the type's code, e.g. kebakaran, medis, banjir")
    location: LocationIn
    description: str = Field(max_length=DESCRIPTION_MAX_CHARS)
    hurt: HurtIn = HurtIn.UNKNOWN
    hurt_count: int | None = Field(default=None, ge=0, le=HURT_COUNT_MAX)
    caller: CallerIn = Field(default_factory=CallerIn)
    severity: SeverityIn | None = Field(
        default=None, description="when left out, from the type and the people hurt"
    )
    external_id: str = Field(
        min_length=1,
        max_length=EXTERNAL_ID_MAX,
        description="the call-centre's own id: the same id again returns the same incident",
    )

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        # Indonesian and English codes, as /baru takes them.
        if isinstance(value, str):
            kind = IncidentType.parse(value)
            if kind is None:
                codes = ", ".join(k.value for k in IncidentType)
                raise ValueError(f"unknown type; one of {codes}")
            return kind
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _checked(validate_description(value), "description")

    @model_validator(mode="after")
    def _count(self) -> IncidentIn:
        if self.hurt_count and self.hurt is not HurtIn.YES:
            raise ValueError("hurt_count needs hurt: yes")
        return self


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=NOTE_MAX)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        text = clean_text(value)
        if visible_count(text) < 1:
            raise ValueError("text: nothing one can read")
        return text


def field_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """pydantic's errors as `{"field": "location.lat", "message": …}`, one per problem."""
    found = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        found.append({"field": where or "body", "message": message})
    return found


# What is no place at all is refused; how far from the city a call may be is not the API's
# business (a call centre may log a crash on the highway out of town).
_AREA = ServiceArea(0.0, 0.0, 40_000.0)


# --- answers (documented by the same OpenAPI document) ---


class PointOut(BaseModel):
    lat: float | None
    lon: float | None
    address: str | None


class AgencyOut(BaseModel):
    code: str
    name: str
    state: str = Field(description="menunggu, diterima, berangkat, di_lokasi or selesai")
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    since: datetime = Field(description="when it entered this state")


class EventOut(BaseModel):
    kind: str
    at: datetime
    agency: str | None
    actor: str | None


class CallerOut(BaseModel):
    name: str | None
    phone: str | None


class IncidentOut(BaseModel):
    number: int
    type: str
    severity: str
    status: str = Field(description="the incident's state as its card shows it")
    lifecycle: str = Field(description="terbuka, selesai, dibatalkan or digabung")
    source: str
    reported_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    location: PointOut
    description: str
    hurt: str
    hurt_count: int | None
    merged_into: int | None
    agencies: list[AgencyOut]
    external_id: str | None = Field(default=None, description="yours, on incidents this key filed")
    caller: CallerOut | None = Field(
        default=None, description="on incidents this key filed only (personal data)"
    )
    timeline: list[EventOut] | None = None


class FiledOut(BaseModel):
    number: int
    status: str
    lifecycle: str
    created: bool = Field(description="false: this external_id was filed before")


class PageOut(BaseModel):
    incidents: list[IncidentOut]
    next_after: int | None = Field(description="pass as ?after= for the next page; null: no more")


class NoteOut(BaseModel):
    number: int
    note: str


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    error: str
    message: str
    errors: list[FieldError] | None = None
