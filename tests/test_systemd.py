"""Under systemd: ready once the local parts run, before Telegram is reached; the watchdog pinged
from the event loop, also while waiting for the network; stopping said when the stop begins.

The test plays systemd: a datagram socket whose path is in NOTIFY_SOCKET, as systemd passes it
to a `Type=notify` service, with WATCHDOG_USEC of 0.2 s (a ping every 0.1 s).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import build_application
from bot.context import App
from bot.runtime.running import serve
from bot.runtime.systemd import Notifier
from bot.runtime.webhook import SECRET_HEADER, serve_webhook
from bot.settings import Settings, load_settings
from bot.simulator import TelegramSimulator
from tests.harness import BotHarness

TOKEN = "123456:" + "A" * 35  # the shape of a token; no Telegram ever sees it
WATCHDOG_USEC = "200000"
TIMEOUT = 10.0
SECRET = "s3cret_-Token" + "x" * 20
URL = "https://siaga112.example.org/telegram"


class FakeSystemd:
    """systemd's end of the notify socket: what the bot said, in order. It reads as systemd
    does, as soon as a message arrives, so the socket's queue never fills up."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.said: list[dict[str, str]] = []
        self._seen = 0  # how many of `said` `next` has handed out
        self._arrived = asyncio.Event()
        asyncio.get_running_loop().add_reader(sock, self._receive)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.sock)

    def _receive(self) -> None:
        with suppress(BlockingIOError):
            while True:
                data = self.sock.recv(4096)
                # `READY=1\nSTATUS=…` → {"READY": "1", "STATUS": …}
                self.said.append(dict(line.split("=", 1) for line in data.decode().splitlines()))
        self._arrived.set()

    async def next(self) -> dict[str, str]:
        """The next message, waiting for it if none came yet."""
        while self._seen == len(self.said):
            self._arrived.clear()
            await self._arrived.wait()
        self._seen += 1
        return self.said[self._seen - 1]

    async def until(self, wanted: Callable[[dict[str, str]], bool], what: str) -> dict[str, str]:
        """Read on until a message is `wanted`; the earlier ones stay in `said`."""
        try:
            async with asyncio.timeout(TIMEOUT):
                while not wanted(message := await self.next()):
                    pass
        except TimeoutError:
            raise AssertionError(f"systemd was never told {what}; it heard {self.said}") from None
        return message

    async def pings(self, count: int) -> None:
        """Read on until `count` more watchdog pings arrived."""
        for _ in range(count):
            await self.until(lambda message: message == {"WATCHDOG": "1"}, "WATCHDOG=1")

    def index(self, wanted: Callable[[dict[str, str]], bool]) -> int:
        found = [i for i, message in enumerate(self.said) if wanted(message)]
        assert found, f"not among {self.said}"
        return found[0]


def ready(message: dict[str, str]) -> bool:
    return message.get("READY") == "1"


def stopping(message: dict[str, str]) -> bool:
    return message.get("STOPPING") == "1"


def status(text: str) -> Callable[[dict[str, str]], bool]:
    return lambda message: text in message.get("STATUS", "")


def bound_socket(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.setblocking(False)
    return sock


@pytest.fixture
async def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSystemd]:
    path = tmp_path / "notify"
    with bound_socket(str(path)) as sock:
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.setenv("WATCHDOG_USEC", WATCHDOG_USEC)
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        fake = FakeSystemd(sock)
        yield fake
        fake.close()


def closed_port() -> int:
    """A local port nothing listens on: Telegram, as seen from a host without network."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_without_telegram(workdir: Path) -> Settings:
    return load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=f"http://127.0.0.1:{closed_port()}",
        database_path=workdir / "siaga112.db",
        digest_enabled=False,
        membership_check_at_start=False,
        web_port=0,
    )


async def healthz(app: App) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{app.bot_data.web_address}/healthz") as response,
    ):
        return response.status, await response.json()


async def stopped(serving: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    await asyncio.wait_for(serving, timeout=TIMEOUT)


async def test_a_boot_without_network_is_ready_answers_health_and_keeps_the_watchdog_fed(
    systemd: FakeSystemd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The host came up without network: systemd hears READY once the database, the scheduler
    and the web server run, /healthz answers (honestly: no updates arrive yet), the watchdog
    pings keep coming while the bot waits for Telegram, and SIGTERM ends it cleanly."""
    caplog.set_level(logging.INFO)
    app = build_application(settings_without_telegram(tmp_path))
    services = app.bot_data.services
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, stop=stop))

    told = await systemd.until(ready, "READY=1")
    assert told["STATUS"] == "waiting for Telegram"
    code, body = await healthz(app)
    assert code == 503
    assert body["checks"]["updates"] is False and body["checks"]["outbox"] is False
    assert "database" not in body["checks"], "the database is open and takes writes"
    assert app.job_queue is not None and app.job_queue.scheduler.running
    assert app.job_queue.jobs(), "the reminders' sweep and the other jobs are scheduled"
    await systemd.until(status("waiting for Telegram (attempt 1)"), "the attempt")
    await systemd.pings(3)
    assert not serving.done() and not app.running

    await stopped(serving, stop)
    await systemd.until(stopping, "STOPPING=1")
    # Everything local stopped and closed: nothing left running, nothing complained.
    assert not app.job_queue.scheduler.running
    with pytest.raises(RuntimeError):
        services.store.db  # noqa: B018 - the store is closed
    with pytest.raises(aiohttp.ClientConnectionError):
        await healthz(app)
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []
    complaints = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and not record.getMessage().startswith("cannot reach Telegram")
    ]
    assert complaints == []
    assert "stopped before Telegram could be reached" in caplog.text


async def test_ready_comes_before_telegram_answers_then_the_status_names_the_bot(
    sim: TelegramSimulator, systemd: FakeSystemd, tmp_path: Path
) -> None:
    """Telegram is down at first: READY anyway; once it answers, the bot runs and the status
    says as whom, the pings go on, and stopping is said before the bot stops."""
    app = build_application(BotHarness(sim, tmp_path).make_settings())
    sim.faults.outage = True
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, stop=stop))
    await systemd.until(ready, "READY=1")
    await systemd.until(status("waiting for Telegram (attempt 1)"), "the failed attempt")
    sim.faults.outage = False

    await systemd.until(status("running as @siaga112_bot"), "the bot's name")
    await systemd.pings(2)
    sari = sim.add_user("Sari", language_code="id")
    await sim.send_message(sari, "/start")
    answer = await sim.wait_for_bot_message(sim.private_chat(sari))
    assert answer.visible_text.startswith("Halo, Sari!")

    await stopped(serving, stop)
    await systemd.until(stopping, "STOPPING=1")
    assert ready(systemd.said[0]), "ready first, the watchdog's pings after it"
    order = [
        systemd.index(ready),
        systemd.index(status("waiting for Telegram (attempt 1)")),
        systemd.index(status("running as @siaga112_bot")),
        systemd.index(stopping),
    ]
    assert order == sorted(order)


async def test_no_pings_when_the_watchdog_is_meant_for_another_process(
    systemd: FakeSystemd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_PID", str(os.getppid()))  # e.g. a wrapper that started us
    app = build_application(settings_without_telegram(tmp_path))
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, stop=stop))
    await systemd.until(ready, "READY=1")
    # A second attempt comes a second later: five pings' time, had they been ours.
    await systemd.until(status("waiting for Telegram (attempt 2)"), "the second attempt")
    await stopped(serving, stop)
    await systemd.until(stopping, "STOPPING=1")
    assert {"WATCHDOG": "1"} not in systemd.said


async def test_an_abstract_socket_name_is_reached_with_its_leading_nul() -> None:
    name = f"siaga112-test-{uuid.uuid4().hex}"
    with bound_socket("\0" + name) as sock:
        fake = FakeSystemd(sock)
        notifier = Notifier.from_environ({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "200000"})
        notifier.ready("waiting for Telegram")
        assert await fake.next() == {"READY": "1", "STATUS": "waiting for Telegram"}
        async with notifier.watchdog():
            await fake.pings(2)
        notifier.status("two\nlines")  # one STATUS field, not a second assignment
        await fake.until(lambda message: "STATUS" in message, "the status")
        assert fake.said[-1] == {"STATUS": "two lines"}
        fake.close()


def test_without_notify_socket_nothing_is_sent_and_nothing_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_socket(*args: object) -> socket.socket:
        raise AssertionError("a socket was opened without NOTIFY_SOCKET")

    monkeypatch.setattr(socket, "socket", no_socket)  # for this synchronous test only
    notifier = Notifier.from_environ({"WATCHDOG_USEC": WATCHDOG_USEC})
    assert not notifier.enabled and notifier.watchdog_every is None
    notifier.ready("waiting for Telegram")
    notifier.status("running as @siaga112_bot")
    notifier.ping()
    notifier.stopping()


async def test_the_watchdog_task_ends_with_its_block_even_without_socket() -> None:
    notifier = Notifier.from_environ({})
    async with notifier.watchdog():
        pass
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []


def test_a_socket_that_cannot_be_reached_is_one_warning_and_never_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    notifier.ready("waiting for Telegram")
    notifier.status("waiting for Telegram (attempt 1)")
    notifier.ping()
    warnings = [r for r in caplog.records if r.name == "bot.runtime.systemd"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


@pytest.mark.parametrize(
    ("environ", "every"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),  # WatchdogSec=30: a ping every 15 s
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_interval_is_half_of_what_systemd_asks(
    environ: dict[str, str], every: float | None
) -> None:
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": "/run/systemd/notify", **environ})
    assert notifier.watchdog_every == every


async def test_webhook_requests_before_the_bot_started_are_answered_503(
    sim: TelegramSimulator, systemd: FakeSystemd, tmp_path: Path
) -> None:
    """Webhook mode: the web server listens while the bot still waits for Telegram, and the
    webhook of the previous run may already bring updates. They get 503 (Telegram delivers
    them again later) until the bot runs; then the same update is handled."""
    settings = BotHarness(sim, tmp_path).make_settings(webhook_url=URL, webhook_secret_token=SECRET)
    app = build_application(settings)
    sim.faults.outage = True
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_webhook(app, settings, stop=stop))
    await systemd.until(ready, "READY=1")
    sari = sim.add_user("Sari", language_code="id")
    await sim.send_message(sari, "/start")
    update = sim.issued_updates[-1]
    webhook = f"{app.bot_data.web_address}{settings.webhook_path}"

    async def deliver(secret: str | None = SECRET) -> int:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with (
            aiohttp.ClientSession() as http,
            http.post(webhook, json=update, headers=headers) as response,
        ):
            return response.status

    assert await deliver(secret="wrong") == 403, "the secret is still checked first"
    assert await deliver() == 503
    code, body = await healthz(app)
    assert code == 503 and body["checks"]["updates"] is False

    sim.faults.outage = False
    await sim.wait_for(lambda: sim.webhook_url == URL, what="the webhook set")
    assert await deliver() == 200
    answer = await sim.wait_for_bot_message(sim.private_chat(sari))
    assert answer.visible_text.startswith("Halo, Sari!")
    await stopped(serving, stop)
    await systemd.until(stopping, "STOPPING=1")
