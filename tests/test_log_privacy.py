"""Logs at INFO and above carry ids and numbers, never people's names, usernames, phone
numbers or what they wrote — also when Telegram fails and when a handler fails."""

from __future__ import annotations

import logging

import pytest

from bot.simulator import TelegramSimulator
from tests.harness import BotHarness
from tests.scenario import build_city, report

SECRET_WORDS = ("Wulandari", "ani_wula", "5555", "Sumiati", "Mawar")


async def test_a_whole_call_with_failures_leaves_no_personal_data_in_the_log(
    sim: TelegramSimulator,
    harness: BotHarness,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    city = await build_city(sim, harness)
    ani = sim.add_user("Ani", last_name="Wulandari", username="ani_wula", language_code="id")
    await harness.says(ani, "/start")
    fire = await report(
        city, ani, description="Rumah Bu Sumiati terbakar di Gang Mawar, api besar sekali"
    )
    # Telegram answers 502 to the card edits after an acknowledgement, then refuses one
    # outright (400): the outbox retries, then parks. (The press is answered directly first.)
    outbox = harness.services.outbox
    await outbox.stop()
    await sim.press_button(city.crews["damkar"][0], city.card("damkar", fire), text="✅ Terima")
    await harness.handled()
    sim.faults.fail_next(2, status=502)
    outbox.start()
    await harness.settle()
    await outbox.stop()
    await sim.press_button(city.crews["relawan"][0], city.card("relawan", fire), text="✅ Terima")
    await harness.handled()
    sim.expect_refusal("Bad Request")
    sim.faults.fail_next(1, status=400)
    outbox.start()
    await harness.settle()
    assert "Telegram refused outbox" in caplog.text

    # A handler fails outright while answering the reporter's /kejadian.
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store is on fire")

    monkeypatch.setattr(harness.services.incidents, "events", broken)
    await harness.says(ani, f"/kejadian {fire}")
    await harness.settle()
    assert "the store is on fire" in caplog.text  # the failure is there, with its traceback
    assert "unhandled error while handling update" in caplog.text
    leaks = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO
        and any(word.lower() in record.getMessage().lower() for word in SECRET_WORDS)
    ]
    assert leaks == []
    tracebacks = caplog.text.lower()
    assert not [word for word in SECRET_WORDS if word.lower() in tracebacks]
