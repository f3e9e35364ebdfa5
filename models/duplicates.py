"""Duplicate reports: whether a new report may be the same event as an open incident.

Pure: the service reads the open incidents reported within the window (of the same or a
related type, `related_types`), and `best_match` says which one, if any, the new report most
likely repeats. Locations come three ways, and each pair is compared by what both sides have:

* both pins: the distance between them, within `DuplicatePolicy.distance_m`;
* both typed addresses or landmarks: a fuzzy comparison of the texts after Indonesian street
  words are normalised ("Jl."/"jln" → jalan, "gg" → gang, "dkt" → dekat, …) and the words that
  name no place in particular ("jalan", "dekat", "rumah", …) left out; two texts that both
  give numbers (a gang, a house, an RT) and share none are different places;
* a pin on one side and only text on the other: the text against the pin's venue name and
  address when the pin came as a venue; a bare pin has no words to compare (no geocoder).

A match is a hint for people, never an action: the new report is filed as always.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz

from models.incident_types import IncidentType, related_types
from models.incidents import Basis, Hint, Location

__all__ = ["Basis", "DuplicatePolicy", "Hint", "HintState", "Match", "Report", "best_match"]
from models.report import distance_km


class HintState(StrEnum):
    OPEN = "open"  # shown on both cards, with the dispatchers' two buttons
    MERGED = "merged"
    DISMISSED = "dismissed"  # a dispatcher said it is not a duplicate


@dataclass(frozen=True, slots=True)
class DuplicatePolicy:
    window: timedelta = timedelta(minutes=60)
    distance_m: float = 500.0
    text_threshold: float = 82.0  # 0–100: how alike two texts must be


@dataclass(frozen=True, slots=True)
class Report:
    """What comparing needs of a report: its number, type, place and time."""

    id: int
    type: IncidentType
    location: Location
    at: datetime


@dataclass(frozen=True, slots=True)
class Match:
    of_id: int  # the earlier incident the report may repeat
    basis: Basis
    score: float  # 0–1: higher is more alike (the best candidate wins)
    distance_m: int | None  # by pins
    minutes: int  # how long after the earlier one the report came


# Abbreviations and spellings of street words as people type them, to one form.
_WORDS = {
    "jl": "jalan",
    "jln": "jalan",
    "jalan": "jalan",
    "gg": "gang",
    "gng": "gang",
    "dkt": "dekat",
    "dkat": "dekat",
    "dpn": "depan",
    "dpan": "depan",
    "blkg": "belakang",
    "blk": "belakang",
    "sblh": "sebelah",
    "sbl": "sebelah",
    "smpg": "samping",
    "sbrg": "seberang",
    "psr": "pasar",
    "msjd": "masjid",
    "mesjid": "masjid",
    "mushola": "musala",
    "musholla": "musala",
    "kel": "kelurahan",
    "kec": "kecamatan",
    "komp": "kompleks",
    "komplek": "kompleks",
    "perum": "perumahan",
    "no": "nomor",
    "nmr": "nomor",
    "sd": "sd",
    "sdn": "sd",
    "smpn": "smp",
    "sman": "sma",
    "pky": "palangka",
    "ry": "raya",
    "bdr": "bundaran",
    "jemb": "jembatan",
    "kntr": "kantor",
    "tdk": "tidak",
    "yg": "yang",
}

# Words that say where relative to something, or name no place in particular: left out.
_NO_PLACE = frozenset(
    {
        "jalan",
        "gang",
        "dekat",
        "depan",
        "belakang",
        "sebelah",
        "samping",
        "seberang",
        "sekitar",
        "arah",
        "ujung",
        "masuk",
        "di",
        "ke",
        "dari",
        "dan",
        "yang",
        "itu",
        "ini",
        "ada",
        "rumah",
        "nomor",
        "rt",
        "rw",
        "kota",
        "palangka",
        "raya",
        "kelurahan",
        "kecamatan",
        "lorong",
        "tidak",
        "jauh",
        "persis",
        "pas",
        "sana",
        "sini",
    }
)
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
# Words a number belongs to rather than a house: "km 12", "SD 3", "RT 04".
_NUMBERED = frozenset({"km", "sd", "smp", "sma", "smk", "rt", "rw", "blok", "kav", "lantai"})
_SAME_WORD = 80  # two words this alike (0–100) are the same word misspelt


@dataclass(frozen=True, slots=True)
class Place:
    """A typed place as compared: the words that name it, and its numbers by what they count
    (``gang``, ``house``, or the word they follow: ``km``, ``sd``, ``rt``…)."""

    words: tuple[str, ...]
    numbers: frozenset[tuple[str, str]]


@lru_cache(maxsize=4096)  # the open incidents' places are read again for every new report
def place_of(text: str) -> Place:
    """The words of a typed place that name it (normalised), and its numbers."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    tokens = [_WORDS.get(token, token) for token in _TOKEN.findall(plain)]
    words: list[str] = []
    numbers: set[tuple[str, str]] = set()
    for index, token in enumerate(tokens):
        if token.isdigit():
            before = tokens[index - 1] if index else ""
            if before in _NUMBERED:
                counts = before
            elif "gang" in tokens[max(0, index - 3) : index]:
                counts = "gang"
            else:
                counts = "house"
            numbers.add((counts, token.lstrip("0") or "0"))
        elif token not in _NO_PLACE:
            words.append(token)
    return Place(tuple(words), frozenset(numbers))


def _numbers_differ(a: Place, b: Place) -> bool:
    """Both give a number of the same thing (a gang, a house, a km) and they differ."""
    kinds = {kind for kind, _ in a.numbers} & {kind for kind, _ in b.numbers}
    return any(
        {n for k, n in a.numbers if k == kind}.isdisjoint({n for k, n in b.numbers if k == kind})
        for kind in kinds
    )


def _within(shorter: tuple[str, ...], longer: tuple[str, ...]) -> float:
    """How much of the shorter place's words the longer one has, misspellings forgiven
    (0–100, weighted by word length)."""
    total = sum(len(word) for word in shorter)
    found = 0.0
    for word in shorter:
        best = max(fuzz.ratio(word, other) for other in longer)
        if best >= _SAME_WORD:
            found += len(word) * best / 100
    return 100 * found / total


def text_likeness(a: str, b: str) -> float:
    """How alike two typed places are, 0–100: 0 when they give different numbers of the same
    thing (gang 3 and gang 7 of one street are different places)."""
    first, second = place_of(a), place_of(b)
    if not first.words or not second.words or _numbers_differ(first, second):
        return 0.0
    shorter, longer = sorted((first.words, second.words), key=len)
    return max(
        float(fuzz.token_set_ratio(" ".join(first.words), " ".join(second.words))),
        _within(shorter, longer),
    )


def compare(new: Report, old: Report, policy: DuplicatePolicy) -> Match | None:
    """Whether `new` may repeat `old` (reported earlier, still open), by what both give."""
    if new.id == old.id or old.type not in related_types(new.type):
        return None
    gap = new.at - old.at
    if gap < timedelta(0) or gap > policy.window:
        return None
    minutes = int(gap.total_seconds() // 60)
    a, b = new.location, old.location
    if a.has_point and b.has_point:
        assert a.latitude is not None and a.longitude is not None
        assert b.latitude is not None and b.longitude is not None
        meters = distance_km(a.latitude, a.longitude, b.latitude, b.longitude) * 1000
        if meters > policy.distance_m:
            return None
        score = 1 - meters / (2 * policy.distance_m)  # 1 at the same spot, 0.5 at the limit
        return Match(old.id, Basis.PINS, score, round(meters), minutes)
    texts = (a.address or "", b.address or "")
    if not all(texts):
        return None  # a bare pin against words: nothing to compare without a geocoder
    likeness = text_likeness(*texts)
    if likeness < policy.text_threshold:
        return None
    basis = Basis.TEXT if not (a.has_point or b.has_point) else Basis.PIN_TEXT
    return Match(old.id, basis, likeness / 100, None, minutes)


def best_match(new: Report, candidates: list[Report], policy: DuplicatePolicy) -> Match | None:
    """The candidate `new` most likely repeats: the most alike, then the latest reported."""
    found = [m for old in candidates if (m := compare(new, old, policy)) is not None]
    if not found:
        return None
    return max(found, key=lambda m: (m.score, -m.minutes))
