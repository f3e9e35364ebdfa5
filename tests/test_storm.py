"""A storm of incidents for one agency: nothing lost, no 429, the cards current at the end.

The group limit is raised on both sides (the simulator and the bot) so the test runs in seconds;
`make bench` runs the storm at Telegram's real 20 messages per minute."""

from __future__ import annotations

import time

from bot.simulator import TelegramSimulator
from bot.simulator.limits import RateLimits
from tests.harness import BotHarness
from tests.scenario import build_city

PER_MINUTE = 120  # six times Telegram's group limit, on both sides, so the test takes seconds
STORM = 12


async def test_a_storm_for_one_agency_arrives_whole_and_within_the_limits(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    sim.limiter.limits = RateLimits(group_per_minute=PER_MINUTE)
    city = await build_city(sim, harness, outbox_pacing=True, outbox_group_per_minute=PER_MINUTE)
    sim.enforce_rate_limits = True
    started = time.monotonic()
    for i in range(STORM):
        await harness.says(
            city.dispatcher, f"/baru medis | Jl. Badak nomor {i} dekat pasar | pingsan nomor {i}"
        )
        # The confirmation, then the management card the dispatcher acts on.
        await sim.wait_for(
            lambda: any(
                "dicatat" in (m.text or "")
                for m in sim.bot_messages(sim.private_chat(city.dispatcher))[-2:]
            ),
            what=f"call {i} filed",
        )
    dinkes = city.groups["dinkes"]
    await sim.wait_for(lambda: len(city.cards("dinkes")) >= STORM, timeout=60, what="every card")
    await harness.settle(timeout=60)
    elapsed = time.monotonic() - started
    cards = city.cards("dinkes")
    numbers = sorted(int((c.text or "").split("#", 1)[1].split(" ", 1)[0]) for c in cards)
    assert numbers == sorted(set(numbers)), "one card per incident"
    assert len(numbers) == STORM
    assert sim.stats.too_many_requests == 0
    assert sim.stats.limit_violations == 0
    # Press Acknowledge on every card: every card is current afterwards.
    member = city.crews["dinkes"][0]
    for card in cards:
        press = await sim.press_button(member, card, text="✅ Terima")
        await sim.wait_for(lambda p=press: p.answered, what="acknowledged")
    await harness.settle(timeout=60)
    assert all("diterima oleh Dewi" in (c.text or "") for c in city.cards("dinkes"))
    assert sim.stats.limit_violations == 0
    print(f"\nstorm: {STORM} incidents to {dinkes.title}: all cards in {elapsed:.1f} s, 0 x 429")
