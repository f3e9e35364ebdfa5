"""The guided report: a draft in SQLite that walks a reporter (or a dispatcher taking a 112 call)
through the fields, validates each answer, shows a review and only then submits.

The draft is a row per person (`drafts`), updated in one transaction per answer, so a restart in
the middle of a report loses nothing: the next answer continues where the person was. Each call
returns a `Prompt`, which the handler renders and sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.i18n import t
from bot.incidents import IncidentService, NewIncident, Submitted
from bot.messages import text_message
from bot.settings import Language, Settings
from bot.store import Draft, Store, Tx
from models.clock import Clock
from models.incident_types import IncidentType
from models.incidents import Hurt, Location, PhoneSource, Source
from models.report import (
    LocationCheck,
    Problem,
    ReportField,
    ReportLimit,
    ServiceArea,
    check_location,
    next_allowed,
    normalize_phone,
    parse_hurt_count,
    validate_address,
    validate_description,
)

MAX_PHOTOS = 5


class Mode(StrEnum):
    REPORT = "report"  # a resident or volunteer, in a private chat
    CALL = "call"  # a dispatcher entering a 112 phone call


class Step(StrEnum):
    TYPE = "type"
    LOCATION = "location"
    LOCATION_FAR = "location_far"  # confirm a location outside the service area
    DESCRIPTION = "description"
    HURT = "hurt"
    HURT_COUNT = "hurt_count"
    CONTACT = "contact"
    PHONE = "phone"  # the caller's number, typed by a dispatcher
    REVIEW = "review"


# The fields in order, per mode; each field's first step.
FIELDS: dict[Mode, list[ReportField]] = {
    Mode.REPORT: [
        ReportField.TYPE,
        ReportField.LOCATION,
        ReportField.DESCRIPTION,
        ReportField.HURT,
        ReportField.CONTACT,
    ],
    Mode.CALL: [
        ReportField.TYPE,
        ReportField.LOCATION,
        ReportField.DESCRIPTION,
        ReportField.CONTACT,
    ],
}
FIRST_STEP: dict[tuple[Mode, ReportField], Step] = {
    (Mode.REPORT, ReportField.TYPE): Step.TYPE,
    (Mode.REPORT, ReportField.LOCATION): Step.LOCATION,
    (Mode.REPORT, ReportField.DESCRIPTION): Step.DESCRIPTION,
    (Mode.REPORT, ReportField.HURT): Step.HURT,
    (Mode.REPORT, ReportField.CONTACT): Step.CONTACT,
    (Mode.CALL, ReportField.TYPE): Step.TYPE,
    (Mode.CALL, ReportField.LOCATION): Step.LOCATION,
    (Mode.CALL, ReportField.DESCRIPTION): Step.DESCRIPTION,
    (Mode.CALL, ReportField.CONTACT): Step.PHONE,
}
STEP_FIELD: dict[Step, ReportField] = {
    Step.TYPE: ReportField.TYPE,
    Step.LOCATION: ReportField.LOCATION,
    Step.LOCATION_FAR: ReportField.LOCATION,
    Step.DESCRIPTION: ReportField.DESCRIPTION,
    Step.HURT: ReportField.HURT,
    Step.HURT_COUNT: ReportField.HURT,
    Step.CONTACT: ReportField.CONTACT,
    Step.PHONE: ReportField.CONTACT,
}


class Notice(StrEnum):
    """Something to say before the prompt; values are message keys."""

    PHOTO_ADDED = "report.notice.photo_added"
    TOO_MANY_PHOTOS = "report.notice.too_many_photos"
    UNSUPPORTED_MEDIA = "report.notice.unsupported_media"
    NOT_EXPECTED = "report.notice.not_expected"
    LOCATION_INVALID = "report.notice.location_invalid"
    NOT_OWN_CONTACT = "report.notice.not_own_contact"
    DESCRIBE_FIRST = "report.notice.describe_first"
    RESUMED = "report.notice.resumed"


@dataclass(frozen=True, slots=True)
class Prompt:
    """What to tell the person now: an optional problem or notice, then the step's question."""

    step: Step | None  # None: the draft is gone (submitted, cancelled, expired, refused)
    mode: Mode
    data: dict[str, Any] = field(default_factory=dict)
    problem: Problem | None = None
    notice: Notice | None = None
    notice_params: dict[str, object] = field(default_factory=dict)
    submitted: Submitted | None = None
    cancelled: bool = False
    expired: bool = False
    limited_until: datetime | None = None  # the rate limit refused a new report until then
    already_running: bool = False
    stale: bool = False  # a press on a question the draft no longer waits on: nothing changed


# What a person can send into a draft.
@dataclass(frozen=True, slots=True)
class TypeChosen:
    kind: IncidentType


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    message_id: int | None = None  # the message it came in (kept when it carries a phone)


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float
    address: str | None = None  # a venue's title and address


@dataclass(frozen=True, slots=True)
class SharedContact:
    phone: str
    own: bool  # the contact is the sender's own
    message_id: int | None = None  # the message it came in


@dataclass(frozen=True, slots=True)
class Photo:
    file_id: str
    caption: str | None


@dataclass(frozen=True, slots=True)
class Button:
    """A press on one of the draft's inline buttons (everything but the type choice)."""

    action: str  # far_ok, far_again, photos_done, submit, cancel, edit, hurt
    value: int = 0


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A video, sticker, voice note, file… which a report cannot carry."""


Input = TypeChosen | Text | Point | SharedContact | Photo | Button | Unsupported

VENUE_MAX_CHARS = 300


def venue_text(title: str | None, address: str | None) -> str | None:
    """A venue's name and address as the report's address ("Pasar Besar, Jl. A. Yani"): control
    characters out, within the length of a typed address."""
    parts = [
        " ".join("".join(c for c in part if c.isprintable()).split())
        for part in (title or "", address or "")
    ]
    text = ", ".join(part for part in parts if part)
    if not text:
        return None
    return text if len(text) <= VENUE_MAX_CHARS else text[: VENUE_MAX_CHARS - 1] + "…"


class Reporting:
    def __init__(
        self, store: Store, clock: Clock, settings: Settings, incidents: IncidentService
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.incidents = incidents
        self.area = ServiceArea(
            settings.service_area_latitude,
            settings.service_area_longitude,
            settings.service_area_radius_km,
        )
        self.limit = ReportLimit(settings.report_limit_count, settings.report_limit_window_minutes)
        self.expiry = timedelta(minutes=settings.report_draft_expiry_minutes)

    async def start(self, user_id: int, mode: Mode, language: Language) -> Prompt:
        """Begin a report (or show the one in progress)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            draft = await self._live_draft(tx, user_id, now)
            if draft is not None:
                return self._prompt(draft, already_running=True)
            if mode is Mode.REPORT:
                until = next_allowed(
                    await tx.reports_since(user_id, now - self.limit.window), now, self.limit
                )
                if until is not None:
                    return Prompt(None, mode, limited_until=until)
            await tx.save_draft(user_id, mode.value, Step.TYPE.value, {}, language, now)
            draft = await tx.draft(user_id)
        assert draft is not None
        return self._prompt(draft)

    async def current(self, user_id: int) -> Prompt | None:
        """The open draft's question, or None when there is no draft."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            draft = await self._live_draft(tx, user_id, now)
        return None if draft is None else self._prompt(draft, notice=Notice.RESUMED)

    async def has_draft(self, user_id: int) -> bool:
        async with self.store.read() as tx:
            return await tx.draft(user_id) is not None

    async def cancel(self, user_id: int) -> bool:
        async with self.store.transaction() as tx:
            return await tx.delete_draft(user_id)

    async def bind_question(self, user_id: int, message_id: int) -> None:
        """The question just sent is the one the draft waits on: its buttons count, older
        questions' buttons no longer do."""
        async with self.store.single_write() as tx:
            await tx.bind_draft(user_id, message_id)

    async def answer(
        self, user_id: int, given: Input, *, pressed_on: int | None = None
    ) -> Prompt | None:
        """Apply one answer to the person's draft; None when they have no draft. `pressed_on`:
        the message a pressed button was on, which must be the question the draft waits on."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            draft = await tx.draft(user_id)
            if draft is None:
                return None
            if pressed_on is not None and pressed_on != draft.message_id:
                return self._prompt(draft, stale=True)
            if self._expired(draft, now):
                await tx.delete_draft(user_id)
                return Prompt(None, Mode(draft.mode), expired=True)
            mode, step, data = Mode(draft.mode), Step(draft.step), dict(draft.data)
            if isinstance(given, Button) and given.action == "cancel":
                await tx.delete_draft(user_id)
                return Prompt(None, mode, cancelled=True)
            phone_message = data.get("phone_message_id")
            outcome = self._apply(mode, step, data, given)
            if mode is Mode.REPORT and isinstance(given, Text | SharedContact):
                kept = outcome.data if isinstance(outcome, Prompt) else data
                message_id = kept.get("phone_message_id")
                if message_id is not None and message_id != phone_message:
                    # The person's own message carries their number: it goes if they ask the
                    # bot to forget them.
                    await tx.remember_personal_message(user_id, user_id, message_id)
            if isinstance(outcome, Prompt):
                if outcome.step is not None:
                    await tx.save_draft(
                        user_id,
                        mode.value,
                        outcome.step.value,
                        outcome.data,
                        draft.language,
                        now,
                    )
                return outcome
            # The review was submitted: the draft goes and the incident comes in one transaction,
            # so a crash cannot lose the report nor file it twice.
            if mode is Mode.REPORT:
                until = next_allowed(
                    await tx.reports_since(user_id, now - self.limit.window), now, self.limit
                )
                if until is not None:
                    return Prompt(step, mode, data, limited_until=until)
            await tx.delete_draft(user_id)
            submitted = await self.incidents.submit_in(tx, self._incident_from(mode, data, user_id))
            if mode is Mode.REPORT and data.get("phone") and data.get("own_phone"):
                await tx.set_phone(user_id, str(data["phone"]))
        return Prompt(None, mode, data, submitted=submitted)

    async def expire_stale(self) -> int:
        """Delete drafts untouched for too long and tell their owners; return how many."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            stale = await tx.stale_drafts(now - self.expiry)
            for draft in stale:
                await tx.delete_draft(draft.user_id)
                text = t(draft.language, "report.expired")
                message = text_message(draft.user_id, text)
                message.payload["reply_markup"] = {"remove_keyboard": True}
                await tx.enqueue(message, now)
        return len(stale)

    async def _live_draft(self, tx: Tx, user_id: int, now: datetime) -> Draft | None:
        draft = await tx.draft(user_id)
        if draft is not None and self._expired(draft, now):
            await tx.delete_draft(user_id)
            return None
        return draft

    def _expired(self, draft: Draft, now: datetime) -> bool:
        return now - draft.updated_at > self.expiry

    def _prompt(self, draft: Draft, **extra: Any) -> Prompt:
        return Prompt(Step(draft.step), Mode(draft.mode), dict(draft.data), **extra)

    # --- the steps ---

    def _apply(self, mode: Mode, step: Step, data: dict[str, Any], given: Input) -> Prompt | None:
        """The next prompt, or None when the review was submitted."""
        if isinstance(given, Button) and given.action == "edit":
            fields = FIELDS[mode]
            if not 0 <= given.value < len(fields) or step is not Step.REVIEW:
                return Prompt(step, mode, data, notice=Notice.NOT_EXPECTED)
            data["editing"] = True
            data.pop("described_in_captions", None)  # a new description replaces the old one
            return Prompt(FIRST_STEP[(mode, fields[given.value])], mode, data)
        if isinstance(given, Unsupported):
            return Prompt(step, mode, data, notice=Notice.UNSUPPORTED_MEDIA)
        handler = {
            Step.TYPE: self._type,
            Step.LOCATION: self._location,
            Step.LOCATION_FAR: self._location_far,
            Step.DESCRIPTION: self._description,
            Step.HURT: self._hurt,
            Step.HURT_COUNT: self._hurt_count,
            Step.CONTACT: self._contact,
            Step.PHONE: self._phone,
            Step.REVIEW: self._review,
        }[step]
        return handler(mode, data, given)

    def _after(self, mode: Mode, data: dict[str, Any], done: ReportField) -> Prompt:
        """The step after a completed field: the next field, or the review when editing."""
        fields = FIELDS[mode]
        if data.pop("editing", False):
            return Prompt(Step.REVIEW, mode, data)
        index = fields.index(done) + 1
        if index >= len(fields):
            return Prompt(Step.REVIEW, mode, data)
        return Prompt(FIRST_STEP[(mode, fields[index])], mode, data)

    def _type(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        if isinstance(given, TypeChosen):
            data["type"] = given.kind.value
            return self._after(mode, data, ReportField.TYPE)
        if isinstance(given, Text) and (kind := IncidentType.parse(given.text)) is not None:
            data["type"] = kind.value
            return self._after(mode, data, ReportField.TYPE)
        return Prompt(Step.TYPE, mode, data, notice=Notice.NOT_EXPECTED)

    def _location(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        if isinstance(given, Point):
            verdict = check_location(given.latitude, given.longitude, self.area)
            if verdict is LocationCheck.INVALID:
                return Prompt(Step.LOCATION, mode, data, notice=Notice.LOCATION_INVALID)
            data.update(latitude=given.latitude, longitude=given.longitude, address=given.address)
            if verdict is LocationCheck.FAR:
                return Prompt(Step.LOCATION_FAR, mode, data)
            return self._after(mode, data, ReportField.LOCATION)
        if isinstance(given, Text):
            address = validate_address(given.text)
            if isinstance(address, Problem):
                return Prompt(Step.LOCATION, mode, data, problem=address)
            data.update(latitude=None, longitude=None, address=address)
            return self._after(mode, data, ReportField.LOCATION)
        return Prompt(Step.LOCATION, mode, data, notice=Notice.NOT_EXPECTED)

    def _location_far(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        if isinstance(given, Button) and given.action == "far_ok":
            return self._after(mode, data, ReportField.LOCATION)
        if isinstance(given, Button) and given.action == "far_again":
            return Prompt(Step.LOCATION, mode, data)
        # A new location or address instead of an answer is fine too.
        return self._location(mode, data, given)

    def _description(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        photos: list[str] = list(data.get("photos", []))
        if isinstance(given, Photo):
            if mode is Mode.CALL:
                return Prompt(Step.DESCRIPTION, mode, data, notice=Notice.NOT_EXPECTED)
            if len(photos) >= MAX_PHOTOS:
                return Prompt(
                    Step.DESCRIPTION,
                    mode,
                    data,
                    notice=Notice.TOO_MANY_PHOTOS,
                    notice_params={"max": MAX_PHOTOS},
                )
            photos.append(given.file_id)
            data["photos"] = photos
            if given.caption:
                # Captions describe too: each one adds to what the reporter wrote, in order.
                described = validate_description(self._added(data, given.caption))
                if not isinstance(described, Problem):
                    data.update(description=described, described_in_captions=True)
            if "description" in data:
                return Prompt(Step.DESCRIPTION, mode, data)  # the question counts the photos
            return Prompt(
                Step.DESCRIPTION,
                mode,
                data,
                notice=Notice.PHOTO_ADDED,
                notice_params={"count": len(photos), "max": MAX_PHOTOS},
            )
        if isinstance(given, Button) and given.action == "photos_done":
            if "description" not in data:
                return Prompt(Step.DESCRIPTION, mode, data, notice=Notice.DESCRIBE_FIRST)
            return self._after(mode, data, ReportField.DESCRIPTION)
        if isinstance(given, Text):
            # A text after captioned photos is more of the same story, not a replacement.
            described = validate_description(self._added(data, given.text))
            if isinstance(described, Problem):
                return Prompt(Step.DESCRIPTION, mode, data, problem=described)
            data["description"] = described
            data.pop("described_in_captions", None)
            return self._after(mode, data, ReportField.DESCRIPTION)
        return Prompt(Step.DESCRIPTION, mode, data, notice=Notice.NOT_EXPECTED)

    @staticmethod
    def _added(data: dict[str, Any], text: str) -> str:
        """`text` after what the captions of this description already said."""
        if data.get("described_in_captions") and data.get("description"):
            return f"{data['description']}\n{text}"
        return text

    def _hurt(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        if isinstance(given, Button) and given.action == "hurt" and 0 <= given.value < len(Hurt):
            hurt = list(Hurt)[given.value]
            data["hurt"] = hurt.value
            data["hurt_count"] = None
            if hurt is Hurt.YES:
                return Prompt(Step.HURT_COUNT, mode, data)
            return self._after(mode, data, ReportField.HURT)
        return Prompt(Step.HURT, mode, data, notice=Notice.NOT_EXPECTED)

    def _hurt_count(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        if isinstance(given, Button) and given.action == "hurt_unknown":
            data["hurt_count"] = None
            return self._after(mode, data, ReportField.HURT)
        if isinstance(given, Text):
            count = parse_hurt_count(given.text)
            if isinstance(count, Problem):
                return Prompt(Step.HURT_COUNT, mode, data, problem=count)
            data["hurt_count"] = count
            return self._after(mode, data, ReportField.HURT)
        return Prompt(Step.HURT_COUNT, mode, data, notice=Notice.NOT_EXPECTED)

    def _contact(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        if isinstance(given, SharedContact):
            if not given.own:
                return Prompt(Step.CONTACT, mode, data, notice=Notice.NOT_OWN_CONTACT)
            phone = normalize_phone(given.phone)
            if isinstance(phone, Problem):
                return Prompt(Step.CONTACT, mode, data, problem=phone)
            data.update(
                phone=phone,
                phone_source=PhoneSource.CONTACT.value,
                own_phone=True,
                phone_message_id=given.message_id,
            )
            return self._after(mode, data, ReportField.CONTACT)
        if isinstance(given, Button) and given.action == "skip_contact":
            data.update(phone=None, phone_source=None, own_phone=False, phone_message_id=None)
            return self._after(mode, data, ReportField.CONTACT)
        if isinstance(given, Text):
            # A typed number may be anybody's: it is kept as given by the reporter, not as theirs.
            phone = normalize_phone(given.text)
            if isinstance(phone, Problem):
                return Prompt(Step.CONTACT, mode, data, problem=phone)
            data.update(
                phone=phone,
                phone_source=PhoneSource.TYPED.value,
                own_phone=False,
                phone_message_id=given.message_id,
            )
            return self._after(mode, data, ReportField.CONTACT)
        return Prompt(Step.CONTACT, mode, data, notice=Notice.NOT_EXPECTED)

    def _phone(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt:
        if isinstance(given, Button) and given.action == "skip_contact":
            data["phone"] = None
            return self._after(mode, data, ReportField.CONTACT)
        if isinstance(given, Text | SharedContact):
            phone = normalize_phone(given.text if isinstance(given, Text) else given.phone)
            if isinstance(phone, Problem):
                return Prompt(Step.PHONE, mode, data, problem=phone)
            data.update(phone=phone, phone_source=PhoneSource.CALL.value)
            return self._after(mode, data, ReportField.CONTACT)
        return Prompt(Step.PHONE, mode, data, notice=Notice.NOT_EXPECTED)

    def _review(self, mode: Mode, data: dict[str, Any], given: Input) -> Prompt | None:
        if isinstance(given, Button) and given.action == "submit":
            return None
        return Prompt(Step.REVIEW, mode, data, notice=Notice.NOT_EXPECTED)

    def _incident_from(self, mode: Mode, data: dict[str, Any], user_id: int) -> NewIncident:
        return NewIncident(
            kind=IncidentType(data["type"]),
            location=Location(data.get("latitude"), data.get("longitude"), data.get("address")),
            description=str(data["description"]),
            hurt=Hurt(data.get("hurt", Hurt.UNKNOWN.value)),
            hurt_count=data.get("hurt_count"),
            photos=list(data.get("photos", [])),
            phone=data.get("phone"),
            phone_source=PhoneSource(data["phone_source"]) if data.get("phone_source") else None,
            source=Source.REPORT if mode is Mode.REPORT else Source.CALL,
            reporter_id=user_id if mode is Mode.REPORT else None,
        )
