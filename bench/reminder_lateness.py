"""Figure 4, reminder lateness with 10,000 open incidents, and what a sweep costs.

Lateness: the running bot holds 10,000 open incidents, each with a pending acknowledgement
reminder (at start the scheduler makes a job for each one due within its horizon, and the sweep
for the others as they come near). A sample of them is moved to
fall due over the next few seconds, the way the bot reschedules a reminder (in a transaction
whose commit tells the scheduler); lateness is when the reminder fired (`fired_at`) minus when
it was due.

Sweep cost: the CPU time of `ReminderService.sweep` with nothing due, at 1,000 and at 10,000
open incidents whose reminders are not due, both stores open and measured in alternating
blocks. The sweep reads only due rows through the `reminders_due` index, so the cost must not
grow with the incidents that are not due.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta
from typing import Any

from bench.common import (
    CallWatch,
    Row,
    add_agencies,
    add_incidents,
    main,
    percentile,
    row,
    scratch_dir,
    simulator_and_bot,
)
from bot.services.reminders import ReminderService
from bot.settings import load_settings
from bot.store import Store
from bot.store.codec import from_db_time, to_db_time
from tests.scenario import build_city

SENDS = frozenset({"sendMessage"})


async def lateness(open_count: int, due_count: int) -> list[float]:
    """Seconds each of `due_count` reminders fired after it was due, among `open_count`."""
    async with simulator_and_bot() as (sim, harness):
        settings: dict[str, Any] = {"outbox_pacing": False}
        city = await build_city(sim, harness, **settings)
        store = harness.services.store
        async with store.read() as tx:
            damkar = await tx.agency_by_code("damkar")
        assert damkar is not None
        ids = await add_incidents(store, open_count, [damkar], open_count=open_count)
        await harness.restart(**settings)  # jobs for the reminders near, as after any start
        store, clock = harness.services.store, harness.services.clock
        chosen = ids[:: max(1, len(ids) // due_count)][:due_count]
        start = clock.now() + timedelta(seconds=2)
        due: dict[int, datetime] = {}
        reminders = CallWatch(sim, SENDS)
        async with store.transaction() as tx:
            for n, incident_id in enumerate(chosen):
                at = start + timedelta(seconds=4 * n / len(chosen))
                async with tx.db.execute(
                    "UPDATE reminders SET due_at = ? WHERE incident_id = ? AND state = 'pending' "
                    "RETURNING id",
                    (to_db_time(at), incident_id),
                ) as cursor:
                    found = await cursor.fetchone()
                assert found is not None
                due[int(found[0])] = at
                tx.scheduled_reminders.append((int(found[0]), at))
        group = city.groups["damkar"].id
        await sim.wait_for(
            lambda: (
                sum(1 for c in reminders.scan() if str(c.params.get("chat_id")) == str(group))
                >= len(due)
            ),
            timeout=30,
            what="every reminder in the Damkar chat",
        )
        await harness.settle(30)
        async with store.read() as tx:
            marks = ", ".join("?" for _ in due)
            async with tx.db.execute(
                f"SELECT id, fired_at FROM reminders WHERE id IN ({marks})", tuple(due)
            ) as cursor:
                fired = {int(r[0]): from_db_time(r[1]) async for r in cursor if r[1]}
    assert fired.keys() == due.keys(), f"{len(due) - len(fired)} reminders never fired"
    return [(fired[i] - due[i]).total_seconds() for i in due]


async def sweep_cpu(counts: tuple[int, ...], sweeps: int) -> list[float]:
    """CPU seconds per sweep for each of `counts` open incidents whose reminders are not due.
    The stores are open side by side and measured in alternating blocks, the quietest block of
    each kept: a sweep costs tens of microseconds, less than what the machine's moods move a
    block measured a minute apart."""
    async with contextlib.AsyncExitStack() as stack:
        services = []
        for open_count in counts:
            workdir = stack.enter_context(scratch_dir())
            settings = load_settings(_env_file=None, database_path=workdir / "siaga112.db")
            store = await stack.enter_async_context(Store(settings.database_path))
            agencies = await add_agencies(store, {"damkar": -4_000_000_001})
            await add_incidents(store, open_count, agencies, open_count=open_count)
            service = ReminderService(store, store.clock, settings)
            assert await service.sweep() == 0
            services.append(service)
        best = [float("inf")] * len(services)
        for _ in range(5):
            for index, service in enumerate(services):
                started = time.process_time()  # every thread (aiosqlite's too)
                for _ in range(sweeps):
                    await service.sweep()
                best[index] = min(best[index], (time.process_time() - started) / sweeps)
        return best


async def measure(smoke: bool) -> list[Row]:
    open_count, due_count, sweeps = (300, 10, 20) if smoke else (10_000, 200, 200)
    late_ms = [s * 1000 for s in await lateness(open_count, due_count)]
    small, large = await sweep_cpu((open_count // 10, open_count), sweeps)
    note = f"({due_count} due among {open_count} open)"
    return [
        row(f"reminder lateness p50 {note}", percentile(late_ms, 50), "ms"),
        row(f"reminder lateness p99 {note}", percentile(late_ms, 99), "ms", target="<= 2000"),
        row(
            f"CPU per sweep, nothing due, {open_count} open (baseline: {open_count // 10} open)",
            large * 1e6,
            "µs",
            target="ratio <= 1.5",
            baseline=small * 1e6,
        ),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
