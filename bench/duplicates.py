"""Figures of duplicate detection (models.duplicates).

Quality: on the labelled pairs of tests/data/duplicate_pairs.jsonl (written by
tests/data/make_duplicate_pairs.py, seed fixed), the text threshold and the pin distance are
chosen on the `tune` half: the ranges of each that give the best F1 there are shown, and the
defaults of DUPLICATE_TEXT_THRESHOLD and DUPLICATE_DISTANCE_METERS must lie inside them (the
threshold in the middle of its range). Precision and recall are then measured with those
defaults on the `eval` half, overall and per category.

Speed: the time `detect` takes for one new report — reading the candidates within the window
and scoring them — with 10,000 open incidents reported over 30 days (fifty of them in the last
hour, inside the window), for reports with a pin and reports with typed places alike.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import Row, add_agencies, add_incidents, main, percentile, row, scratch_dir
from bot.services.duplicates import detect
from bot.settings import Settings
from bot.store import Store
from models.duplicates import DuplicatePolicy, Report, compare
from models.incident_types import IncidentType
from models.incidents import Location

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "duplicate_pairs.jsonl"
CATEGORIES = ("pins", "text", "pin_text")
T0 = datetime(2026, 12, 7, 8, 0)


def _report(number: int, data: dict[str, Any]) -> Report:
    place = Location(data["lat"], data["lon"], data["address"])
    return Report(
        number, IncidentType(data["type"]), place, T0 + timedelta(minutes=data["minutes"])
    )


def _scores(pairs: list[dict[str, Any]], policy: DuplicatePolicy) -> tuple[float, float, float]:
    """Precision, recall and F1 of `policy` on `pairs`."""
    hit = false_alarm = missed = 0
    for pair in pairs:
        found = compare(_report(2, pair["b"]), _report(1, pair["a"]), policy) is not None
        if found and pair["same"]:
            hit += 1
        elif found:
            false_alarm += 1
        elif pair["same"]:
            missed += 1
    precision = hit / (hit + false_alarm) if hit + false_alarm else 1.0
    recall = hit / (hit + missed) if hit + missed else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def plateaus(
    pairs: list[dict[str, Any]], base: DuplicatePolicy
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where the best F1 on `pairs` is reached: the range of text thresholds (at any distance)
    and, at the threshold of `base`, the range of pin distances."""
    thresholds, distances = range(50, 101), range(100, 1001, 50)
    f1 = {
        (t, d): _scores(pairs, replace(base, text_threshold=float(t), distance_m=float(d)))[2]
        for t in thresholds
        for d in distances
    }
    best = max(f1.values())
    tops = sorted({t for (t, _), score in f1.items() if score == best})
    at_default = int(base.text_threshold)
    spots = sorted(d for d in distances if f1.get((at_default, d)) == best) or [0]
    return (tops[0], tops[-1]), (spots[0], spots[-1])


def quality() -> list[Row]:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    tune = [p for p in pairs if p["split"] == "tune"]
    held = [p for p in pairs if p["split"] == "eval"]
    shipped = Settings.model_construct().duplicate_policy()  # the defaults the bot runs with
    (t_low, t_high), (d_low, d_high) = plateaus(tune, shipped)
    threshold, distance = int(shipped.text_threshold), int(shipped.distance_m)
    rows = [
        row(
            "duplicates: best text thresholds on the tune half, from",
            t_low,
            "0-100",
            target=f"<= {threshold}",
        ),
        row(
            "duplicates: best text thresholds on the tune half, to",
            t_high,
            "0-100",
            target=f">= {threshold}",
        ),
        row(
            "duplicates: best pin distances on the tune half, from",
            d_low,
            "m",
            target=f"<= {distance}",
        ),
        row(
            "duplicates: best pin distances on the tune half, to",
            d_high,
            "m",
            target=f">= {distance}",
        ),
    ]
    note = f"({len(held)} held-out pairs of {len(pairs)}, defaults {threshold} and {distance} m)"
    precision, recall, _ = _scores(held, shipped)
    rows.append(row(f"duplicates: precision {note}", round(precision, 3), "", target=">= 0.9"))
    rows.append(row(f"duplicates: recall {note}", round(recall, 3), "", target=">= 0.9"))
    for category in CATEGORIES:
        part = [p for p in held if p["category"] == category]
        p_, r_, _ = _scores(part, shipped)
        rows.append(row(f"duplicates: precision, {category} ({len(part)})", round(p_, 3), ""))
        rows.append(row(f"duplicates: recall, {category} ({len(part)})", round(r_, 3), ""))
    return rows


async def speed(smoke: bool) -> list[Row]:
    total, recent, probes = (500, 20, 40) if smoke else (10_000, 50, 400)
    rng = random.Random(7)
    policy = DuplicatePolicy()
    timings: list[float] = []
    with scratch_dir() as scratch:
        async with Store(Path(scratch) / "duplicates.sqlite3") as store:
            agencies = await add_agencies(store, {"damkar": -1001, "relawan": -1002})
            await add_incidents(
                store,
                total - recent,
                agencies,
                open_count=total - recent,
                spread=timedelta(days=30),
            )
            await add_incidents(
                store, recent, agencies, open_count=recent, spread=timedelta(minutes=59), seed=2
            )
            now = store.clock.now()
            for n in range(probes):
                if n % 2:
                    place = Location(-2.2 + rng.random() / 10, 113.9 + rng.random() / 10, None)
                else:
                    place = Location(None, None, f"jl tjilik riwut km {rng.randint(1, 40)}")
                new = Report(10**9 + n, IncidentType.FIRE, place, now)
                started = time.perf_counter()
                async with store.read() as tx:
                    await detect(tx, new, policy)
                timings.append((time.perf_counter() - started) * 1000)
    note = f"({total:,} open over 30 days, {recent} in the last hour)"
    return [
        row(f"duplicate detection per report p50 {note}", percentile(timings, 50), "ms"),
        row(
            f"duplicate detection per report p99 {note}",
            percentile(timings, 99),
            "ms",
            target="<= 5",
        ),
    ]


async def measure(smoke: bool) -> list[Row]:
    return [*quality(), *await speed(smoke)]


if __name__ == "__main__":
    main(__doc__ or "", measure)
