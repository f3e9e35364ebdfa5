"""Figure: waking the people on duty. 30 agencies with 10 on-duty members each; a forest fire is
filed, routed to 3 of them (Damkar, BPBD, Relawan): each of those groups gets the card and its
pin, and each of their 30 on-duty members a private alert. Pacing is on and the simulator
enforces Telegram's limits (a send over them is answered 429).

What the limits allow, as figure 3 computes it: the per-chat and per-group limits do not bind
(one or two messages per chat); the global 30 a second does. N sends occupy at least
ceil(N / 30) one-second windows, N counting every message the bot sent in the interval (cards
and pins included). Reported: the time from the incident's filing to the last alert, plus one
window (figure 3's count: from the first send, the card), over that minimum — at most 1.1 —
and the 429s, which must be 0.
"""

from __future__ import annotations

import math

from bench.broadcast_pacing import groups_with_the_bot
from bench.common import CallWatch, Row, add_agencies, chat_of, main, row
from bench.common import simulator_and_bot as started_simulator
from bot.services.incidents import NewIncident
from models.incident_types import IncidentType
from models.incidents import Location, Source

GLOBAL_PER_SECOND = 30
SENDS = frozenset({"sendMessage", "sendLocation", "sendVenue", "editMessageText"})
ROUTED = ("damkar", "bpbd", "relawan")  # a forest fire's route


async def measure(smoke: bool) -> list[Row]:
    agencies, per_agency = (6, 4) if smoke else (30, 10)
    async with started_simulator() as (sim, harness):
        admin = sim.add_user("Admin", username="admin", language_code="id")
        await harness.start(admins=[admin], outbox_pacing=True)
        await harness.says(admin, "/start")
        groups = groups_with_the_bot(sim, admin, agencies)
        codes = [*ROUTED, *(f"posko{n}" for n in range(agencies - len(ROUTED)))]
        members: dict[str, list[int]] = {}
        for code, group in zip(codes, groups, strict=True):
            people = [sim.add_user(f"{code} {n}", language_code="id") for n in range(per_agency)]
            for person in people:
                person.started = True  # they pressed Start long ago
                sim.add_member(group, person)
            members[code] = [p.id for p in people]
        await harness.settle()
        await add_agencies(
            harness.services.store,
            {code: group.id for code, group in zip(codes, groups, strict=True)},
            members=members,
        )
        await harness.settle()

        sim.enforce_rate_limits = True
        refused, violations = sim.stats.too_many_requests, sim.stats.limit_violations
        sends = CallWatch(sim, SENDS)
        alerted = {user_id for code in ROUTED for user_id in members[code]}
        filed = sim.clock()
        await harness.services.incidents.submit(
            NewIncident(
                kind=IncidentType.FOREST_FIRE,
                location=Location(-2.21, 113.92, None),
                description="Kebakaran lahan gambut di Jl. Tjilik Riwut km 12, api mendekati rumah",
                source=Source.CALL,
            )
        )
        await sim.wait_for(
            lambda: alerted <= {chat_of(c) for c in sends.scan()},
            timeout=60,
            what="every on-duty member's alert",
        )
        await harness.settle(60)
        refused = sim.stats.too_many_requests - refused
        violations = sim.stats.limit_violations - violations
    calls = [c for c in sends.found if c.method != "editMessageText"]
    last_alert = max(c.at for c in calls if chat_of(c) in alerted)
    interval = [c for c in sends.found if filed <= c.at <= last_alert]
    total = len(interval)
    windows = math.ceil(total / GLOBAL_PER_SECOND)
    first = min(c.at for c in interval)
    took = last_alert - first + 1.0
    cards = sum(1 for c in calls if chat_of(c) in {g.id for g in groups[: len(ROUTED)]})
    note = f"({len(ROUTED)} of {agencies} agencies × {per_agency} on duty, {total} sends)"
    return [
        row(
            f"on-duty alerts: first send to the last alert + 1 s (baseline: what the limits force) "
            f"{note}",
            took,
            "s",
            target="ratio <= 1.1",
            baseline=float(windows),
        ),
        row("on-duty alerts: private alerts sent", len(alerted), "count"),
        row("on-duty alerts: group cards and pins sent", cards, "count"),
        row("on-duty alerts: 429 answers", refused, "count", target="== 0"),
        row(
            "on-duty alerts: limit violations seen by the simulator",
            violations,
            "count",
            target="== 0",
        ),
    ]


if __name__ == "__main__":
    main(__doc__ or "", measure)
