"""Palangka Raya's 30 kelurahan in 5 kecamatan, and where an address or venue text lies.

Source: BPS Kota Palangka Raya, *Kota Palangka Raya Dalam Angka 2025* (5 kecamatan, 30
kelurahan: Rakumpit 7, Bukit Batu 7, Jekan Raya 4, Pahandut 6, Sabangau 6). Spellings vary in
official documents too ("Sabangau"/"Sebangau", "Pahandut Seberang"/"Sebrang", "Petuk
Katimpun"/"Katimun"): those are aliases here.

The matcher reads free text as people type it — with typos — for the evaluation meeting's
breakdown by area; it is a hint for statistics, never used to route a call. Blank when unsure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

KECAMATAN: dict[str, tuple[str, ...]] = {
    "Pahandut": (
        "Pahandut",
        "Panarung",
        "Langkai",
        "Tumbang Rungan",
        "Tanjung Pinang",
        "Pahandut Seberang",
    ),
    "Jekan Raya": ("Menteng", "Palangka", "Bukit Tunggal", "Petuk Katimpun"),
    "Sebangau": (
        "Kereng Bangkirai",
        "Sabaru",
        "Kalampangan",
        "Kameloh Baru",
        "Danau Tundai",
        "Bereng Bengkel",
    ),
    "Bukit Batu": (
        "Tangkiling",
        "Banturung",
        "Habaring Hurung",
        "Marang",
        "Tumbang Tahai",
        "Sei Gohong",
        "Kanarakan",
    ),
    "Rakumpit": (
        "Mungku Baru",
        "Bukit Sua",
        "Gaung Baru",
        "Pager",
        "Panjehang",
        "Petuk Barunai",
        "Petuk Bukit",
    ),
}
ALIASES: dict[str, str] = {
    "Pahandut Sebrang": "Pahandut Seberang",
    "Petuk Katimun": "Petuk Katimpun",
    "Kereng Bengkirai": "Kereng Bangkirai",
    "Sungai Gohong": "Sei Gohong",
}
KECAMATAN_ALIASES: dict[str, str] = {"Sabangau": "Sebangau"}
KELURAHAN: dict[str, str] = {k: kec for kec, names in KECAMATAN.items() for k in names}

# Fuzzy matching: a window of the text's words against each name, by rapidfuzz's ratio.
THRESHOLD = 85.0
EXACT_ONLY_UP_TO = 6  # one-word names this short must be spelled right ("pager" vs "pagar")
_CITY = re.compile(r"\bpalangka\s*raya\b|\bpalangkaraya\b|\bp\.?\s*raya\b")
_WORD = re.compile(r"[a-z0-9]+")
_KECAMATAN_WORDS = frozenset({"kec", "kecamatan"})


@dataclass(frozen=True, slots=True)
class Area:
    kelurahan: str | None
    kecamatan: str | None


NOWHERE = Area(None, None)


@dataclass(frozen=True, slots=True)
class _Name:
    official: str  # the kelurahan's or kecamatan's official name
    words: tuple[str, ...]
    kecamatan_only: bool


@cache
def _names() -> tuple[_Name, ...]:
    names: list[_Name] = []
    for kelurahan in KELURAHAN:
        names.append(_Name(kelurahan, tuple(_words(kelurahan)), False))
    for alias, kelurahan in ALIASES.items():
        names.append(_Name(kelurahan, tuple(_words(alias)), False))
    for kecamatan in KECAMATAN:
        names.append(_Name(kecamatan, tuple(_words(kecamatan)), True))
    for alias, kecamatan in KECAMATAN_ALIASES.items():
        names.append(_Name(kecamatan, tuple(_words(alias)), True))
    return tuple(names)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _score(window: tuple[str, ...], name: _Name) -> float:
    if len(name.words) == 1 and len(name.words[0]) <= EXACT_ONLY_UP_TO:
        return 100.0 if window == name.words else 0.0
    return fuzz.ratio(" ".join(window), " ".join(name.words))


@cache
def locate(text: str | None) -> Area:
    """The kelurahan and kecamatan a typed address or venue names, or blank.

    The best-scoring name wins (a kelurahan over a kecamatan, then the longer: "Pahandut
    Seberang" over "Pahandut"); a name right after "kec."/"kecamatan" is the kecamatan, not
    its kelurahan of the same name; the city's own name ("Palangka Raya") is never the
    kelurahan Palangka."""
    if not text:
        return NOWHERE
    words = _words(_CITY.sub(" ", text.lower()))
    best: tuple[float, bool, int, _Name, bool] | None = None
    for name in _names():
        size = len(name.words)
        for start in range(0, len(words) - size + 1):
            window = tuple(words[start : start + size])
            score = _score(window, name)
            if score < THRESHOLD:
                continue
            after_kecamatan = start > 0 and words[start - 1] in _KECAMATAN_WORDS
            as_kecamatan = name.kecamatan_only or (after_kecamatan and name.official in KECAMATAN)
            # A kelurahan named is worth more than its kecamatan named beside it.
            candidate = (score, not as_kecamatan, size, name, as_kecamatan)
            if best is None or candidate[:3] > best[:3]:
                best = candidate
    if best is None:
        return NOWHERE
    _, _, _, name, as_kecamatan = best
    if as_kecamatan:
        return Area(None, name.official if name.official in KECAMATAN else KELURAHAN[name.official])
    return Area(name.official, KELURAHAN[name.official])
