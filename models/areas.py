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
from functools import cache, lru_cache

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

# Fuzzy matching, word by word: short words must be spelled right ("gang" is not "Gaung", "baru"
# not "batu"), longer ones may carry a typo ("Bukit Tungal", "Kereng Bengkirai").
THRESHOLD = 88.0
EXACT_UP_TO = 6  # letters of a word that must match exactly
# Kelurahan whose name is also an everyday word or the city's: only after "kel."/"kelurahan".
NEEDS_PREFIX = frozenset({"Palangka"})
_WORD = re.compile(r"[a-z0-9]+")
_KECAMATAN_WORDS = frozenset({"kec", "kecamatan"})
_KELURAHAN_WORDS = frozenset({"kel", "kelurahan", "desa"})


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


def _word_matches(typed: str, name: str) -> bool:
    if len(name) <= EXACT_UP_TO or len(typed) <= EXACT_UP_TO - 2:
        return typed == name
    return fuzz.ratio(typed, name) >= THRESHOLD


def _score(window: tuple[str, ...], name: _Name) -> float:
    """How well `window` spells `name`: 0 unless every word matches."""
    if not all(_word_matches(t, n) for t, n in zip(window, name.words, strict=True)):
        return 0.0
    return fuzz.ratio(" ".join(window), " ".join(name.words))


def _without_city(words: list[str]) -> list[str]:
    """The words with the city's own name left out: "Palangka Raya", "Palangkaraya",
    "Palangka-Raya", "Plangka Rya" — never the kelurahan Palangka."""
    kept: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else ""
        if fuzz.ratio(word, "palangkaraya") >= THRESHOLD - 3:
            index += 1
            continue
        if fuzz.ratio(word, "palangka") >= THRESHOLD - 3 and following.startswith("r"):
            index += 2
            continue
        kept.append(word)
        index += 1
    return kept


@lru_cache(maxsize=4096)
def locate(text: str | None) -> Area:
    """The kelurahan and kecamatan a typed address or venue names, or blank.

    A kelurahan wins over a kecamatan, then the better spelled name, then the longer
    ("Pahandut Seberang" over "Pahandut"); a name right after "kec."/"kecamatan" is the
    kecamatan, not its kelurahan of the same name; the city's own name is never the kelurahan
    Palangka, which must be written "Kel. Palangka"."""
    if not text:
        return NOWHERE
    words = _without_city(_words(text))
    best: tuple[bool, float, int, _Name, bool] | None = None
    for name in _names():
        size = len(name.words)
        for start in range(0, len(words) - size + 1):
            window = tuple(words[start : start + size])
            score = _score(window, name)
            if score < THRESHOLD:
                continue
            before = words[start - 1] if start > 0 else ""
            if name.official in NEEDS_PREFIX and before not in _KELURAHAN_WORDS:
                continue
            as_kecamatan = name.kecamatan_only or (
                before in _KECAMATAN_WORDS and name.official in KECAMATAN
            )
            # A kelurahan named is worth more than its kecamatan named beside it, whatever
            # the scores; then the better spelled, then the longer name.
            candidate = (not as_kecamatan, score, size, name, as_kecamatan)
            if best is None or candidate[:3] > best[:3]:
                best = candidate
    if best is None:
        return NOWHERE
    _, _, _, name, as_kecamatan = best
    if as_kecamatan:
        return Area(None, name.official if name.official in KECAMATAN else KELURAHAN[name.official])
    return Area(name.official, KELURAHAN[name.official])
