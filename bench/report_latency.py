"""Figure 2, report-to-card latency: from the reporter's press of ✅ Kirim laporan to the incident
card arriving at the simulator in every routed agency's chat (fire: Damkar and Relawan), with
pacing off and 1,000 incidents already open. The reporter goes through /lapor as a person would;
only the submit press is timed. Times are the simulator's monotonic clock at the press and at
the card's sendMessage."""

from __future__ import annotations

from typing import Any

from bench.common import CallWatch, Row, add_incidents, chat_of, main, percentile, row
from bench.common import simulator_and_bot as started_simulator
from bot.simulator import SimUser, TelegramSimulator
from models.agencies import Agency
from tests.harness import BotHarness
from tests.scenario import City, build_city

SENDS = frozenset({"sendMessage"})


async def review(sim: TelegramSimulator, harness: BotHarness, reporter: SimUser) -> None:
    """Fill in a fire report up to the review, as `tests.scenario.report` does."""
    chat = sim.private_chat(reporter)
    await harness.says(reporter, "/lapor")
    question = sim.bot_messages(chat)[-1]
    await sim.press_button(reporter, question, text="🔥 Kebakaran")
    await sim.wait_for(lambda: sim.bot_messages(chat)[-1] is not question, what="location question")
    before = len(sim.bot_messages(chat))
    await sim.send_location(reporter, -2.2100, 113.9200)
    await sim.wait_for(lambda: len(sim.bot_messages(chat)) > before, what="description question")
    await harness.says(reporter, "Rumah kayu terbakar, api besar, asap hitam")
    await sim.press_button(reporter, sim.bot_messages(chat)[-1], text="Tidak ada")
    await sim.wait_for(lambda: "nomor" in (sim.bot_messages(chat)[-1].text or ""), what="contact")
    before = len(sim.bot_messages(chat))
    await sim.send_message(reporter, "Lewati")
    await sim.wait_for(lambda: len(sim.bot_messages(chat)) > before, what="the review")


async def submit_to_cards(city: City, reporter: SimUser) -> float:
    """Press submit; seconds until the card reached every routed agency's chat."""
    sim, harness = city.sim, city.harness
    chat = sim.private_chat(reporter)
    await review(sim, harness, reporter)
    summary = sim.bot_messages(chat)[-1]
    assert (summary.text or "").startswith("Periksa laporan Anda"), summary.text
    await harness.settle()
    groups = {city.groups["damkar"].id, city.groups["relawan"].id}
    cards = CallWatch(sim, SENDS)
    pressed = sim.clock()
    await sim.press_button(reporter, summary, text="✅ Kirim laporan")

    def arrived() -> bool:
        return groups <= {chat_of(call) for call in cards.scan()}

    await sim.wait_for(arrived, timeout=10, what="the cards")
    last = max(call.at for call in cards.found if chat_of(call) in groups)
    await harness.settle()
    return last - pressed


async def measure(smoke: bool) -> list[Row]:
    reports, already_open = (5, 50) if smoke else (100, 1000)
    async with started_simulator() as (sim, harness):
        settings: dict[str, Any] = {"outbox_pacing": False, "report_limit_count": 100}
        city = await build_city(sim, harness, **settings)
        agencies = [a for a in await _agencies(harness) if a.code in ("damkar", "relawan")]
        await add_incidents(harness.services.store, already_open, agencies, open_count=already_open)
        await harness.restart(
            **settings
        )  # the scheduler rebuilds the open incidents' reminder jobs
        latencies: list[float] = []
        reporter = None
        for n in range(reports):
            if n % 50 == 0:  # a person may submit REPORT_LIMIT_COUNT reports per window
                reporter = sim.add_user(f"Warga {n}", language_code="id")
                await harness.says(reporter, "/start")
                await harness.settle()
            assert reporter is not None
            latencies.append(await submit_to_cards(city, reporter))
    ms = [s * 1000 for s in latencies]
    note = f"({reports} reports, {already_open} open)"
    return [
        row(f"report-to-card latency p50 {note}", percentile(ms, 50), "ms", target="<= 20"),
        row(f"report-to-card latency p99 {note}", percentile(ms, 99), "ms", target="<= 100"),
    ]


async def _agencies(harness: BotHarness) -> list[Agency]:
    async with harness.services.store.read() as tx:
        return await tx.active_agencies()


if __name__ == "__main__":
    main(__doc__ or "", measure)
