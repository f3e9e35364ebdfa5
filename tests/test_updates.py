"""Durable update handling: confirmed only after handling, replays change nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from telegram import Message, Update

from bot.simulator import TelegramSimulator
from bot.store import Store
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


async def test_a_press_is_recorded_as_handled_in_the_commit_of_its_acknowledgement(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    number = await report(city, reporter)
    rudi = city.crews["damkar"][0]
    store = harness.services.store
    issued_before = len(sim.issued_updates)
    seen: list[tuple[int, bool]] = []  # after each commit: acknowledgements, press recorded
    transaction = store.transaction

    @contextlib.asynccontextmanager
    async def watched() -> AsyncIterator[Any]:
        async with transaction() as tx:
            yield tx
        press = [u["update_id"] for u in sim.issued_updates[issued_before:]]
        async with store.read() as tx:
            recorded = bool(press) and await tx.update_handled(press[0])
            seen.append((await tx.count_events(number, EventKind.ACKNOWLEDGED), recorded))

    store.transaction = watched  # type: ignore[method-assign]
    press = await sim.press_button(rudi, city.card("damkar", number), text="✅ Terima")
    await sim.wait_for(lambda: press.answered, what="the press answered")
    await harness.settle()
    store.transaction = transaction  # type: ignore[method-assign]
    # No commit left the acknowledgement without the record of its press, or the other way.
    assert seen[-1] == (1, True)
    assert all(acks == int(recorded) for acks, recorded in seen)


async def test_only_the_marked_transaction_of_the_handling_task_records_the_update(
    tmp_path: Path,
) -> None:
    async with Store(tmp_path / "u.db") as store:

        async def writes() -> None:
            async with store.transaction():
                pass

        with store.handling_update(7) as hand:
            await writes()  # an earlier write of the update (e.g. remembering the person)
            assert not hand.recorded
            with store.completes_update():
                await asyncio.create_task(writes())  # another task: not the update's
                assert not hand.recorded
                with contextlib.suppress(RuntimeError):
                    async with store.transaction():
                        raise RuntimeError("rolled back")
                assert not hand.recorded
                await writes()
                assert hand.recorded
        async with store.read() as tx:
            assert await tx.update_handled(7)
        with store.completes_update():  # outside handling_update: records nothing
            await writes()
        async with store.read() as tx:
            assert await tx.last_handled_update() == 7


async def test_a_batch_learns_which_of_its_updates_were_handled_in_one_lookup(
    tmp_path: Path,
) -> None:
    async with Store(tmp_path / "u.db") as store:
        async with store.transaction() as tx:
            await tx.record_update(3, store.clock.now())
            await tx.record_update(5, store.clock.now())
        async with store.lookup() as tx:
            assert await tx.handled_updates([2, 3, 4, 5]) == {3, 5}
            assert await tx.handled_updates([]) == set()


async def test_a_press_is_read_without_its_message_s_formatting_and_buttons(
    sim: TelegramSimulator, harness: BotHarness, monkeypatch: Any
) -> None:
    """The card's entities and keyboard are not parsed (the press is checked against the bot's
    own record of the card); the press still works, and the update as received is unchanged."""
    city = await build_city(sim, harness)
    reporter = sim.add_user("Ani", language_code="id")
    await harness.says(reporter, "/start")
    number = await report(city, reporter)
    app = harness.app
    assert app is not None
    seen: list[Update] = []
    process = app.process_update

    async def watched(update: object) -> None:
        if isinstance(update, Update) and update.callback_query is not None:
            seen.append(update)
        await process(update)

    monkeypatch.setattr(app, "process_update", watched)
    press = await sim.press_button(
        city.crews["damkar"][0], city.card("damkar", number), "✅ Terima"
    )
    await sim.wait_for(lambda: press.answered, what="the press answered")
    await harness.settle()
    update = seen[-1]
    raw = next(u for u in sim.issued_updates if u["update_id"] == update.update_id)
    raw = raw["callback_query"]
    assert {"entities", "reply_markup"} <= raw["message"].keys(), "Telegram sent them"
    message = update.callback_query.message if update.callback_query else None
    assert isinstance(message, Message)
    assert message.entities == () and message.reply_markup is None
    assert (
        message.text == raw["message"]["text"] and message.chat.id == raw["message"]["chat"]["id"]
    )
    async with harness.services.store.read() as tx:
        assert await tx.count_events(number, EventKind.ACKNOWLEDGED) == 1
