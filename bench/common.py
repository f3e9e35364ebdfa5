"""What every benchmark shares: result rows, percentiles, a bot running against the simulator,
and a database filled with many incidents fast.

A benchmark module is run as `python -m bench.<name> [--smoke]`. It measures its figure and its
baseline in the same run, and prints its rows as one JSON list on the last line of stdout (the
runner, `python -m bench`, reads only that line). `--smoke` runs it at a tiny size so CI can
check that it still works; the numbers of a smoke run mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import operator
import random
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.simulator import ApiCall, TelegramSimulator
from bot.store import Store
from bot.store.codec import to_db_time
from models.agencies import Agency, AgencyKind
from models.incident_types import IncidentType
from tests.harness import BotHarness

REPO_ROOT = Path(__file__).resolve().parent.parent
# Scratch databases live on the same disk as the repository (not a tmpfs), so synchronous=FULL
# pays for a real fsync like it would in production.
SCRATCH = REPO_ROOT / "build" / "bench"

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Row:
    """One figure: its value, the target it must meet, and the baseline measured beside it."""

    name: str
    value: float
    unit: str
    target: str | None = None  # e.g. "<= 20" (on the value) or "ratio >= 0.5"
    baseline: float | None = None
    ratio: float | None = None
    ok: bool | None = None  # None: informational, no target

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def row(
    name: str,
    value: float,
    unit: str,
    *,
    target: str | None = None,
    baseline: float | None = None,
    ratio: float | None = None,
) -> Row:
    """A row whose `ok` follows from `target`: "<op> <bound>" on the value, or "ratio <op> <bound>"
    on the ratio (ops: >=, <=, ==)."""
    if ratio is None and baseline:
        ratio = value / baseline
    ok: bool | None = None
    if target is not None:
        words = target.split()
        on_ratio = words[0] == "ratio"
        op, bound = (words[1], words[2]) if on_ratio else (words[0], words[1])
        subject = ratio if on_ratio else value
        ok = subject is not None and _OPS[op](subject, float(bound))
    return Row(
        name,
        _rounded(value),
        unit,
        target,
        None if baseline is None else _rounded(baseline),
        None if ratio is None else round(ratio, 3),
        ok,
    )


def checked(
    name: str, value: float, unit: str, ok: bool, target: str, baseline: float | None = None
) -> Row:
    """A row whose target is not a plain comparison (the module decides `ok`)."""
    ratio = None if not baseline else round(value / baseline, 3)
    return Row(
        name,
        _rounded(value),
        unit,
        target,
        None if baseline is None else _rounded(baseline),
        ratio,
        ok,
    )


def _rounded(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    digits = max(0, 3 - math.floor(math.log10(abs(value))))
    return round(value, digits)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="a tiny size, for CI")
    return parser.parse_args()


def main(description: str, measure: Callable[[bool], Coroutine[Any, Any, list[Row]]]) -> None:
    """Parse --smoke, run `measure`, print its rows as JSON on the last line of stdout."""
    args = parse_args(description)
    logging.basicConfig(level=logging.ERROR)  # the bot's INFO lines would drown the figures
    rows = asyncio.run(measure(args.smoke))
    print(json.dumps([r.to_json() for r in rows], ensure_ascii=False))


@contextlib.contextmanager
def scratch_dir() -> Any:
    """A temporary directory under build/bench, removed afterwards."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=SCRATCH) as path:
        yield Path(path)


@contextlib.asynccontextmanager
async def simulator_and_bot() -> AsyncIterator[tuple[TelegramSimulator, BotHarness]]:
    """A simulator on 127.0.0.1 and a harness for the real bot in a scratch directory; the
    caller starts the bot with the settings it measures (`harness.start(**settings)`)."""
    with scratch_dir() as workdir:
        async with TelegramSimulator() as sim:
            harness = BotHarness(sim, workdir)
            try:
                yield sim, harness
            finally:
                await harness.stop()


class CallWatch:
    """Successful Bot API calls the simulator answered since the watch began, read incrementally
    (so waiting on thousands of calls stays linear)."""

    def __init__(self, sim: TelegramSimulator, methods: frozenset[str]) -> None:
        self.sim = sim
        self.methods = methods
        self.start = len(sim.calls)
        self._seen = self.start
        self.found: list[ApiCall] = []

    def scan(self) -> list[ApiCall]:
        calls = self.sim.calls
        for call in calls[self._seen :]:
            if call.ok and call.method in self.methods:
                self.found.append(call)
        self._seen = len(calls)
        return self.found

    async def wait_count(self, count: int, within: float, what: str) -> list[ApiCall]:
        await self.sim.wait_for(lambda: len(self.scan()) >= count, timeout=within, what=what)
        return self.found


def chat_of(call: ApiCall) -> int | None:
    value = call.params.get("chat_id")
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


# --- many incidents, fast ---

BATCH = 1000  # rows of incidents per transaction
CARD_PAYLOAD = json.dumps(
    {
        "text": "🔥 #0 Kebakaran · 🔴 Kritis\n"
        + "Rumah kayu terbakar, api besar, asap hitam menjalar ke rumah sebelah. " * 4,
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "✅ Terima", "callback_data": "1|ack|0|0"}],
                [{"text": "👤 Tugaskan", "callback_data": "1|asg|0|0"}],
            ]
        },
    },
    ensure_ascii=False,
)


async def add_agencies(
    store: Store, chats: dict[str, int], *, members: dict[str, list[int]] | None = None
) -> list[Agency]:
    """Register agencies by code at these chats (and their members, on duty)."""
    now = store.clock.now()
    agencies = []
    async with store.transaction() as tx:
        for code, chat_id in chats.items():
            agency = await tx.save_agency(
                code=code,
                name=code.title(),
                kind=AgencyKind.AGENCY,
                chat_id=chat_id,
                thread_id=None,
                by_user=0,
                now=now,
            )
            agencies.append(agency)
            for user_id in (members or {}).get(code, []):
                await tx.record_person(
                    user_id,
                    first_name=f"U{user_id}",
                    last_name=None,
                    username=None,
                    language_code="id",
                    now=now,
                    started=True,
                )
                await tx.join(agency.id, user_id, now)
                await tx.set_duty(frozenset({agency.id}), user_id, True, None, now)
    return agencies


async def add_incidents(
    store: Store,
    count: int,
    agencies: Sequence[Agency],
    *,
    open_count: int,
    reminder_due: datetime | None = None,
    kind: IncidentType = IncidentType.FIRE,
    seed: int = 1,
    spread: timedelta = timedelta(days=365),
) -> list[int]:
    """`count` incidents straight into the store, one transaction per thousand, shaped like the
    service writes them: the incident, a response per agency, the timeline, the posted cards and
    their outbox rows. The last `open_count` stay open with a pending acknowledgement reminder
    per agency (due at `reminder_due`, default in a day); the rest were resolved. Each was reported
    at a random time within `spread` before now. Returns the ids of the open ones."""
    rng = random.Random(seed)
    now = store.clock.now()
    due = to_db_time(reminder_due or now + timedelta(days=1))
    opened: list[int] = []
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        async with store.transaction() as tx:
            async with tx.db.execute("SELECT COALESCE(MAX(id), 0) FROM incidents") as cursor:
                found = await cursor.fetchone()
            first = int(found[0]) + 1 if found else 1
            incidents: list[tuple[object, ...]] = []
            responses: list[tuple[object, ...]] = []
            events: list[tuple[object, ...]] = []
            posts: list[tuple[object, ...]] = []
            refs: list[tuple[object, ...]] = []
            outbox: list[tuple[object, ...]] = []
            reminders: list[tuple[object, ...]] = []
            for offset in range(size):
                incident_id = first + offset
                is_open = done + offset >= count - open_count
                created = now - timedelta(minutes=rng.randint(1, int(spread.total_seconds() // 60)))
                at = to_db_time(created)
                closed = None if is_open else to_db_time(created + timedelta(hours=1))
                incidents.append(
                    (
                        incident_id,
                        kind.value,
                        rng.choice(("kritis", "tinggi", "sedang", "rendah")),
                        "terbuka" if is_open else "selesai",
                        "telepon",
                        -2.2 + rng.random() / 10,
                        113.9 + rng.random() / 10,
                        f"Jl. Tjilik Riwut km {rng.randint(1, 40)}",
                        "Rumah kayu terbakar, api besar, asap hitam",
                        "tidak_tahu",
                        at,
                        closed or at,
                        closed,
                    )
                )
                events.append((incident_id, at, "reported", '{"source": "telepon"}'))
                events.append((incident_id, at, "routed", '{"agency": "Damkar"}'))
                if not is_open:
                    events.append((incident_id, closed, "resolved", "{}"))
                else:
                    opened.append(incident_id)
                for agency in agencies:
                    ref = f"card:{incident_id}:{agency.id}"
                    responses.append(
                        (incident_id, agency.id, "menunggu" if is_open else "selesai", at)
                    )
                    posts.append((incident_id, ref, "card", agency.chat_id, agency.id))
                    message_id = rng.randint(1, 2**31)
                    refs.append((ref, agency.chat_id, message_id, at))
                    outbox.append(
                        (agency.chat_id, "sendMessage", CARD_PAYLOAD, 10, ref, None, at, at, at)
                    )
                    if is_open:
                        reminders.append(("ack", incident_id, agency.id, due, at))
                    else:
                        outbox.append(
                            (
                                agency.chat_id,
                                "editMessageText",
                                CARD_PAYLOAD,
                                10,
                                None,
                                ref,
                                at,
                                at,
                                at,
                            )
                        )
            db = tx.db
            await db.executemany(
                """
                INSERT INTO incidents (id, type, severity, lifecycle, source, latitude, longitude,
                                       address, description, hurt, created_at, updated_at,
                                       closed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                incidents,
            )
            await db.executemany(
                "INSERT INTO responses (incident_id, agency_id, status, updated_at) "
                "VALUES (?, ?, ?, ?)",
                responses,
            )
            await db.executemany(
                "INSERT INTO incident_events (incident_id, at, kind, detail) VALUES (?, ?, ?, ?)",
                events,
            )
            await db.executemany(
                "INSERT INTO incident_posts (incident_id, ref, kind, chat_id, agency_id) "
                "VALUES (?, ?, ?, ?, ?)",
                posts,
            )
            await db.executemany(
                "INSERT OR REPLACE INTO message_refs (ref, chat_id, message_id, updated_at) "
                "VALUES (?, ?, ?, ?)",
                refs,
            )
            await db.executemany(
                """
                INSERT INTO outbox (chat_id, method, payload, priority, ref, target_ref, status,
                                    attempts, not_before, created_at, sent_at)
                VALUES (?, ?, ?, ?, ?, ?, 'sent', 1, ?, ?, ?)
                """,
                outbox,
            )
            await db.executemany(
                "INSERT INTO reminders (kind, incident_id, agency_id, due_at, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                reminders,
            )
        done += size
    return opened


async def database_bytes(store: Store) -> int:
    """The database's logical size (what it holds, WAL included)."""
    pages = await store.pragma("page_count")
    size = await store.pragma("page_size")
    assert isinstance(pages, int) and isinstance(size, int)
    return pages * size
