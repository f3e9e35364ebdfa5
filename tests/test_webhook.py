"""Webhook mode: the real bot behind its own HTTP server, with the test posting as Telegram would.

People act in the simulator as usual; with the webhook set the simulator only queues their
updates, and the test delivers them to the bot's server with aiohttp, secret header and all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Bot

from bot.app import build_application
from bot.context import App
from bot.runtime.updates import ALLOWED_UPDATES, ensure_polling
from bot.runtime.webhook import SECRET_HEADER, WebhookServer, running_webhook
from bot.settings import ConfigError, Settings, load_settings
from bot.settle import Settler
from bot.simulator import SimUser, TelegramSimulator
from tests.harness import BotHarness

SECRET = "s3cret_-Token" + "x" * 20
URL = "https://siaga112.example.org/telegram"
WEBHOOK_VALUES: dict[str, Any] = {
    "webhook_url": URL,
    "webhook_secret_token": SECRET,
    "webhook_port": 0,  # the OS picks a free port; the server tells which
}


@dataclass
class WebhookBot:
    """The running bot in webhook mode and a client that plays Telegram's side of it."""

    sim: TelegramSimulator
    app: App
    server: WebhookServer
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/telegram"

    async def deliver(
        self, update: dict[str, Any] | bytes, secret: str | None = SECRET, method: str = "POST"
    ) -> int:
        """Post one update as Telegram does; the HTTP status the bot answered."""
        headers = {} if secret is None else {SECRET_HEADER: secret}
        if isinstance(update, bytes):
            body, headers["Content-Type"] = update, "application/json"
            request = self.http.request(method, self.url, data=body, headers=headers)
        else:
            request = self.http.request(method, self.url, json=update, headers=headers)
        async with request as response:
            return response.status

    async def says(self, user: SimUser, text: str) -> dict[str, Any]:
        """`user` writes to the bot; the update Telegram now has to deliver."""
        await self.sim.send_message(user, text)
        return self.sim.issued_updates[-1]

    async def handled(self, update: dict[str, Any]) -> bool:
        async with self.app.bot_data.services.store.read() as tx:
            return await tx.update_handled(update["update_id"])

    def sent(self) -> int:
        return sum(1 for call in self.sim.calls if call.method == "sendMessage")


def webhook_settings(sim: TelegramSimulator, workdir: Path, **overrides: Any) -> Settings:
    return BotHarness(sim, workdir).make_settings(**{**WEBHOOK_VALUES, **overrides})


@pytest.fixture
async def bot(sim: TelegramSimulator, tmp_path: Path) -> AsyncIterator[WebhookBot]:
    app = build_application(webhook_settings(sim, tmp_path))
    settler = Settler(sim)
    settler.attach(app)
    async with (
        running_webhook(app, app.bot_data.services.settings) as server,
        aiohttp.ClientSession() as http,
    ):
        yield WebhookBot(sim, app, server, http)


async def test_webhook_is_registered_with_the_url_and_secret(
    sim: TelegramSimulator, bot: WebhookBot
) -> None:
    (call,) = [call for call in sim.calls if call.method == "setWebhook"]
    assert call.params["url"] == URL
    assert call.params["secret_token"] == SECRET
    assert call.params.get("drop_pending_updates") in (None, False, "false")
    # The same set the poller asks for: chat_member is not in Telegram's default set.
    assert call.params["allowed_updates"] == ALLOWED_UPDATES
    assert sim.webhook_url == URL
    assert not [call for call in sim.calls if call.method == "getUpdates"]


async def test_a_delivered_start_is_answered_in_the_chat(
    sim: TelegramSimulator, bot: WebhookBot
) -> None:
    sari = sim.add_user("Sari", language_code="id")
    update = await bot.says(sari, "/start")
    assert await bot.deliver(update) == 200
    assert await bot.handled(update), "200 only after the update's record was committed"
    answer = await sim.wait_for_bot_message(sim.private_chat(sari))
    assert "/lapor" in answer.visible_text


@pytest.mark.parametrize("secret", ["wrong", None, SECRET + "x", SECRET[:-1]])
async def test_a_request_without_the_right_secret_is_refused_and_changes_nothing(
    sim: TelegramSimulator, bot: WebhookBot, secret: str | None
) -> None:
    sari = sim.add_user("Sari", language_code="id")
    update = await bot.says(sari, "/start")
    sent = bot.sent()
    assert await bot.deliver(update, secret=secret) == 403
    assert not await bot.handled(update)
    assert bot.sent() == sent
    assert sim.bot_messages(sim.private_chat(sari)) == []


async def test_the_same_update_delivered_twice_is_handled_once(
    sim: TelegramSimulator, bot: WebhookBot
) -> None:
    sari = sim.add_user("Sari", language_code="id")
    update = await bot.says(sari, "/start")
    assert await bot.deliver(update) == 200
    await sim.wait_for_bot_message(sim.private_chat(sari))
    await bot.app.bot_data.services.outbox.idle.wait()
    answers = len(sim.bot_messages(sim.private_chat(sari)))
    # Telegram resends an update whose 200 it never saw (e.g. the bot died before answering).
    assert await bot.deliver(update) == 200
    await bot.app.bot_data.services.outbox.idle.wait()
    assert (bot.server.processor.handled, bot.server.processor.skipped) == (1, 1)
    assert len(sim.bot_messages(sim.private_chat(sari))) == answers


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    bot: WebhookBot, body: bytes
) -> None:
    assert await bot.deliver(body) == 400
    assert bot.server.processor.handled == 0


async def test_other_methods_and_oversized_bodies_are_refused(bot: WebhookBot) -> None:
    assert await bot.deliver({}, method="GET") == 405
    assert await bot.deliver(b"{" + b" " * (1024 * 1024) + b"}") == 413
    assert await bot.deliver({}, secret=None, method="GET") == 403  # the secret comes first


async def test_a_failure_answers_500_so_telegram_delivers_again(
    sim: TelegramSimulator, bot: WebhookBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    sari = sim.add_user("Sari", language_code="id")
    update = await bot.says(sari, "/start")
    handle = bot.server.processor.handle

    async def store_down(data: dict[str, Any]) -> bool:
        raise OSError("disk I/O error")

    monkeypatch.setattr(bot.server.processor, "handle", store_down)
    assert await bot.deliver(update) == 500
    monkeypatch.setattr(bot.server.processor, "handle", handle)
    assert await bot.deliver(update) == 200
    await sim.wait_for_bot_message(sim.private_chat(sari))


async def test_stopping_keeps_the_webhook_and_ensure_polling_removes_it(
    sim: TelegramSimulator, tmp_path: Path
) -> None:
    app = build_application(webhook_settings(sim, tmp_path))
    async with running_webhook(app, app.bot_data.services.settings):
        pass
    assert sim.webhook_url == URL, "Telegram keeps queueing for us while we restart"
    sari = sim.add_user("Sari", language_code="id")
    await sim.send_message(sari, "/start")  # arrives while the bot is down
    async with Bot(sim.token, base_url=sim.bot_base_url) as plain_bot:
        await ensure_polling(plain_bot)
        (call,) = [call for call in sim.calls if call.method == "deleteWebhook"]
        assert call.params.get("drop_pending_updates") in (None, False, "false")
        assert sim.webhook_url == ""
        assert sim.updates_pending == 1, "what queued up is still there for the poller"
        assert len(await plain_bot.get_updates()) == 1


async def test_webhook_mode_without_a_secret_stops_with_a_clear_message(
    sim: TelegramSimulator, tmp_path: Path
) -> None:
    app = build_application(webhook_settings(sim, tmp_path, webhook_secret_token=" "))
    with pytest.raises(ConfigError) as caught:
        async with running_webhook(app, app.bot_data.services.settings):
            pass
    message = str(caught.value)
    assert "WEBHOOK_SECRET_TOKEN" in message
    assert "WEBHOOK_URL" not in message.split(".")[0], "only what is missing is named first"
    assert "\n" not in message
    assert not sim.calls, "nothing was started"


@pytest.mark.parametrize(
    ("overrides", "mentions"),
    [
        ({"webhook_url": "http://siaga112.example.org/telegram"}, "WEBHOOK_URL"),
        ({"webhook_url": "https://siaga112.example.org/telegram?x=1"}, "WEBHOOK_URL"),
        ({"webhook_url": "https://siaga112.example.org:8080/telegram"}, "WEBHOOK_URL"),
        ({"webhook_path": "telegram"}, "WEBHOOK_PATH"),
        ({"webhook_port": 70000}, "WEBHOOK_PORT"),
        ({"webhook_secret_token": "has spaces and ümlauts"}, "WEBHOOK_SECRET_TOKEN"),
        ({"webhook_secret_token": "x" * 257}, "WEBHOOK_SECRET_TOKEN"),
    ],
)
def test_invalid_webhook_settings_name_the_setting(
    overrides: dict[str, Any], mentions: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{**WEBHOOK_VALUES, **overrides})
    message = str(caught.value)
    assert mentions in message
    assert "has spaces" not in message, "the secret is never echoed"


def test_the_secret_is_never_shown() -> None:
    settings = load_settings(_env_file=None, **WEBHOOK_VALUES)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())
    assert settings.require_webhook() == (URL, SECRET)


async def test_webhook_mode_answers_on_the_web_server_by_default(
    sim: TelegramSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without WEBHOOK_LISTEN and WEBHOOK_PORT, Telegram's posts arrive at the web server's
    port, at WEBHOOK_PATH, beside /healthz; nothing else listens."""
    values = {k: v for k, v in WEBHOOK_VALUES.items() if k != "webhook_port"}
    settings = BotHarness(sim, tmp_path).make_settings(**values)
    assert not settings.separate_webhook_server
    app = build_application(settings)
    settler = Settler(sim)
    settler.attach(app)
    async with running_webhook(app, settings) as server, aiohttp.ClientSession() as http:
        assert server.port == app.bot_data.web_port
        bot = WebhookBot(sim, app, server, http)
        person = sim.add_user("Ani", language_code="id")
        update = await bot.says(person, "/start")
        assert await bot.deliver(update) == 200
        assert await bot.handled(update)
        assert await bot.deliver(update, secret="wrong") == 403
        async with http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["checks"]["updates"] is True
    assert "deprecated" not in caplog.text


async def test_webhook_listen_and_port_keep_a_separate_server_with_a_deprecation_line(
    sim: TelegramSimulator, bot: WebhookBot, caplog: pytest.LogCaptureFixture
) -> None:
    assert bot.server.port != bot.app.bot_data.web_port
    said = " ".join(record.getMessage() for record in caplog.get_records("setup"))
    assert "WEBHOOK_LISTEN and WEBHOOK_PORT are deprecated" in said
