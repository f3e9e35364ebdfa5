"""The bot's web server: started and stopped with the bot, on a free port in tests, and its
liveness check `/healthz` (200 when every part runs, 503 naming the part that does not)."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from bot.simulator import TelegramSimulator
from bot.web.server import WebServer
from tests.harness import BotHarness


async def get(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_healthz_answers_ok_while_every_part_runs(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    app = await harness.start()
    address = app.bot_data.web_address
    assert address is not None and not address.endswith(":0")
    status, body = await get(f"{address}/healthz")
    assert status == 200
    assert body == {
        "status": "ok",
        "checks": {"database": True, "event_loop": True, "updates": True, "outbox": True},
    }


async def test_healthz_fails_naming_the_part_that_stopped(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    app = await harness.start()
    services = harness.services
    await services.outbox.stop()
    try:
        status, body = await get(f"{app.bot_data.web_address}/healthz")
    finally:
        services.outbox.start()
    assert status == 503
    assert body == {"status": "fail", "checks": {"outbox": False}}
    status, _ = await get(f"{app.bot_data.web_address}/healthz")
    assert status == 200  # running again


async def test_the_server_stops_with_the_bot_and_can_be_turned_off(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    app = await harness.start()
    address = app.bot_data.web_address
    assert address is not None
    await harness.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"{address}/healthz")
    app = await harness.start(web_enabled=False)
    assert app.bot_data.web_address is None


async def test_a_port_taken_leaves_the_bot_running_without_the_server(
    sim: TelegramSimulator, harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = await harness.start()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(app, host="127.0.0.1", port=port)
        assert not await server.start()
    assert "cannot listen" in caplog.text
    await server.stop()  # nothing to stop: harmless
    status, _ = await get(f"{app.bot_data.web_address}/healthz")
    assert status == 200
