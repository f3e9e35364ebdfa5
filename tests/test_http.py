"""The bot's Bot API transport (`bot.runtime.http.AiohttpRequest`): what python-telegram-bot
sends through it reaches the simulator as it would through PTB's own `HTTPXRequest` (form
parameters, keyboards, uploads, long polls), and every way a call can fail becomes the error PTB
promises: `TimedOut`, `RetryAfter`, `NetworkError` — with a connection never opened said so,
since the outbox then knows no copy of the message exists."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.runtime.http import NOT_CONNECTED, AiohttpRequest
from bot.simulator import SimUser, TelegramSimulator
from tests.harness import BotHarness
from tests.test_simulator import make_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def aiohttp_bot(sim: TelegramSimulator, read_timeout: float = 2.0) -> Bot:
    return make_bot(sim, sim.token, read_timeout, transport=AiohttpRequest)


@pytest.fixture
async def bot(sim: TelegramSimulator) -> AsyncIterator[Bot]:
    async with aiohttp_bot(sim) as ptb_bot:
        yield ptb_bot


@pytest.fixture
async def sari(sim: TelegramSimulator) -> SimUser:
    person = sim.add_user("Sari", username="sari", language_code="id")
    await sim.send_message(person, "/start")
    return person


async def test_calls_reach_the_simulator_as_through_ptbs_own_transport(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    assert (await bot.get_me()).id == sim.bot_user_json()["id"]
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("✅ Terima", callback_data="v1|a")]])
    sent = await bot.send_message(
        sari.id,
        "<b>Kebakaran</b> di Jl. Tjilik Riwut &amp; pasar",
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    [shown] = sim.bot_messages(sim.private_chat(sari))
    assert shown.text == "Kebakaran di Jl. Tjilik Riwut & pasar"
    assert shown.button_data == [["v1|a"]]
    await bot.edit_message_text(
        "<b>Kebakaran</b> — diterima",
        chat_id=sari.id,
        message_id=sent.message_id,
        parse_mode="HTML",
    )
    assert shown.text == "Kebakaran — diterima"
    photo = await bot.send_photo(sari.id, b"\xff\xd8foto-bukti", caption="bukti")
    assert photo.photo and photo.caption == "bukti"
    # The same call through PTB's own transport reads the same.
    async with Bot(
        sim.token,
        base_url=sim.bot_base_url,
        request=HTTPXRequest(),
        get_updates_request=HTTPXRequest(),
    ) as reference:
        assert (await reference.get_me()).to_dict() == (await bot.get_me()).to_dict()


async def test_a_long_poll_waits_longer_than_the_read_timeout(
    sim: TelegramSimulator, sari: SimUser
) -> None:
    async with aiohttp_bot(sim, read_timeout=0.2) as ptb_bot:
        await ptb_bot.get_updates(timeout=0)  # the /start, confirmed next time
        poll = asyncio.create_task(ptb_bot.get_updates(offset=sim.last_update_id + 1, timeout=1))
        await sim.wait_for(lambda: sim.polls_waiting == 1, 2, "the poll to wait")
        await asyncio.sleep(0.4)  # past the read timeout: time itself is what is tested
        await sim.send_message(sari, "halo")
        updates = await asyncio.wait_for(poll, 3)
    assert [u.message.text for u in updates if u.message] == ["halo"]


async def test_a_slow_answer_times_out(sim: TelegramSimulator, sari: SimUser) -> None:
    async with aiohttp_bot(sim) as ptb_bot:
        sim.faults.latency = 0.3
        with pytest.raises(TimedOut):
            await ptb_bot.send_message(sari.id, "terlalu lambat", read_timeout=0.05)
    sim.faults.latency = 0.0


async def test_answers_with_an_error_become_ptbs_errors(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    sim.faults.retry_after = 3
    sim.faults.fail_next(1, status=429)
    with pytest.raises(RetryAfter):
        await bot.send_message(sari.id, "terlalu cepat")
    sim.faults.fail_next(1, status=502)
    with pytest.raises(NetworkError) as failed:
        await bot.send_message(sari.id, "gagal")
    assert NOT_CONNECTED not in failed.value.message


async def test_a_dropped_connection_may_have_delivered(
    sim: TelegramSimulator, bot: Bot, sari: SimUser
) -> None:
    sim.faults.outage = True
    with pytest.raises(NetworkError) as failed:
        await bot.send_message(sari.id, "tidak sampai")
    assert NOT_CONNECTED not in failed.value.message  # the request left: it may have arrived
    sim.faults.outage = False
    await bot.send_message(sari.id, "pulih")


async def test_no_connection_at_all_is_said_so() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as failed:
            await request.post(f"http://127.0.0.1:{port}/bot123:abc/getMe")
    finally:
        await request.shutdown()
    assert failed.value.message.startswith(NOT_CONNECTED)
    assert "123:abc" not in failed.value.message


async def test_a_request_before_initialize_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")


def test_the_bot_uses_it_for_every_call(harness: BotHarness) -> None:
    app = build_application(harness.make_settings())
    requests = app.bot._request  # (getUpdates, everything else)
    assert all(isinstance(request, AiohttpRequest) for request in requests)


async def test_an_outgoing_proxy_in_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A city network that reaches Telegram only through a proxy names it in HTTP(S)_PROXY, as
    for python-telegram-bot's own transport: the calls go through it."""
    asked: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked.append(await reader.readline())  # the request line names the whole address
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        body = b'{"ok":true,"result":{"id":7,"is_bot":true,"first_name":"Siaga","username":"s"}}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        async with server:
            bot = Bot("123:abc", base_url="http://telegram.invalid/bot", request=request)
            assert (await bot.get_me()).username == "s"
    finally:
        await request.shutdown()
    assert asked and asked[0].split()[1].startswith(b"http://telegram.invalid/bot123:abc/getMe")
    # A host named in NO_PROXY is reached directly (here: it does not exist).
    monkeypatch.setenv("NO_PROXY", "telegram.invalid")
    direct = AiohttpRequest(connect_timeout=1.0)
    await direct.initialize()
    try:
        bot = Bot("123:abc", base_url="http://telegram.invalid/bot", request=direct)
        with pytest.raises(NetworkError, match=NOT_CONNECTED):
            await bot.get_me()
    finally:
        await direct.shutdown()
    assert len(asked) == 1
