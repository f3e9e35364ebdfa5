"""Durable update handling: confirmed only after handling, replays change nothing."""

from __future__ import annotations

from bot.simulator import TelegramSimulator
from models.incidents import EventKind
from tests.harness import BotHarness
from tests.scenario import build_city, report


async def test_a_replayed_update_changes_nothing_and_is_not_answered_twice(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    number = await report(city, reporter)
    rudi = city.crews["damkar"][0]
    press = await sim.press_button(rudi, city.card("damkar", number), text="✅ Terima")
    await sim.wait_for(lambda: press.answered, what="the press answered")
    await harness.settle()
    # Telegram delivers the very same update again (same update_id), as after a crash.
    replayed = next(update for update in sim.issued_updates if "callback_query" in update)
    answers = sum(1 for call in sim.calls if call.method == "answerCallbackQuery")
    sim.inject_update(dict(replayed))
    # Confirmed by the bot's next getUpdates, which it sends only after handling the replay.
    await sim.wait_for(lambda: sim.updates_pending == 0, what="the replay confirmed")
    await harness.settle()
    assert sum(1 for call in sim.calls if call.method == "answerCallbackQuery") == answers
    async with harness.services.store.read() as tx:
        assert await tx.count_events(number, EventKind.ACKNOWLEDGED) == 1
        assert await tx.update_handled(replayed["update_id"])


async def test_updates_are_confirmed_only_after_they_were_handled(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = sim.add_user("Sari", language_code="id")
    await harness.says(sari, "/start")
    await harness.settle()
    offsets = [
        call.params.get("offset") for call in sim.calls if call.method == "getUpdates" and call.ok
    ]
    handled = sim.last_update_id
    assert handled is not None
    # Every offset the bot sent confirms only updates it had already recorded as handled.
    async with harness.services.store.read() as tx:
        for offset in offsets:
            if offset is not None:
                assert await tx.update_handled(int(offset) - 1)
