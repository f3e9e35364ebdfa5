"""Figure: a change to an incident reaching the web board's live stream — from the commit (the
store's `incidents_changed` hook, which the stream listens to) to the event arriving at each of
20 real HTTP clients (server-sent events over 127.0.0.1), with 1,000 incidents already open.
Each round a dispatcher's change (the severity, through the service) is committed; the clients
are signed in by `/papan` links like people."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from bench.common import Row, add_incidents, main, percentile, row
from bench.common import simulator_and_bot as started_simulator
from bot.services.incidents import NewIncident
from models.incident_types import IncidentType
from models.incidents import Location, Severity, Source
from tests.scenario import build_city

LINK = re.compile(r"(http://\S+/masuk\?t=\S+)")
CLIENTS = 20


async def _listen(
    stream: aiohttp.ClientResponse,
    got: dict[int, list[float]],
    everyone: dict[int, asyncio.Event],
    until: int,
) -> None:
    """Read the stream, noting when each incident's event arrived, until `until` events; an
    incident's event is set once every client has it."""
    seen = 0
    number: int | None = None
    while seen < until:
        line = (await stream.content.readline()).decode().rstrip("\n")
        if line.startswith('data: {"number"'):
            number = int(line.split(":")[-1].strip(" }"))
        elif line == "" and number is not None:
            arrived = got.setdefault(number, [])
            arrived.append(time.perf_counter())
            if len(arrived) == CLIENTS and number in everyone:
                everyone[number].set()
            number = None
            seen += 1


async def measure(smoke: bool) -> list[Row]:
    rounds, already_open = (5, 50) if smoke else (50, 1000)
    async with started_simulator() as (sim, harness):
        city = await build_city(sim, harness, outbox_pacing=False)
        services = harness.services
        agencies = [a for a in await services.agencies.active() if a.code == "damkar"]
        await add_incidents(services.store, already_open, agencies, open_count=already_open)
        committed: dict[int, float] = {}
        services.store.hooks.incidents_changed.append(
            lambda numbers: committed.update({n: time.perf_counter() for n in numbers})
        )
        ids = []
        for n in range(rounds):
            submitted = await services.incidents.submit(
                NewIncident(
                    kind=IncidentType.FIRE,
                    location=Location(-2.21 + n / 1000, 113.92, None),
                    description=f"Rumah kayu terbakar, nomor {n}",
                    source=Source.CALL,
                )
            )
            ids.append(submitted.incident_id)
        await harness.settle(60)
        sessions, streams = [], []
        got: dict[int, list[float]] = {}
        for _ in range(CLIENTS):
            answer = await harness.says(city.dispatcher, "/papan")
            found = LINK.search(answer.text or "")
            assert found is not None, answer.text
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            sessions.append(session)
            async with session.get(found.group(1)) as signed:
                assert signed.status == 200
            address = found.group(1).split("/masuk")[0]
            stream = await session.get(f"{address}/board/events")
            await stream.content.readline()  # the hello
            streams.append(stream)
        everyone = {number: asyncio.Event() for number in ids}
        readers = [asyncio.create_task(_listen(s, got, everyone, rounds)) for s in streams]
        latencies = []
        try:
            for number in ids:
                await services.incidents.set_severity(number, Severity.CRITICAL, city.dispatcher.id)
                async with asyncio.timeout(10):
                    await everyone[number].wait()
                latencies += [(at - committed[number]) * 1000 for at in got[number]]
            await asyncio.gather(*readers)
        finally:
            for stream in streams:
                stream.close()
            for session in sessions:
                await session.close()
        await harness.settle(60)
    note = f"({CLIENTS} clients, {rounds} changes, {already_open} open)"
    return [
        row(f"change-to-board-event latency p50 {note}", percentile(latencies, 50), "ms"),
        row(
            f"change-to-board-event latency p99 {note}",
            percentile(latencies, 99),
            "ms",
            target="<= 500",
        ),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
