"""Figure 6, the write path: acknowledgements per second straight into the store (each one
service transaction with synchronous=FULL: read the incident, update the response, write the
timeline, re-render the card into the outbox, reconcile reminders), against a bare aiosqlite loop
of one-row insert transactions with the same durability, on the same disk, in the same run."""

from __future__ import annotations

import time
from pathlib import Path

import aiosqlite

from bench.common import Row, add_agencies, add_incidents, main, row, scratch_dir
from bot.services.incidents import IncidentService
from bot.services.publisher import Publisher
from bot.settings import load_settings
from bot.store import Store


async def acknowledgements_per_second(workdir: Path, count: int) -> float:
    settings = load_settings(_env_file=None, database_path=workdir / "siaga112.db")
    async with Store(settings.database_path) as store:
        agencies = await add_agencies(store, {"damkar": -4_000_000_001}, members={"damkar": [7]})
        ids = await add_incidents(store, count, agencies, open_count=count)
        publisher = Publisher(store, store.clock, settings)
        service = IncidentService(store, store.clock, settings, publisher)
        agency_id = agencies[0].id
        started = time.perf_counter()
        for incident_id in ids:
            result = await service.acknowledge(incident_id, agency_id, 7)
            assert result.ok, result.outcome
        return count / (time.perf_counter() - started)


async def bare_inserts_per_second(workdir: Path, count: int) -> float:
    async with aiosqlite.connect(str(workdir / "bare.db"), isolation_level=None) as db:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute(
            "CREATE TABLE events "
            "(id INTEGER PRIMARY KEY, incident_id INTEGER, at TEXT, detail TEXT)"
        )
        started = time.perf_counter()
        for n in range(count):
            await db.execute("BEGIN IMMEDIATE")
            await db.execute(
                "INSERT INTO events (incident_id, at, detail) VALUES (?, ?, ?)",
                (n, "2026-01-01T00:00:00.000000Z", '{"agency": "Damkar"}'),
            )
            await db.execute("COMMIT")
        return count / (time.perf_counter() - started)


async def measure(smoke: bool) -> list[Row]:
    count = 20 if smoke else 1000
    with scratch_dir() as workdir:
        bare = await bare_inserts_per_second(workdir, count)
        acks = await acknowledgements_per_second(workdir, count)
    return [
        row(
            "write path: acknowledgements/s into the store (synchronous=FULL)",
            acks,
            "ops/s",
            baseline=bare,
        )
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
