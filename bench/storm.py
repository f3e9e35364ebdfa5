"""The storm of the issue "Nothing lost": 40 incidents for one agency in one minute, Telegram's
real limit of 20 messages a minute per group enforced by the simulator. Reported: every card
delivered, no 429, no limit exceeded, how long the storm took against the fastest the limits
allow, and the cards current at the end (a quarter of them acknowledged while the storm drains,
so their edits queue behind it)."""

from __future__ import annotations

import math
import time

from bench.common import CallWatch, Row, add_agencies, checked, main, row, simulator_and_bot
from bot.services.incidents import NewIncident
from bot.simulator.limits import RateLimits
from models.incident_types import IncidentType
from models.incidents import Location, Source

SENDS = frozenset({"sendMessage"})


async def measure(smoke: bool) -> list[Row]:
    count = 6 if smoke else 40
    per_minute = 120 if smoke else 20  # the smoke run raises the limit on both sides
    async with simulator_and_bot() as (sim, harness):
        sim.limiter.limits = RateLimits(group_per_minute=per_minute)
        await harness.start(outbox_pacing=True, outbox_group_per_minute=per_minute)
        admin = sim.add_user("Admin", language_code="id")
        group = sim.add_group("PSC 119 Dinkes", members=[admin])
        group.bot_status, group.bot_ever_member = "member", True
        [dinkes] = await add_agencies(
            harness.services.store, {"dinkes": group.id}, members={"dinkes": [777]}
        )
        await harness.settle()
        sim.enforce_rate_limits = True
        violations, refused = sim.stats.limit_violations, sim.stats.too_many_requests
        cards = CallWatch(sim, SENDS)
        started = time.monotonic()
        numbers = []
        for n in range(count):
            submitted = await harness.services.incidents.submit(
                NewIncident(
                    kind=IncidentType.MEDICAL,
                    location=Location(None, None, f"Jl. Badak nomor {n}, dekat pasar"),
                    description=f"Warga pingsan nomor {n}",
                    source=Source.CALL,
                )
            )
            numbers.append(submitted.incident_id)
        acknowledged = numbers[::4]
        for number in acknowledged:
            await harness.services.incidents.acknowledge(number, dinkes.id, 777)
        await cards.wait_count(count, 600, "every card")
        await harness.settle(600)
        elapsed = time.monotonic() - started
        shown = {
            int((m.text or "").split("#", 1)[1].split(" ", 1)[0]): m
            for m in sim.bot_messages(group)
            if "#" in (m.text or "")
        }
        current = sum(
            1
            for n in acknowledged
            if "diterima" in (shown.get(n).text or "" if shown.get(n) else "")
        )
        violations = sim.stats.limit_violations - violations
        refused = sim.stats.too_many_requests - refused
        sent = len(cards.scan())
    messages = sent + len(acknowledged)  # the cards, and the edits the limits also count
    # The limit forces whole one-minute windows, then about a second per message in the last.
    windows = math.floor((messages - 1) / per_minute)
    fastest = 60.0 * windows + (messages - windows * per_minute)
    return [
        row(
            f"storm: cards delivered ({count} incidents, one group)",
            len(shown),
            "count",
            target=f">= {count}",
        ),
        row("storm: 429 answers", refused, "count", target="== 0"),
        row("storm: limit violations seen by the simulator", violations, "count", target="== 0"),
        row(
            f"storm: acknowledged cards current at the end (of {len(acknowledged)})",
            current,
            "count",
            target=f">= {len(acknowledged)}",
        ),
        checked(
            f"storm: time to drain {messages} messages at {per_minute}/min",
            elapsed,
            "s",
            elapsed <= fastest * 1.1 + 30,
            "<= what the limit allows (+10 %, +30 s)",
            baseline=fastest or None,
        ),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
