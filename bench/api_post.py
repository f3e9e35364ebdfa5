"""Figure: a 112 call sent over the HTTP API reaching the agencies — from the moment the call
centre's `POST /api/v1/incidents` leaves (a real HTTP client on 127.0.0.1) to the incident card
arriving at the simulator in every routed agency's chat (fire: Damkar and Relawan), with pacing
off and 1,000 incidents already open. Times are the simulator's monotonic clock."""

from __future__ import annotations

from typing import Any

import aiohttp

from bench.common import CallWatch, Row, add_incidents, chat_of, main, percentile, row
from bench.common import simulator_and_bot as started_simulator
from bot.services.api import ApiAdmin
from models.api import Scope
from tests.scenario import build_city

SENDS = frozenset({"sendMessage"})


async def measure(smoke: bool) -> list[Row]:
    calls, already_open = (5, 50) if smoke else (100, 1000)
    latencies: list[float] = []
    async with started_simulator() as (sim, harness):
        settings: dict[str, Any] = {"outbox_pacing": False, "api_rate_per_minute": 10_000}
        city = await build_city(sim, harness, **settings)
        services = harness.services
        agencies = [a for a in await services.agencies.active() if a.code in ("damkar", "relawan")]
        await add_incidents(services.store, already_open, agencies, open_count=already_open)
        await harness.restart(**settings)  # the scheduler rebuilds the open incidents' jobs
        key = await ApiAdmin(harness.services.store, harness.services.clock).create_key(
            "callcenter", Scope.WRITE
        )
        assert key is not None and harness.app is not None
        address = harness.app.bot_data.web_address
        groups = {city.groups["damkar"].id, city.groups["relawan"].id}
        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            for n in range(calls):
                body = {
                    "type": "kebakaran",
                    "location": {"lat": -2.10 - n / 500, "lon": 113.80 + n / 500},
                    "description": f"Rumah kayu terbakar, panggilan nomor {n}",
                    "external_id": f"BENCH-{n}",
                }
                await harness.settle()
                cards = CallWatch(sim, SENDS)
                sent = sim.clock()
                async with session.post(f"{address}/api/v1/incidents", json=body) as response:
                    assert response.status == 201, await response.text()

                def arrived(watch: CallWatch = cards) -> bool:
                    return groups <= {chat_of(call) for call in watch.scan()}

                await sim.wait_for(arrived, timeout=10, what="the cards")
                last = max(call.at for call in cards.found if chat_of(call) in groups)
                latencies.append((last - sent) * 1000)
        await harness.settle()
    note = f"({calls} calls, {already_open} open, pacing off)"
    return [
        row(
            f"API-call-to-card latency p50 {note}", percentile(latencies, 50), "ms", target="<= 20"
        ),
        row(
            f"API-call-to-card latency p99 {note}", percentile(latencies, 99), "ms", target="<= 100"
        ),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
