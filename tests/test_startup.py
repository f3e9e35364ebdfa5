"""Start-up without a network: the bot waits for Telegram instead of exiting with a traceback."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from bot.app import build_application
from bot.runtime.http import AiohttpRequest
from bot.runtime.running import StoppedBeforeStart, connect
from bot.simulator import TelegramSimulator
from tests.harness import BotHarness


async def test_the_bot_waits_for_telegram_and_starts_once_it_answers(
    sim: TelegramSimulator, harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.runtime.running")
    sim.faults.outage = True  # every request: the connection drops
    starting = asyncio.create_task(harness.start())
    await sim.wait_for(
        lambda: sum(call.method == "getMe" for call in sim.calls) >= 2,
        what="a second attempt to reach Telegram",
    )
    assert not starting.done()
    sim.faults.outage = False
    await asyncio.wait_for(starting, timeout=10)

    waiting = [r for r in caplog.records if "cannot reach Telegram" in r.getMessage()]
    assert len(waiting) >= 2 and all(r.levelno == logging.WARNING for r in waiting)
    assert all(r.exc_info is None for r in waiting), "one line per attempt, no traceback"
    assert "attempt 1" in waiting[0].getMessage() and "attempt 2" in waiting[1].getMessage()
    assert sim.token not in caplog.text
    connected = [r for r in caplog.records if r.getMessage().startswith("connected to Telegram")]
    assert len(connected) == 1
    sari = sim.add_user("Sari", language_code="id")
    answer = await harness.says(sari, "/start")
    assert (answer.text or "").startswith("Halo, Sari!")


async def test_asked_to_stop_while_waiting_it_stops_without_starting(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    app = build_application(harness.make_settings())
    sim.faults.outage = True
    stop = asyncio.Event()
    waiting = asyncio.create_task(connect(app.bot, stop))
    await sim.wait_for(lambda: any(call.method == "getMe" for call in sim.calls), what="a try")
    stop.set()
    with pytest.raises(StoppedBeforeStart):
        await asyncio.wait_for(waiting, timeout=10)
    # The connections its attempts opened are closed on the way out.
    requests = app.bot._request  # (getUpdates, everything else)
    assert all(isinstance(r, AiohttpRequest) and not r.open for r in requests)


async def test_what_lives_as_long_as_the_bot_is_left_out_of_full_collections(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """Once up, the bot moves what exists (modules, application, services) out of the cyclic
    collector's full passes, and gives it back when it stops."""
    await harness.start()
    assert gc.get_freeze_count() > 10_000, "the modules and the application are frozen"
    await harness.stop()
    assert gc.get_freeze_count() == 0
