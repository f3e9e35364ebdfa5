"""Validating what a reporter or a dispatcher types: addresses, descriptions, counts, phones.

Every validator is a pure function that returns either the cleaned value or a `Problem`, whose
value is the message key the bot answers with. The catalogs must hold every one of them:

* ``report.problem.address_too_short`` — fewer than 3 words and fewer than 12 letters and digits
* ``report.problem.address_too_long`` — more than 300 characters
* ``report.problem.address_is_command`` — a command (``/…``) where an address was expected
* ``report.problem.description_too_short`` — fewer than 8 letters and digits
* ``report.problem.description_too_long`` — more than 3000 characters
* ``report.problem.hurt_count_unreadable`` — no number (or more than one) in the answer
* ``report.problem.hurt_count_out_of_range`` — a number, but not between 1 and 999
* ``report.problem.phone_invalid`` — not an Indonesian phone number
* ``report.problem.phone_not_indonesian`` — an international number of another country
* ``report.problem.call_missing_parts`` — a call line without type, location and description
* ``report.problem.call_too_many_parts`` — a call line with more than six ``|``-separated parts
* ``report.problem.call_unknown_type`` — a call line whose first part is no incident type
* ``report.problem.call_hurt_unreadable`` — a call line's people-hurt part is no count or answer
* ``report.problem.caller_name_length`` — a caller's name empty or longer than 64 characters

Minimums count only what a person can see and read: letters and digits (`visible_count`).
Spaces of every kind, zero-width and direction characters, combining marks on their own,
punctuation, symbols and emoji stay in the text but do not make it long enough. Maximums count
every character, since they protect storage and the card's length.

Also here: the service area and the check of a shared location, the fields of the guided report
(`ReportField`, whose order is part of the button schema) and the reporters' rate limit.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from models.incident_types import IncidentType
from models.incidents import Hurt


class ReportField(StrEnum):
    """The guided report's fields, in the order they are asked.

    The index of a field travels in the "edit field" buttons of the summary, so this order is
    part of the callback schema: append new fields at the end, never reorder or remove.
    """

    TYPE = "type"  # 0
    LOCATION = "location"  # 1
    DESCRIPTION = "description"  # 2
    HURT = "hurt"  # 3
    CONTACT = "contact"  # 4
    CALLER = "caller"  # 5: a 112 caller's name (dispatchers only)

    @property
    def position(self) -> int:
        """The index carried in buttons (`index` is taken by `str`)."""
        return REPORT_FIELDS.index(self)

    @property
    def label_key(self) -> str:
        return f"report.field.{self.value}"

    @classmethod
    def at(cls, position: int) -> ReportField | None:
        """The field at `position`, or None for a stale or forged button."""
        if 0 <= position < len(REPORT_FIELDS):
            return REPORT_FIELDS[position]
        return None


REPORT_FIELDS: tuple[ReportField, ...] = tuple(ReportField)


class Problem(StrEnum):
    """Why a typed answer was refused; the value is the message key of the reply."""

    ADDRESS_TOO_SHORT = "report.problem.address_too_short"
    ADDRESS_TOO_LONG = "report.problem.address_too_long"
    ADDRESS_IS_COMMAND = "report.problem.address_is_command"
    DESCRIPTION_TOO_SHORT = "report.problem.description_too_short"
    DESCRIPTION_TOO_LONG = "report.problem.description_too_long"
    HURT_COUNT_UNREADABLE = "report.problem.hurt_count_unreadable"
    HURT_COUNT_OUT_OF_RANGE = "report.problem.hurt_count_out_of_range"
    PHONE_INVALID = "report.problem.phone_invalid"
    PHONE_NOT_INDONESIAN = "report.problem.phone_not_indonesian"
    CALL_MISSING_PARTS = "report.problem.call_missing_parts"
    CALL_TOO_MANY_PARTS = "report.problem.call_too_many_parts"
    CALL_UNKNOWN_TYPE = "report.problem.call_unknown_type"
    CALL_HURT_UNREADABLE = "report.problem.call_hurt_unreadable"
    CALLER_NAME_LENGTH = "report.problem.caller_name_length"

    @property
    def field(self) -> ReportField | None:
        """The field the problem is about, so a reply can name the failing part of a call line.

        None for problems of the line as a whole.
        """
        return _PROBLEM_FIELD.get(self)


_PROBLEM_FIELD: dict[Problem, ReportField] = {
    Problem.ADDRESS_TOO_SHORT: ReportField.LOCATION,
    Problem.ADDRESS_TOO_LONG: ReportField.LOCATION,
    Problem.ADDRESS_IS_COMMAND: ReportField.LOCATION,
    Problem.DESCRIPTION_TOO_SHORT: ReportField.DESCRIPTION,
    Problem.DESCRIPTION_TOO_LONG: ReportField.DESCRIPTION,
    Problem.HURT_COUNT_UNREADABLE: ReportField.HURT,
    Problem.HURT_COUNT_OUT_OF_RANGE: ReportField.HURT,
    Problem.PHONE_INVALID: ReportField.CONTACT,
    Problem.PHONE_NOT_INDONESIAN: ReportField.CONTACT,
    Problem.CALL_UNKNOWN_TYPE: ReportField.TYPE,
    Problem.CALL_HURT_UNREADABLE: ReportField.HURT,
    Problem.CALLER_NAME_LENGTH: ReportField.CALLER,
}


# --- free text ---

# Line breaks other than "\n" (CR, vertical tab, form feed, NEL, the Unicode separators) count
# as "\n"; everything else of category Cc goes, tabs becoming spaces so words stay apart.
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{4,}")  # four newlines make three blank lines
# Characters that draw nothing and join or separate nothing at the start or end of a line:
# zero-width space, non-joiner and joiner, word joiner, byte order mark, soft hyphen, Mongolian
# vowel separator. Inside a line they stay (a joiner holds an emoji family together, a non-joiner
# shapes a Persian word). Direction marks and isolates stay even at the ends: a leading mark sets
# the direction of right-to-left text.
_EDGE_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"
_LINE_EDGES = " " + _EDGE_INVISIBLE
# Letters by their category that draw nothing: the Hangul fillers, a known way to send a
# message or name that looks blank.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def _keep(char: str) -> bool:
    # Lone surrogates cannot be encoded for the database or Telegram; format characters (Cf:
    # zero-width joiners of emoji, direction marks of RTL text) are kept.
    category = unicodedata.category(char)
    return char == "\n" or category not in ("Cc", "Cs")


def clean_text(text: str) -> str:
    """Text as stored: stripped, control characters dropped (newlines kept), runs of spaces
    collapsed, at most two blank lines in a row.

    Each line also loses the zero-width characters at its start and end (`_EDGE_INVISIBLE`),
    so a line of them alone counts as blank. Nothing inside a line is removed or changed but runs
    of spaces: emoji, combining marks, right-to-left text with its direction marks and HTML
    characters stay as typed (rendering escapes).
    """
    text = _LINE_BREAKS.sub("\n", text).replace("\t", " ")
    text = "".join(char for char in text if _keep(char))
    lines = (_HORIZONTAL_SPACE.sub(" ", line).strip(_LINE_EDGES) for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n\n", "\n".join(lines)).strip()


def is_visible(char: str) -> bool:
    """Whether a character is one a reader sees and reads: a letter or a digit (L*, N*)."""
    return unicodedata.category(char)[0] in "LN" and char not in _BLANK_LETTERS


def visible_count(text: str) -> int:
    """How many letters and digits `text` has: what the minimum lengths count.

    Spaces, zero-width and direction characters, combining marks (an accented letter counts once,
    for its letter), punctuation, symbols and emoji are not counted.
    """
    return sum(1 for char in text if is_visible(char))


ADDRESS_MIN_WORDS = 3
ADDRESS_MIN_VISIBLE = 12  # letters and digits, enough for one long name ("BundaranBesar")
ADDRESS_MAX_CHARS = 300
DESCRIPTION_MIN_VISIBLE = 8  # letters and digits
DESCRIPTION_MAX_CHARS = 3000  # so /kejadian can show it whole; the card shows a shortened copy


def validate_address(text: str) -> str | Problem:
    """A typed address or landmark a crew can find: "depan Pasar Besar" is one, "sini" is not.

    Enough is three words with a letter or digit each ("Jl. Rajawali 7"), or one or two words of
    at least 12 letters and digits together. Returns the text as `clean_text` stores it.
    """
    address = clean_text(text)
    if address.startswith("/"):
        # A command typed mid-conversation: "/batal" as an address helps no one.
        return Problem.ADDRESS_IS_COMMAND
    # Only words with a letter or digit count, so ". . ." or a row of emoji is no address. Too
    # short comes first: 400 zero-width spaces are no address, not a long one.
    words = [word for word in address.split() if any(is_visible(char) for char in word)]
    if len(words) < ADDRESS_MIN_WORDS and visible_count(address) < ADDRESS_MIN_VISIBLE:
        return Problem.ADDRESS_TOO_SHORT
    if len(address) > ADDRESS_MAX_CHARS:
        return Problem.ADDRESS_TOO_LONG
    return address


def validate_description(text: str) -> str | Problem:
    """What is happening, in the reporter's words; kept whole even when the card shortens it.

    At least 8 letters and digits ("Car crash"); twelve zero-width spaces, a row of dots or of
    emoji are too short. Returns the text as `clean_text` stores it.
    """
    description = clean_text(text)
    if visible_count(description) < DESCRIPTION_MIN_VISIBLE:
        return Problem.DESCRIPTION_TOO_SHORT
    if len(description) > DESCRIPTION_MAX_CHARS:
        return Problem.DESCRIPTION_TOO_LONG
    return description


# --- where ---


@dataclass(frozen=True, slots=True)
class ServiceArea:
    """A circle around the city: shared locations outside it are probably a mistake."""

    center_lat: float
    center_lon: float
    radius_km: float


PALANGKA_RAYA = ServiceArea(-2.2136, 113.9108, 60.0)
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


class LocationCheck(StrEnum):
    INSIDE = "inside"
    FAR = "far"  # a real place, but outside the service area: ask the reporter to confirm
    INVALID = "invalid"  # not a place on Earth, or a broken GPS fix


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the haversine formula."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    # Rounding can push `a` a hair past 1 for antipodal points; asin would then raise.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def check_location(lat: float, lon: float, area: ServiceArea = PALANGKA_RAYA) -> LocationCheck:
    """Whether a shared point can be used as it is."""
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return LocationCheck.INVALID
    if lat == 0 and lon == 0:
        return LocationCheck.INVALID  # "null island": what broken GPS stacks send
    if distance_km(area.center_lat, area.center_lon, lat, lon) > area.radius_km:
        return LocationCheck.FAR
    return LocationCheck.INSIDE


# --- how many hurt ---

HURT_COUNT_MAX = 999
_NUMBER_WORDS: dict[str, int] = {
    "nol": 0,
    "satu": 1,
    "seorang": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")


def _numbers_in(tokens: Iterable[str]) -> list[int]:
    numbers: list[int] = []
    for token in tokens:
        if token.isascii() and token.isdigit():
            # Long runs of digits are out of range anyway; int() of thousands of digits raises.
            digits = token.lstrip("0") or "0"
            numbers.append(int(digits) if len(digits) <= 4 else HURT_COUNT_MAX + 1)
        elif token in _NUMBER_WORDS:
            numbers.append(_NUMBER_WORDS[token])
    return numbers


def parse_hurt_count(text: str) -> int | Problem:
    """How many people are hurt, from "3", "3 orang", "tiga orang" or "about 3 people"."""
    numbers = _numbers_in(_TOKEN.findall(clean_text(text).lower()))
    if len(numbers) != 1:
        # None, or "2 atau 3": ask again rather than guess.
        return Problem.HURT_COUNT_UNREADABLE
    count = numbers[0]
    if not 1 <= count <= HURT_COUNT_MAX:
        return Problem.HURT_COUNT_OUT_OF_RANGE
    return count


# --- phone ---

_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]")
_PHONE_CHARS = re.compile(r"\+?[0-9]+", re.ASCII)
_SUBSCRIBER = re.compile(r"[1-9][0-9]{7,12}", re.ASCII)  # 8–13 digits after +62
_COUNTRY = "62"


def normalize_phone(text: str) -> str | Problem:
    """An Indonesian phone number in E.164: "0812-3456-7890" → "+6281234567890".

    Accepts the national form with its leading 0 (mobiles and landlines with area code),
    "+62…", "0062…", and "62…" as a shared Telegram contact carries it.
    """
    compact = _PHONE_SEPARATORS.sub("", clean_text(text))
    if len(compact) > 24 or not _PHONE_CHARS.fullmatch(compact):
        return Problem.PHONE_INVALID
    if compact.startswith("+") or compact.startswith("00"):
        international = compact.removeprefix("+") if compact[0] == "+" else compact[2:]
        if not international.startswith(_COUNTRY):
            return Problem.PHONE_NOT_INDONESIAN
        # "+62 (0)812…": the national 0 written after the country code is dropped.
        subscriber = international.removeprefix(_COUNTRY).removeprefix("0")
    elif compact.startswith("0"):
        subscriber = compact[1:]
    elif compact.startswith(_COUNTRY):
        subscriber = compact.removeprefix(_COUNTRY).removeprefix("0")
    else:
        return Problem.PHONE_INVALID
    if not _SUBSCRIBER.fullmatch(subscriber):
        return Problem.PHONE_INVALID
    return f"+{_COUNTRY}{subscriber}"


# --- a dispatcher's call line ---


@dataclass(frozen=True, slots=True)
class CallLine:
    """A 112 call as a dispatcher entered it:
    `type | location | description | phone | caller's name | people hurt`."""

    type: IncidentType
    address: str
    description: str
    phone: str | None
    caller_name: str | None = None
    hurt: Hurt = Hurt.UNKNOWN
    hurt_count: int | None = None


def _shows_something(text: str) -> bool:
    """Whether `text` has a character that draws anything: not only spaces and format characters.

    Punctuation counts here ("…" is a part, if a poor one: its validator says what is wrong).
    """
    return any(
        not char.isspace() and unicodedata.category(char) != "Cf" and char not in _BLANK_LETTERS
        for char in text
    )


def parse_call_line(text: str) -> CallLine | Problem:
    """The text after the command, every part validated.

    Returns the first failing part's Problem; its `field` names the part. A part with nothing
    to see (spaces, zero-width or direction characters only) is a missing part.
    """
    parts = [clean_text(part) for part in text.split("|")]
    if len(parts) > 6:
        return Problem.CALL_TOO_MANY_PARTS
    if len(parts) < 3 or not all(_shows_something(part) for part in parts[:3]):
        return Problem.CALL_MISSING_PARTS
    kind = IncidentType.parse(parts[0])
    if kind is None:
        return Problem.CALL_UNKNOWN_TYPE
    address = validate_address(parts[1])
    if isinstance(address, Problem):
        return address
    description = validate_description(parts[2])
    if isinstance(description, Problem):
        return description
    phone: str | None = None
    if len(parts) >= 4 and _shows_something(parts[3]):  # an empty part: no phone
        checked = normalize_phone(parts[3])
        if isinstance(checked, Problem):
            return checked
        phone = checked
    name: str | None = None
    if len(parts) >= 5 and _shows_something(parts[4]):
        named = validate_caller_name(parts[4])
        if isinstance(named, Problem):
            return named
        name = named
    hurt, count = Hurt.UNKNOWN, None
    if len(parts) == 6 and _shows_something(parts[5]):
        said = parse_hurt(parts[5])
        if isinstance(said, Problem):
            return said
        hurt, count = said
    return CallLine(kind, address, description, phone, name, hurt, count)


CALLER_NAME_MAX = 64
_NONE = frozenset({"tidak", "tidak ada", "nihil", "no", "none", "0"})
_YES = frozenset({"ada", "ya", "yes"})
_UNKNOWN = frozenset({"tidak tahu", "belum tahu", "?", "unknown", "don't know"})


def validate_caller_name(text: str) -> str | Problem:
    """A caller's name as the dispatcher typed it: 1 to 64 characters one can see."""
    name = " ".join(clean_text(text).split())
    if not _shows_something(name) or len(name) > CALLER_NAME_MAX:
        return Problem.CALLER_NAME_LENGTH
    return name


def parse_hurt(text: str) -> tuple[Hurt, int | None] | Problem:
    """People hurt as a dispatcher writes it: "tidak", "ada", "tidak tahu", or how many."""
    said = " ".join(clean_text(text).lower().split())
    if said in _NONE:
        return Hurt.NONE, None
    if said in _YES:
        return Hurt.YES, None
    if said in _UNKNOWN:
        return Hurt.UNKNOWN, None
    count = parse_hurt_count(said)
    if isinstance(count, Problem):
        return Problem.CALL_HURT_UNREADABLE
    return Hurt.YES, count


# --- how often a reporter may report ---


@dataclass(frozen=True, slots=True)
class ReportLimit:
    """At most `max_reports` reports by one reporter in any `window_minutes`."""

    max_reports: int = 3
    window_minutes: int = 10

    def __post_init__(self) -> None:
        if self.max_reports < 1 or self.window_minutes < 1:
            raise ValueError("a report limit needs at least one report in at least one minute")

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


DEFAULT_REPORT_LIMIT = ReportLimit()


def next_allowed(
    submitted_at: list[datetime], now: datetime, limit: ReportLimit = DEFAULT_REPORT_LIMIT
) -> datetime | None:
    """None when the reporter may submit now, otherwise when they may.

    With exactly `max_reports` reports in the window, that is when the oldest leaves it.
    """
    # A report at t is in the window while now < t + window.
    recent = sorted(at for at in submitted_at if at > now - limit.window)
    if len(recent) < limit.max_reports:
        return None
    # More than the limit can be in the window (the limit was lowered): wait until one fewer
    # than the limit is left in it.
    return recent[len(recent) - limit.max_reports] + limit.window


# --- the guided report as a conversation: its steps, and what a turn tells the person ---


@dataclass(frozen=True, slots=True)
class Submitted:
    """A report (or a 112 call) filed as an incident."""

    incident_id: int
    agency_names: list[str]
    fallback: bool  # no agency registered for the type: dispatchers and coordinators got it
    similar_to: int | None = None  # an open incident it may repeat (duplicate detection)


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
    CALLER_NAME = "caller_name"  # the caller's name, typed by a dispatcher
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
    # Appended, never reordered: a field's index travels in the review's edit buttons.
    Mode.CALL: [
        ReportField.TYPE,
        ReportField.LOCATION,
        ReportField.DESCRIPTION,
        ReportField.CONTACT,
        ReportField.HURT,
        ReportField.CALLER,
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
    (Mode.CALL, ReportField.HURT): Step.HURT,
    (Mode.CALL, ReportField.CALLER): Step.CALLER_NAME,
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
    Step.CALLER_NAME: ReportField.CALLER,
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
    submitted: Submitted | None = None  # the incident it became
    cancelled: bool = False
    expired: bool = False
    limited_until: datetime | None = None  # the rate limit refused a new report until then
    already_running: bool = False
    stale: bool = False  # a press on a question the draft no longer waits on: nothing changed


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
