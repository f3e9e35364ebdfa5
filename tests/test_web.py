"""The bot's web server: started and stopped with the bot, on a free port in tests, and its
liveness check `/healthz` (200 when every part runs, 503 naming the part that does not)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import socket
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.services.changes import KEPT, ChangeFeed
from bot.simulator import SimUser, TelegramSimulator
from bot.web.server import WebServer
from models.clock import ManualClock
from tests.harness import BotHarness
from tests.scenario import build_city, city_with_a_fire, report


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


# --- signing in with a one-time link, and the board's data ---

LINK = re.compile(r"(http://\S+/masuk\?t=\S+)")


async def open_data(session: aiohttp.ClientSession, address: str) -> dict[str, Any]:
    async with session.get(f"{address}/board/data/open") as response:
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        return data


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1, as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def link_for(sim: TelegramSimulator, harness: BotHarness, person: SimUser) -> str:
    answer = await harness.says(person, "/papan")
    found = LINK.search(answer.text or "")
    assert found is not None, answer.text
    return found.group(1)


async def test_a_link_signs_in_once_and_the_session_reads_the_board(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city, fire = await city_with_a_fire(sim, harness, clock=clock)
    link = await link_for(sim, harness, city.dispatcher)
    async with browser() as session:
        async with session.get(link) as response:
            assert response.status == 200, await response.text()
            assert response.url.path == "/board"  # the board page, signed in
            assert response.headers["Content-Type"].startswith("text/html")
        address = link.split("/masuk")[0]
        data = await open_data(session, address)
        assert [i["number"] for i in data["incidents"]] == [fire]
        incident = data["incidents"][0]
        assert {a["code"] for a in incident["agencies"]} == {"damkar", "relawan"}
        async with session.get(f"{address}/board/data/incidents/{fire}") as response:
            detail = await response.json()
        assert detail["phone"] and detail["timeline"][0]["kind"] == "reported"
    # The link was used: a second browser is refused.
    async with browser() as other, other.get(link) as response:
        assert response.status == 403
        assert "/papan" in await response.text()
    # A link older than ten minutes is refused too.
    stale = await link_for(sim, harness, city.dispatcher)
    clock.advance(timedelta(minutes=10, seconds=1))
    async with browser() as late, late.get(stale) as response:
        assert response.status == 403
    # No session: no data.
    async with browser() as nobody:
        async with nobody.get(f"{address}/board/data/open") as response:
            assert response.status == 401
        async with nobody.get(f"{address}/board/data/incidents/{fire}") as response:
            assert response.status == 401


async def test_a_member_sees_only_their_agencies_and_loses_the_board_with_the_role(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, fire = await city_with_a_fire(sim, harness)
    budi = sim.add_user("Budi", language_code="id")
    medical = await report(city, budi, kind_button="🚑 Darurat medis")
    dewi = city.crews["dinkes"][0]
    link = await link_for(sim, harness, dewi)
    address = link.split("/masuk")[0]
    async with browser() as session:
        async with session.get(link) as response:
            assert response.status == 200
        data = await open_data(session, address)
        assert [i["number"] for i in data["incidents"]] == [medical]
        async with session.get(f"{address}/board/data/incidents/{fire}") as response:
            assert response.status == 404  # not hers to see: as if it were not there
        # She leaves Dinkes: the next request is refused and the session is over.
        await harness.says(dewi, "/keluar", chat=city.groups["dinkes"])
        async with session.get(f"{address}/board/data/open") as response:
            assert response.status == 401
    # A dispatcher's session ends when the role is revoked.
    link = await link_for(sim, harness, city.dispatcher)
    async with browser() as session:
        async with session.get(link) as response:
            assert response.status == 200
        await harness.says(city.admin, "/peran cabut dispatcher @dita")
        async with session.get(f"{address}/board/data/open") as response:
            assert response.status == 401


async def test_the_link_goes_only_to_a_private_chat_and_only_to_whom_may_see(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    stranger = sim.add_user("Tono", language_code="id")
    answer = await harness.says(stranger, "/papan")
    assert LINK.search(answer.text or "") is None
    rudi = city.crews["damkar"][0]
    group = await harness.says(rudi, "/papan", chat=city.groups["damkar"])
    assert LINK.search(group.text or "") is None, group.text


# --- the live event stream ---


async def next_event(response: aiohttp.ClientResponse) -> dict[str, str]:
    """The next event of a server-sent events stream (comments skipped): its fields."""
    fields: dict[str, str] = {}
    async with asyncio.timeout(10):
        while True:
            line = (await response.content.readline()).decode()
            if line == "":
                raise EOFError("the stream ended")
            line = line.rstrip("\n")
            if not line:
                if fields:
                    return fields
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value


async def signed_in(
    sim: TelegramSimulator, harness: BotHarness, person: SimUser
) -> tuple[aiohttp.ClientSession, str]:
    link = await link_for(sim, harness, person)
    session = browser()
    async with session.get(link) as response:
        assert response.status == 200
    return session, link.split("/masuk")[0]


async def test_the_stream_tells_each_change_and_replays_what_a_reconnect_missed(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, fire = await city_with_a_fire(sim, harness)
    session, address = await signed_in(sim, harness, city.dispatcher)
    async with session:
        async with session.get(f"{address}/board/events") as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            hello = await next_event(stream)
            assert hello["event"] == "hello"
            rudi = city.crews["damkar"][0]
            await sim.press_button(rudi, city.card("damkar", fire), text="✅ Terima")
            event = await next_event(stream)
            assert event["event"] == "incident" and json.loads(event["data"]) == {"number": fire}
            seen = event["id"]
        # Away for a moment: two changes happen meanwhile.
        sari = city.crews["relawan"][0]
        await sim.press_button(sari, city.card("relawan", fire), text="✅ Terima")
        await harness.settle()
        second = await report(city, sim.add_user("Budi", language_code="id"))
        headers = {"Last-Event-ID": seen}
        async with session.get(f"{address}/board/events", headers=headers) as stream:
            assert (await next_event(stream))["event"] == "hello"
            replayed = [json.loads((await next_event(stream))["data"])["number"] for _ in range(2)]
            assert replayed == [fire, second]


async def test_a_reconnect_after_too_long_is_told_to_load_afresh() -> None:
    feed = ChangeFeed()
    feed.changed(list(range(1, KEPT + 11)))
    assert feed.since(5) is None  # no longer kept
    assert [c.number for c in feed.since(KEPT + 8) or []] == [KEPT + 9, KEPT + 10]
    assert feed.since(feed.seq) == []
    assert feed.replay(feed.event_id(KEPT + 8)) == feed.since(KEPT + 8)
    # Ids of another run of the bot (it restarted meanwhile), or no id at all: load afresh.
    restarted = ChangeFeed()
    restarted.changed([1, 2, 3])
    assert restarted.replay(feed.event_id(2)) is None
    assert restarted.replay("2") is None
    assert restarted.replay(restarted.event_id(9)) is None  # ahead of this run


async def test_the_stream_ends_when_the_role_is_revoked(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, fire = await city_with_a_fire(sim, harness)
    session, address = await signed_in(sim, harness, city.dispatcher)
    async with session, session.get(f"{address}/board/events") as stream:
        assert (await next_event(stream))["event"] == "hello"
        await harness.says(city.admin, "/peran cabut dispatcher @dita")
        await sim.press_button(city.crews["damkar"][0], city.card("damkar", fire), text="✅ Terima")
        with pytest.raises(EOFError):
            await next_event(stream)


# --- signing in inside Telegram (a Mini App's initData) ---


def init_data(token: str, user_id: int, auth_date: int, **extra: str) -> str:
    """`initData` as Telegram signs it for a Mini App of the bot with `token`."""
    fields = {
        "auth_date": str(auth_date),
        "query_id": "AAH-test",
        "user": json.dumps({"id": user_id, "first_name": "Dita", "language_code": "id"}),
        **extra,
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


async def test_a_mini_app_signs_in_with_telegrams_signature_and_nothing_else(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness)
    address = harness.app.bot_data.web_address if harness.app else None
    assert address is not None
    url = f"{address}/masuk/telegram"
    now = int(harness.services.clock.now().timestamp())
    good = init_data(sim.token, city.dispatcher.id, now)
    async with browser() as session:
        async with session.post(url, data=good) as response:
            assert response.status == 200, await response.text()
        async with session.get(f"{address}/board/data/open") as response:
            assert response.status == 200
    tampered = good.replace("Dita", "Dito")
    stale = init_data(sim.token, city.dispatcher.id, now - 2 * 3600)
    foreign = init_data("999:AAEanother-bot-token-entirely-xxxxxxxxxx", city.dispatcher.id, now)
    twice = good + "&auth_date=1"
    stranger = init_data(sim.token, 77777, now)
    for refused in (tampered, stale, foreign, twice, stranger, "", "hash=00"):
        async with browser() as session, session.post(url, data=refused) as response:
            assert response.status == 403, refused[:40]


async def test_a_restart_keeps_the_port_it_got(sim: TelegramSimulator, harness: BotHarness) -> None:
    app = await harness.start()
    address = app.bot_data.web_address
    app = await harness.restart()
    assert app.bot_data.web_address == address
    status, _ = await get(f"{address}/healthz")
    assert status == 200


async def test_with_an_https_address_papan_offers_the_mini_app_and_the_menu_button(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city = await build_city(sim, harness, web_public_url="https://siaga112.example.org/")
    answer = await harness.says(city.dispatcher, "/papan")
    rows = (answer.reply_markup or {})["inline_keyboard"]
    assert rows[0][0]["web_app"] == {"url": "https://siaga112.example.org/board"}
    assert rows[1][0]["url"].startswith("https://siaga112.example.org/masuk?t=")
    menu = await harness.app.bot.get_chat_menu_button(city.dispatcher.id) if harness.app else None
    assert menu is not None and menu.type == "web_app"
    # Over plain http (the default here) there is no button at all: Telegram refuses both.
    await harness.restart()
    plain = await harness.says(city.coordinator, "/papan")
    assert plain.reply_markup is None and LINK.search(plain.text or "")


async def test_the_board_page_is_served_with_its_guards_and_its_own_files(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    app = await harness.start(map_tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    address = app.bot_data.web_address
    async with browser() as session:
        async with session.get(f"{address}/board?lang=en&wall=1") as response:
            assert response.status == 200
            page = await response.text()
            policy = response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "script-src 'self'" in policy and "https://*.tile.example.org" in policy
        assert '<html lang="en" class="wall">' in page and "Incident board" in page
        config = json.loads(page.split('id="config">', 1)[1].split("</script>", 1)[0])
        assert config["wall"] is True and config["zone_label"] == "WIB"
        assert config["labels"]["disconnected"].startswith("⚠️ Connection lost")
        async with session.get(f"{address}/board/static/vendor/leaflet/leaflet.js") as response:
            assert response.status == 200 and "Leaflet 1.9.4" in await response.text()
        async with session.get(f"{address}/board/static/../../server.py") as response:
            assert response.status in (403, 404)  # nothing outside the static folder
        async with session.get(f"{address}/board/data/broadcasts") as response:
            assert response.status == 401


async def test_the_board_data_marks_late_steps_and_keeps_drills_apart(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    fire = await report(city, ani)  # high severity: reminded after 3 minutes, twice, then up
    session, address = await signed_in(sim, harness, city.dispatcher)

    def agencies(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        (incident,) = data["incidents"]
        return {a["code"]: a for a in incident["agencies"]}

    async with session:
        fresh = agencies(await open_data(session, address))
        assert fresh["damkar"]["late"]["reminded"] == 0
        assert fresh["damkar"]["late"]["escalated"] is False
        await sim.press_button(city.crews["damkar"][0], city.card("damkar", fire), text="✅ Terima")
        await harness.settle()
        for _ in range(2):  # two reminders in the volunteers' group
            clock.advance(timedelta(minutes=3, seconds=1))
            await harness.services.reminders.sweep()
            await harness.settle()
        late = agencies(await open_data(session, address))
        assert late["relawan"]["late"]["reminded"] == 2
        assert late["relawan"]["late"]["escalated"] is False  # the next one goes up
        clock.advance(timedelta(minutes=3, seconds=1))
        await harness.services.reminders.sweep()
        await harness.settle()
        late = agencies(await open_data(session, address))
        assert late["relawan"]["late"]["escalated"] is True  # the coordinators were alerted
        assert late["relawan"]["state_label"] == "menunggu konfirmasi"
        # Damkar moved on; what chases it now is the acknowledged-but-unmoved step.
        assert late["damkar"]["state"] == "diterima"
        english = await (await session.get(f"{address}/board/data/open?lang=en")).json()
        assert english["incidents"][0]["severity_label"] == "High"
        # The drill view holds drills only, the live view none.
        async with session.get(f"{address}/board/data/open?drill=1") as response:
            assert (await response.json())["incidents"] == []


async def test_a_quiet_stream_pings_and_an_odd_last_event_id_resyncs(
    sim: TelegramSimulator, harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.web.server

    monkeypatch.setattr(bot.web.server, "KEEP_ALIVE", 0.2)
    city = await build_city(sim, harness)
    session, address = await signed_in(sim, harness, city.dispatcher)
    async with session:
        async with session.get(f"{address}/board/events") as stream:
            assert (await next_event(stream))["event"] == "hello"
            assert (await next_event(stream))["event"] == "ping"  # a page can see it is alive
        for odd in ("²", "x.1", "9" * 40, f"{harness.services.changes.run}.²"):
            headers = {"Last-Event-ID": odd}
            async with session.get(f"{address}/board/events", headers=headers) as stream:
                assert (await next_event(stream))["event"] == "resync", odd
