"""Figure: a reporter's answer reaching every routed chat — from the reporter's message with the
answer to the last "💬 Jawaban pelapor" reply arriving at the simulator in every chat the
incident was posted to (a fire: Damkar and Relawan), with pacing off and 1,000 incidents already
open. Each round, Damkar asks one of the reporter's incidents a one-tap question (through the
service, untimed) and the reporter types the answer; only the answer is timed. Times are the
simulator's monotonic clock at the reporter's message and at the replies' sendMessage."""

from __future__ import annotations

from typing import Any

from bench.common import CallWatch, Row, add_incidents, chat_of, main, percentile, row
from bench.common import simulator_and_bot as started_simulator
from bot.services.incidents import NewIncident
from models.agencies import Agency
from models.incident_types import IncidentType
from models.incidents import Location, Source
from tests.harness import BotHarness
from tests.scenario import City, build_city

SENDS = frozenset({"sendMessage"})
ANSWERED = "Jawaban pelapor"


async def answer_to_chats(city: City, incident_id: int, round_: int) -> float:
    """Damkar asks about `incident_id`; seconds from the reporter's answer to its replies in
    every routed chat."""
    sim, harness = city.sim, city.harness
    services = harness.services
    reporter = sim.users()[-1]
    chat = sim.private_chat(reporter)
    rudi = city.crews["damkar"][0]
    damkar = await _agency(harness, "damkar")
    asked = len(sim.bot_messages(chat))
    async with services.store.transaction() as tx:
        done = await services.info.ask_in(
            tx,
            incident_id,
            damkar.id,
            rudi.id,
            services.clock.now(),
            question_key="people_inside",
        )
    assert done.ok, done.outcome
    await sim.wait_for(lambda: len(sim.bot_messages(chat)) > asked, what="the question")
    await harness.settle()
    groups = {city.groups["damkar"].id, city.groups["relawan"].id}
    replies = CallWatch(sim, SENDS)

    def arrived() -> bool:
        return groups <= {
            chat_of(call) for call in replies.scan() if ANSWERED in str(call.params.get("text", ""))
        }

    sent = sim.clock()
    await sim.send_message(reporter, f"Ya, dua orang di lantai dua (jawaban {round_})")
    await sim.wait_for(arrived, timeout=10, what="the answer in every routed chat")
    last = max(
        call.at
        for call in replies.found
        if chat_of(call) in groups and ANSWERED in str(call.params.get("text", ""))
    )
    await harness.settle()
    return last - sent


async def measure(smoke: bool) -> list[Row]:
    rounds, already_open = (5, 50) if smoke else (100, 1000)
    async with started_simulator() as (sim, harness):
        settings: dict[str, Any] = {"outbox_pacing": False}
        city = await build_city(sim, harness, **settings)
        agencies = [a for a in await _agencies(harness) if a.code in ("damkar", "relawan")]
        await add_incidents(harness.services.store, already_open, agencies, open_count=already_open)
        await harness.restart(**settings)  # the scheduler rebuilds the open incidents' jobs
        reporter = sim.add_user("Ani", language_code="id")
        await harness.says(reporter, "/start")
        # The reporter's own incidents: one asked per round (one open question per asker and
        # a few per incident in ten minutes, so each round asks about another).
        ids = []
        for n in range(rounds):
            submitted = await harness.services.incidents.submit(
                NewIncident(
                    kind=IncidentType.FIRE,
                    location=Location(-2.21, 113.92, None),
                    description=f"Rumah kayu terbakar, nomor {n}",
                    source=Source.REPORT,
                    reporter_id=reporter.id,
                )
            )
            ids.append(submitted.incident_id)
        await harness.settle(60)
        latencies = [await answer_to_chats(city, number, n) for n, number in enumerate(ids)]
    ms = [s * 1000 for s in latencies]
    note = f"({rounds} answers, {already_open} open)"
    return [
        row(f"answer-to-chats latency p50 {note}", percentile(ms, 50), "ms", target="<= 20"),
        row(f"answer-to-chats latency p99 {note}", percentile(ms, 99), "ms", target="<= 100"),
    ]


async def _agencies(harness: BotHarness) -> list[Agency]:
    async with harness.services.store.read() as tx:
        return await tx.active_agencies()


async def _agency(harness: BotHarness, code: str) -> Agency:
    return next(a for a in await _agencies(harness) if a.code == code)


if __name__ == "__main__":
    main(__doc__ or "", measure)
