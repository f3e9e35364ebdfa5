"""Figure: live data per 1,000 closed incidents after retention, and the file after maintenance.

The demo city's real bot, against the simulator with pacing off: 1,000 112 calls filed over the
HTTP API with the caller's name and number, each acknowledged by Damkar and Relawan, on scene,
and resolved by the dispatcher — every card, edit, reporter notice and timeline event written
by the code that writes them in service. Then the clock moves a year and a day on and the
nightly maintenance runs once (`bot.services.retention`, both retention periods at their
defaults). Live data is `(page_count − freelist_count) × page_size`, less what the city held
before the first call; the file is the database and its write-ahead log on disk.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import Row, main, row
from bench.common import simulator_and_bot as started_simulator
from bot.services.api import ApiAdmin
from bot.simulator import RateLimits
from bot.store import Store
from models.api import Scope
from models.clock import ManualClock
from models.incidents import ResponseEvent
from tests.harness import BotHarness
from tests.scenario import build_city

MB = 1_000_000
UNLIMITED = 1_000_000
SETTLE_SECONDS = 60.0
DRAIN_STEPS = 100


async def live_bytes(store: Store) -> int:
    pages = await store.pragma("page_count")
    free = await store.pragma("freelist_count")
    size = await store.pragma("page_size")
    assert isinstance(pages, int) and isinstance(free, int) and isinstance(size, int)
    return (pages - free) * size


def file_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


async def drain(harness: BotHarness, clock: ManualClock) -> None:
    """Until nothing waits in the outbox: edits held back a moment (so that a burst of changes
    makes one edit) fall due only as the clock moves, here a few seconds at a time."""
    store = harness.services.store
    for _ in range(DRAIN_STEPS):
        await harness.settle(SETTLE_SECONDS)
        async with store.read() as tx:
            if (await tx.outbox_backlog()).pending == 0:
                return
        clock.advance(timedelta(seconds=5))
        # The sender went quiet until the clock it knew would pass; it has moved: look now
        # (else the next settle could end at once, on the quiet of before the move).
        harness.services.outbox.wake()
    raise RuntimeError("the outbox did not drain")


async def measure(smoke: bool) -> list[Row]:
    calls = 20 if smoke else 1000
    clock = ManualClock()
    async with started_simulator() as (sim, harness):
        # What is kept, not how fast it goes out: no flood limit, so no retry waits on the
        # clock that stands still until the year is over.
        sim.limiter.limits = RateLimits(UNLIMITED, UNLIMITED, UNLIMITED, UNLIMITED)
        settings: dict[str, Any] = {"outbox_pacing": False, "api_rate_per_minute": 100_000}
        city = await build_city(sim, harness, clock=clock, **settings)
        services = harness.services
        store = services.store
        agencies = {a.code: a for a in await services.agencies.active()}
        crews = {code: city.crews[code][0] for code in ("damkar", "relawan")}
        key = await ApiAdmin(store, clock).create_key("callcenter", Scope.WRITE)
        assert key is not None and harness.app is not None
        address = harness.app.bot_data.web_address
        await harness.settle()
        await store.purge_wal()
        empty = await live_bytes(store)
        numbers: list[int] = []
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
            for n in range(calls):
                body = {
                    "type": "kebakaran",
                    "location": {
                        "lat": -2.10 - n / 5000,
                        "lon": 113.80 + n / 5000,
                        "address": f"Jl. Tjilik Riwut km {n % 40 + 1}, dekat warung Bu Sari",
                    },
                    "description": f"Rumah kayu terbakar, api besar, asap hitam (panggilan {n})",
                    "caller": {"name": f"Penelepon Nomor {n}", "phone": f"0812{n:08d}"},
                    "external_id": f"RET-{n}",
                }
                async with session.post(f"{address}/api/v1/incidents", json=body) as response:
                    assert response.status == 201, await response.text()
                    numbers.append(int((await response.json())["number"]))
                if n % 50 == 49:
                    await harness.settle(SETTLE_SECONDS)
        await harness.settle(SETTLE_SECONDS)
        dispatcher = city.dispatcher.id
        for index, number in enumerate(numbers):
            for code, person in crews.items():
                await services.incidents.acknowledge(number, agencies[code].id, person.id)
                await services.incidents.agency_progress(
                    number, agencies[code].id, person.id, ResponseEvent.ARRIVE
                )
            await services.incidents.resolve(number, dispatcher)
            if index % 50 == 49:
                await harness.settle(SETTLE_SECONDS)
        await drain(harness, clock)
        await store.purge_wal()
        before = await live_bytes(store) - empty
        path = harness.database_path
        clock.advance(timedelta(days=366))
        started = time.perf_counter()
        done = await services.retention.run()
        seconds = time.perf_counter() - started
        after = await live_bytes(store) - empty
        on_disk = file_bytes(path)
        async with store.read() as tx:
            waiting = (await tx.outbox_backlog()).pending
    assert waiting == 0, f"{waiting} messages still waiting: the figure would miss them"
    per = 1000 / calls
    note = f"({calls} closed incidents, 2 agencies each)"
    return [
        row(
            f"live data per 1,000 closed incidents before retention {note}", before * per / MB, "MB"
        ),
        row(
            f"live data per 1,000 closed incidents after retention {note}",
            after * per / MB,
            "MB",
            target="<= 1",
            baseline=before * per / MB,
        ),
        row(f"database file after maintenance {note}", on_disk / MB, "MB"),
        row(f"maintenance run {note}: {done.describe()}", seconds * 1000, "ms"),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
