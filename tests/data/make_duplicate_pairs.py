"""Writes `duplicate_pairs.jsonl`: labelled pairs of reports for duplicate detection.

Run `python -m tests.data.make_duplicate_pairs` to write it again; the seed is fixed, so the file
comes out the same. Each line is one pair: an earlier report `a` and a later report `b`, each
with its type, pin (or none), typed place (or none) and minutes after a common start, and
whether they are the same event (`same`). `category` says what the pair can be compared by:

* ``pins``: both reports shared a pin. Same event: both pins are the event's place moved by GPS
  error (25 m typical, one in ten 120 m). Hard negatives: another event of the same type 0.7–4
  km away within the hour, or one at the same place (within 300 m) 1.5–6 hours later.
* ``text``: both typed the place. Same event: two people describe one place differently —
  street, gang, landmark in another order, abbreviated ("Jl."/"jln", "gg", "dkt"), with typos,
  or with parts left out. Hard negatives: another gang or house on the same street, the same
  kind of landmark on another street, the same place hours later. A hard negative's texts name
  what sets the places apart: two texts naming only the same street could be either event.
* ``pin_text``: one shared the place as a venue (a pin with a name and address), the other
  typed it. Hard negatives: a typed place on another street, or the same one hours later.

Easy negatives are other places across town. `split` halves the set: thresholds are chosen on
``tune`` and measured on ``eval`` (`bench/duplicates.py`). A bare pin against typed words is
not in the set: with no geocoder there is nothing to compare, by design.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 112
PAIRS = 600
OUT = Path(__file__).with_name("duplicate_pairs.jsonl")
CENTRE = (-2.2100, 113.9100)  # Palangka Raya

STREETS = [
    "Tjilik Riwut",
    "RTA Milono",
    "G. Obos",
    "Ahmad Yani",
    "Diponegoro",
    "Imam Bonjol",
    "Rajawali",
    "Mahir Mahar",
    "Kinibalu",
    "Yos Sudarso",
    "Beliang",
    "Temanggung Tilung",
    "Seth Adji",
    "Antang",
    "Galaxy",
    "Garuda",
    "Murjani",
    "DI Panjaitan",
    "S. Parman",
    "Pierre Tendean",
    "Sapan",
    "Menteng",
    "Hiu Putih",
    "Badak",
    "Rinjani",
    "Adonis Samad",
    "Mendawai",
    "Tingang",
    "Nyai Balau",
    "Bukit Keminting",
    "Krakatau",
    "Kalimantan",
]
GANGS = ["Sepakat", "Damai", "Rukun", "Mawar", "Melati", "Anggrek", "Purnama", "Harapan", "Bersama"]
LANDMARKS = [
    "masjid Al-Falah",
    "masjid Raya",
    "musala Nurul Huda",
    "gereja Efrata",
    "SDN 3",
    "SMPN 2",
    "SMAN 1",
    "pasar Kahayan",
    "pasar Besar",
    "puskesmas Menteng",
    "kantor lurah",
    "bundaran besar",
    "jembatan Kahayan",
    "terminal",
    "Palangka Raya Mall",
    "stadion Tuah Pahoe",
    "kantor pos",
    "SPBU",
    "toko Sinar Jaya",
    "warung Bu Imah",
]
FIRE, FOREST_FIRE, TRAFFIC, MEDICAL, FLOOD = (
    "kebakaran",
    "karhutla",
    "kecelakaan",
    "medis",
    "banjir",
)
RELATED = {FIRE: FOREST_FIRE, FOREST_FIRE: FIRE, TRAFFIC: MEDICAL, MEDICAL: TRAFFIC}
TYPES = [FIRE, FIRE, FIRE, FOREST_FIRE, TRAFFIC, MEDICAL, FLOOD]


@dataclass
class Place:
    street: str
    gang: tuple[str, int] | None
    landmark: str | None
    house: int | None
    lat: float
    lon: float


def moved(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point `metres` away in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(angle) / 111_320
    dlon = metres * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def gps(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    """Where a phone puts a person standing at (lat, lon)."""
    sigma = 120 if rng.random() < 0.1 else 25
    return moved(rng, lat, lon, abs(rng.gauss(0, sigma)))


def place(rng: random.Random, street: str | None = None) -> Place:
    lat, lon = moved(rng, *CENTRE, rng.uniform(0, 8000))
    gang = (rng.choice(GANGS), rng.randint(1, 12)) if rng.random() < 0.6 else None
    return Place(
        street or rng.choice(STREETS),
        gang,
        rng.choice(LANDMARKS) if rng.random() < 0.7 else None,
        rng.randint(1, 120) if rng.random() < 0.3 else None,
        lat,
        lon,
    )


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    how = rng.choice(("drop", "swap", "double"))
    if how == "drop":
        return word[:i] + word[i + 1 :]
    if how == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i] + word[i:]


def with_typos(rng: random.Random, text: str, chance: float = 0.35) -> str:
    words = text.split(" ")
    if rng.random() < chance:
        i = rng.randrange(len(words))
        words[i] = typo(rng, words[i])
    return " ".join(words)


def describe(rng: random.Random, p: Place, *, full: bool = False) -> str:
    """How one person types the place: some of its parts, in their own words."""
    parts: list[str] = []
    street = rng.choice(("Jl. ", "jalan ", "jln ", "Jl ", "")) + p.street
    if p.house is not None and rng.random() < 0.5:
        street += rng.choice((" no. ", " no ", " nomor ")) + str(p.house)
    if full or rng.random() < 0.9:
        parts.append(street)
    if p.gang is not None and (full or rng.random() < 0.7):
        name, number = p.gang
        parts.append(f"{rng.choice(('gg. ', 'gang ', 'gg ', 'Gg '))}{name} {number}")
    if p.landmark is not None and (full or rng.random() < 0.6 or not parts):
        word = rng.choice(("dekat ", "dkt ", "depan ", "dpn ", "sebelah ", "samping ", ""))
        landmark = p.landmark
        if rng.random() < 0.3:
            landmark = landmark.replace("masjid", "mesjid").replace("SDN", "SD")
        parts.append(word + landmark)
    if not parts:
        parts.append(street)
    if rng.random() < 0.3:
        rng.shuffle(parts)
    text = rng.choice((", ", " ", " - ")).join(parts)
    if rng.random() < 0.2:
        text = text.lower()
    return with_typos(rng, text)


def venue(rng: random.Random, p: Place) -> str:
    """A venue's name and address as Telegram gives it, as the bot stores it."""
    title = p.landmark.title() if p.landmark else f"Rumah warga Jl. {p.street}"
    address = f"Jl. {p.street}"
    if p.gang is not None:
        address += f", Gg. {p.gang[0]} {p.gang[1]}"
    return f"{title}, {address}, Palangka Raya"


def report(
    kind: str,
    minutes: int,
    *,
    pin: tuple[float, float] | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    return {
        "type": kind,
        "lat": None if pin is None else round(pin[0], 6),
        "lon": None if pin is None else round(pin[1], 6),
        "address": text,
        "minutes": minutes,
    }


def elsewhere(rng: random.Random, p: Place) -> Place:
    """Another place on the same street: another gang or house, or another landmark."""
    lat, lon = moved(rng, p.lat, p.lon, rng.uniform(700, 4000))
    gang = p.gang
    if gang is not None:
        gang = (gang[0], gang[1] + rng.randint(1, 9))
    else:
        gang = (rng.choice(GANGS), rng.randint(1, 12))
    others = [m for m in LANDMARKS if m != p.landmark]
    house = None if p.house is None else p.house + rng.randint(3, 40)
    return Place(p.street, gang, rng.choice(others), house, lat, lon)


def same_landmark_elsewhere(rng: random.Random, p: Place) -> Place:
    street = rng.choice([s for s in STREETS if s != p.street])
    other = place(rng, street)
    other.landmark = (p.landmark or rng.choice(LANDMARKS)).split(" ")[0]
    other.gang = None
    return other


def pair(rng: random.Random, category: str, kind_of_pair: str) -> dict[str, Any]:
    kind = rng.choice(TYPES)
    later_kind = RELATED[kind] if kind in RELATED and rng.random() < 0.1 else kind
    p = place(rng)
    start = 0
    gap = rng.randint(0, 40)
    same = kind_of_pair == "same"
    if kind_of_pair == "easy":
        q = place(rng)
        later_kind = rng.choice([t for t in TYPES if t != kind and RELATED.get(kind) != t])
    elif kind_of_pair == "hard_time":
        q = Place(p.street, p.gang, p.landmark, p.house, *moved(rng, p.lat, p.lon, 200))
        gap = rng.randint(90, 360)
        later_kind = kind
    elif kind_of_pair == "hard_place":
        q = elsewhere(rng, p) if rng.random() < 0.6 else same_landmark_elsewhere(rng, p)
        gap = rng.randint(0, 50)
        later_kind = kind
    else:
        q = p
    if category == "pins":
        a = report(kind, start, pin=gps(rng, p.lat, p.lon))
        b = report(later_kind, start + gap, pin=gps(rng, q.lat, q.lon))
    elif category == "text":
        # A hard negative names what sets it apart (another gang, house or street): two texts
        # that name only the same street could be either, to anyone reading them.
        full = kind_of_pair == "hard_place"
        a = report(kind, start, text=describe(rng, p, full=full))
        b = report(later_kind, start + gap, text=describe(rng, q, full=full))
    else:
        full = kind_of_pair == "hard_place"
        pinned = gps(rng, p.lat, p.lon)
        if rng.random() < 0.5:
            a = report(kind, start, pin=pinned, text=venue(rng, p))
            b = report(later_kind, start + gap, text=describe(rng, q, full=full))
        else:
            a = report(kind, start, text=describe(rng, p, full=full))
            b = report(
                later_kind, start + gap, pin=gps(rng, q.lat, q.lon), text=venue(rng, q)
            )
    return {"category": category, "kind": kind_of_pair, "same": same, "a": a, "b": b}


def pairs() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    plan = [("pins", 0.40), ("text", 0.35), ("pin_text", 0.25)]
    made: list[dict[str, Any]] = []
    for category, share in plan:
        count = round(PAIRS * share)
        for n in range(count):
            roll = n / count
            if roll < 0.5:
                kind_of_pair = "same"
            elif roll < 0.7:
                kind_of_pair = "hard_place"
            elif roll < 0.85:
                kind_of_pair = "hard_time"
            else:
                kind_of_pair = "easy"
            made.append(pair(rng, category, kind_of_pair))
    rng.shuffle(made)
    for index, entry in enumerate(made):
        entry["id"] = index
        entry["split"] = "tune" if index % 2 == 0 else "eval"
    return made


def main() -> None:
    lines = [json.dumps(entry, ensure_ascii=False, sort_keys=True) for entry in pairs()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} pairs written to {OUT}")


if __name__ == "__main__":
    main()
