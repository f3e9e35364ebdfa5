"""The HTTP API (`/api/v1`): the call centre files 112 calls through the same service as /baru
(cards, alerts, duplicate hints unchanged), idempotently by its own id; reads incidents; adds
notes. Every answer code, against the real bot on the simulator."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import aiohttp.web
import pytest

from bot.services.api import ApiAdmin
from bot.simulator import TelegramSimulator
from models.api import Scope
from tests.harness import BotHarness
from tests.scenario import City, build_city, report

CALL: dict[str, Any] = {
    "type": "kebakaran",
    "location": {"lat": -2.2050, "lon": 113.9150, "address": "Jl. Yos Sudarso gang 3"},
    "description": "Kios bensin terbakar, api menjalar ke rumah sebelah",
    "hurt": "yes",
    "hurt_count": 2,
    "caller": {"name": "Pak Hendra", "phone": "0812-5555-0199"},
    "external_id": "CC-2026-0001",
}


class Client:
    """Requests as the call centre's software makes them."""

    def __init__(self, session: aiohttp.ClientSession, address: str, key: str | None) -> None:
        self.session = session
        self.address = address
        self.key = key

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    async def post(self, path: str, body: object = None, *, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.session.post(
            f"{self.address}/api/v1{path}",
            data=data,
            headers={**self.headers(), "Content-Type": "application/json"},
        ) as response:
            return response.status, await response.json(), response.headers

    async def get(self, path: str) -> Any:
        async with self.session.get(
            f"{self.address}/api/v1{path}", headers=self.headers()
        ) as response:
            return response.status, await response.json(), response.headers


async def city_with_keys(
    sim: TelegramSimulator, harness: BotHarness, **settings: Any
) -> tuple[City, dict[str, str]]:
    city = await build_city(sim, harness, **settings)
    admin = ApiAdmin(harness.services.store, harness.services.clock)
    keys = {}
    for name, scope in (("callcenter", Scope.WRITE), ("dashboard", Scope.READ)):
        key = await admin.create_key(name, scope)
        assert key is not None
        keys[name] = key
    return city, keys


def address_of(harness: BotHarness) -> str:
    assert harness.app is not None and harness.app.bot_data.web_address is not None
    return harness.app.bot_data.web_address


async def test_a_call_is_filed_once_and_posted_like_a_call_entered_in_telegram(
    sim: TelegramSimulator, harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.web.api")
    city, keys = await city_with_keys(sim, harness)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        status, body, _ = await api.post("/incidents", CALL)
        assert status == 201, body
        number = body["number"]
        assert body == {
            "number": number,
            "status": "dilaporkan",
            "lifecycle": "terbuka",
            "created": True,
        }
        await harness.settle()
        card = city.card("damkar", number)  # the same card as any report
        assert "Kios bensin terbakar" in (card.text or "")
        assert city.card("relawan", number)
        # The same call again (a retry): the same incident, nothing posted again.
        status, again, _ = await api.post("/incidents", CALL)
        assert status == 200 and again["number"] == number and again["created"] is False
        await harness.settle()
        assert len(city.cards("damkar")) == 1
        # Its detail: who filed it, the caller (this key filed it), the timeline.
        status, detail, _ = await api.get(f"/incidents/{number}")
        assert status == 200
        assert detail["source"] == "api" and detail["external_id"] == "CC-2026-0001"
        assert detail["caller"] == {"name": "Pak Hendra", "phone": "+6281255550199"}
        assert detail["severity"] == "kritis"  # two people hurt in a fire
        assert detail["timeline"][0]["kind"] == "reported"
        assert detail["timeline"][0]["actor"] == "callcenter"
        assert {a["code"]: a["state"] for a in detail["agencies"]} == {
            "damkar": "menunggu",
            "relawan": "menunggu",
        }
        # Another key reads it without the caller's personal data.
        reader = Client(session, api.address, keys["dashboard"])
        status, seen, _ = await reader.get(f"/incidents/{number}")
        assert status == 200 and seen["caller"] is None and seen["external_id"] is None
    assert "callcenter" in caplog.text
    assert keys["callcenter"] not in caplog.text  # the key is never logged


async def test_two_identical_calls_at_the_same_instant_make_one_incident(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, keys = await city_with_keys(sim, harness)
    call = {**CALL, "external_id": "CC-SAME-INSTANT"}
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        answers = await asyncio.gather(*(api.post("/incidents", call) for _ in range(2)))
    statuses = sorted(status for status, _, _ in answers)
    numbers = {body["number"] for _, body, _ in answers}
    assert statuses == [200, 201] and len(numbers) == 1
    await harness.settle()
    assert len(city.cards("damkar")) == 1 and len(city.cards("relawan")) == 1


async def test_keys_are_checked_on_every_request(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    _, keys = await city_with_keys(sim, harness)
    address = address_of(harness)
    async with aiohttp.ClientSession() as session:
        status, body, headers = await Client(session, address, None).post("/incidents", CALL)
        assert status == 401 and body["error"] == "unauthorized"
        assert headers["WWW-Authenticate"].startswith("Bearer")
        wrong = Client(session, address, "s112_" + "x" * 43)
        assert (await wrong.get("/incidents"))[0] == 401
        assert (await Client(session, address, "not-even-a-key").get("/incidents"))[0] == 401
        reader = Client(session, address, keys["dashboard"])
        status, body, _ = await reader.post("/incidents", CALL)
        assert status == 403 and "read" in body["message"]
        assert (await reader.get("/incidents"))[0] == 200
        admin = ApiAdmin(harness.services.store, harness.services.clock)
        assert await admin.revoke("dashboard")
        assert (await reader.get("/incidents"))[0] == 401  # at once
        assert await admin.create_key("dashboard", Scope.READ)  # the name is free again
        assert await admin.create_key("callcenter", Scope.READ) is None  # still in use


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b'{"type": NaN}', 400, None),
        (b"\xff\xfe", 400, None),
        (b"[1, 2]", 422, "body"),
        (b'"a string"', 422, "body"),
        (json.dumps({**CALL, "type": "tsunami"}).encode(), 422, "type"),
        (json.dumps({**CALL, "location": {"lat": 95, "lon": 113.9}}).encode(), 422, "location.lat"),
        (json.dumps({**CALL, "location": {"lat": 0, "lon": 0}}).encode(), 422, "location"),
        (json.dumps({**CALL, "location": {"lat": -2.2}}).encode(), 422, "location"),
        (json.dumps({**CALL, "location": {}}).encode(), 422, "location"),
        (json.dumps({**CALL, "description": "x" * 3001}).encode(), 422, "description"),
        (json.dumps({**CALL, "description": "...."}).encode(), 422, "description"),
        (json.dumps({**CALL, "caller": {"phone": "+1 555 0100"}}).encode(), 422, "caller.phone"),
        (json.dumps({**CALL, "hurt_count": -1}).encode(), 422, "hurt_count"),
        (json.dumps({**CALL, "surprise": 1}).encode(), 422, "surprise"),
        (json.dumps({k: v for k, v in CALL.items() if k != "external_id"}).encode(), 422,
         "external_id"),
        (json.dumps({**CALL, "external_id": ["a"]}).encode(), 422, "external_id"),
    ],
)  # fmt: skip
async def test_bad_bodies_get_a_clear_answer_and_change_nothing(
    sim: TelegramSimulator, harness: BotHarness, body: bytes, status: int, field: str | None
) -> None:
    _, keys = await city_with_keys(sim, harness)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        got, answer, _ = await api.post("/incidents", raw=body)
        assert got == status, answer
        if field is not None:
            assert field in [e["field"] for e in answer["errors"]], answer
        assert (await api.get("/incidents"))[1]["incidents"] == []


async def test_a_huge_body_is_refused_before_it_is_read(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    _, keys = await city_with_keys(sim, harness)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        status, body, _ = await api.post("/incidents", {**CALL, "description": "x" * 70_000})
        assert status == 413 and body["error"] == "too_large"


async def test_a_key_over_its_rate_is_told_when_to_come_back(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    _, keys = await city_with_keys(sim, harness, api_rate_per_minute=3)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["dashboard"])
        for _ in range(3):
            assert (await api.get("/incidents"))[0] == 200
        status, body, headers = await api.get("/incidents")
        assert status == 429 and body["error"] == "rate_limited"
        assert 1 <= int(headers["Retry-After"]) <= 60
        other = Client(session, api.address, keys["callcenter"])
        assert (await other.get("/incidents"))[0] == 200  # per key


async def test_listing_pages_through_incidents_and_filters_them(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, keys = await city_with_keys(sim, harness)
    numbers = []
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        for index in range(3):
            call = {
                **CALL,
                "external_id": f"CC-{index}",
                "location": {"lat": -2.20 - index * 0.05, "lon": 113.90},
                "type": ["kebakaran", "medis", "banjir"][index],
            }
            numbers.append((await api.post("/incidents", call))[1]["number"])
        await harness.settle()
        status, first, _ = await api.get("/incidents?limit=2")
        assert status == 200 and [i["number"] for i in first["incidents"]] == numbers[:2]
        status, second, _ = await api.get(f"/incidents?limit=2&after={first['next_after']}")
        assert [i["number"] for i in second["incidents"]] == numbers[2:]
        assert second["next_after"] is None
        # One is resolved in Telegram: it moves from open to closed.
        await harness.services.incidents.resolve(numbers[0], city.dispatcher.id)
        await harness.settle()
        open_now = (await api.get("/incidents?status=open"))[1]["incidents"]
        closed = (await api.get("/incidents?status=closed"))[1]["incidents"]
        assert numbers[0] not in [i["number"] for i in open_now]
        assert [i["number"] for i in closed] == [numbers[0]]
        status, bad, _ = await api.get("/incidents?status=maybe&since=yesterday&limit=500")
        assert status == 422
        assert {e["field"] for e in bad["errors"]} == {"status", "since", "limit"}
        assert (await api.get("/incidents/999999"))[0] == 404
        assert (await api.get("/incidents/abc"))[0] == 404


async def test_a_note_from_the_call_centre_reaches_every_agency(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, keys = await city_with_keys(sim, harness)
    ani = sim.add_user("Ani", language_code="id")
    await harness.says(ani, "/start")
    number = await report(city, ani)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        text = "Penelepon kedua: api sudah ke atap, ada tabung gas"
        status, body, _ = await api.post(f"/incidents/{number}/notes", {"text": text})
        assert status == 201 and body == {"number": number, "note": text}
        await harness.settle()
        assert "tabung gas" in (city.card("damkar", number).text or "")
        timeline = (await api.get(f"/incidents/{number}"))[1]["timeline"]
        assert timeline[-1]["kind"] == "noted" and timeline[-1]["actor"] == "callcenter"
        assert (await api.post(f"/incidents/{number}/notes", {"text": ""}))[0] == 422
        assert (await api.post("/incidents/999999/notes", {"text": "x"}))[0] == 404
        reader = Client(session, api.address, keys["dashboard"])
        assert (await reader.post(f"/incidents/{number}/notes", {"text": "x"}))[0] == 403
        await harness.services.incidents.resolve(number, city.dispatcher.id)
        await harness.settle()
        assert (await api.post(f"/incidents/{number}/notes", {"text": "late"}))[0] == 409


async def test_the_openapi_document_describes_what_is_checked(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    async with aiohttp.ClientSession() as session:
        status, document, _ = await Client(session, address_of(harness), None).get("/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    schemas = document["components"]["schemas"]
    call = schemas["IncidentIn"]
    assert set(call["required"]) == {"type", "location", "description", "external_id"}
    assert call["additionalProperties"] is False
    assert "LocationIn" in schemas and "IncidentOut" in schemas
    post = document["paths"]["/incidents"]["post"]
    assert {"201", "200", "400", "401", "403", "413", "422", "429"} <= set(post["responses"])


# --- event subscriptions: signed POSTs to other systems, durable and in order ---


class Receiver:
    """Another system's endpoint on 127.0.0.1 that can go down and come back on its port."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.arrived = asyncio.Event()
        self.runner: aiohttp.web.AppRunner | None = None
        self.port = 0

    async def handle(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        self.got.append((dict(request.headers), await request.read()))
        self.arrived.set()
        return aiohttp.web.Response(status=204)

    async def up(self) -> None:
        app = aiohttp.web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = aiohttp.web.AppRunner(app)
        await self.runner.setup()
        site = aiohttp.web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def down(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self) -> list[tuple[str, int]]:
        return [
            (json.loads(body)["event"], json.loads(body)["incident"]["number"])
            for _, body in self.got
        ]

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()


SECRET = "a-long-shared-secret-16+"


def verified(headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as the README shows it."""
    import hashlib
    import hmac

    timestamp = headers["X-Siaga112-Timestamp"]
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), headers["X-Siaga112-Signature"])


async def test_subscribers_get_each_event_once_in_order_across_an_outage(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    from datetime import timedelta

    from models.api import EventName
    from models.clock import ManualClock

    clock = ManualClock()
    city, keys = await city_with_keys(sim, harness, clock=clock)
    receiver = Receiver()
    await receiver.up()
    admin = ApiAdmin(harness.services.store, harness.services.clock)
    wanted = [EventName.CREATED, EventName.ACKNOWLEDGED, EventName.RESOLVED]
    await admin.subscribe(receiver.url, wanted, SECRET)
    sender = harness.services.subscriptions
    try:
        async with aiohttp.ClientSession() as session:
            api = Client(session, address_of(harness), keys["callcenter"])
            number = (await api.post("/incidents", CALL))[1]["number"]
        await harness.settle()
        await receiver.wait_for(1)
        # The receiver goes down; Damkar and the volunteers acknowledge meanwhile.
        await receiver.down()
        for code in ("damkar", "relawan"):
            await sim.press_button(city.crews[code][0], city.card(code, number), text="✅ Terima")
            await harness.settle()
        await sender.deliver_due()
        assert len(receiver.got) == 1
        # It comes back; the retries are due after their backoff.
        await receiver.up()
        clock.advance(timedelta(minutes=11))
        await sender.deliver_due()
        await receiver.wait_for(3)
        await harness.services.incidents.resolve(number, city.dispatcher.id)
        await harness.settle()
        await sender.deliver_due()
        await receiver.wait_for(4)
    finally:
        await receiver.down()
    assert receiver.events() == [
        ("created", number),
        ("acknowledged", number),
        ("acknowledged", number),
        ("resolved", number),
    ]
    ids = [headers["X-Siaga112-Delivery"] for headers, _ in receiver.got]
    assert len(set(ids)) == 4  # each once
    assert all(verified(headers, body) for headers, body in receiver.got)
    first = json.loads(receiver.got[0][1])
    assert first["incident"]["external_id"] == "CC-2026-0001" and first["actor"] == "callcenter"
    acknowledged = [json.loads(body)["agency"] for _, body in receiver.got[1:3]]
    assert sorted(acknowledged) == ["damkar", "relawan"]


async def test_a_day_of_failure_parks_the_event_and_the_next_ones_go_on(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    from datetime import timedelta

    from models.api import DeliveryStatus, EventName
    from models.clock import ManualClock

    clock = ManualClock()
    city, keys = await city_with_keys(sim, harness, clock=clock)
    receiver = Receiver()
    await receiver.up()
    await receiver.down()  # a port nobody answers on
    admin = ApiAdmin(harness.services.store, harness.services.clock)
    await admin.subscribe(receiver.url, [EventName.CREATED, EventName.ACKNOWLEDGED], SECRET)
    sender = harness.services.subscriptions
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        number = (await api.post("/incidents", CALL))[1]["number"]
    await harness.settle()
    # Damkar acknowledges while the receiver is away: its event waits behind the first.
    await sim.press_button(city.crews["damkar"][0], city.card("damkar", number), text="✅ Terima")
    await harness.settle()
    await sender.deliver_due()  # the first fails; the second is held behind it
    async with harness.services.store.lookup() as tx:
        due = await tx.next_delivery_due()
    assert due is not None and due > clock.now()  # the first's retry, not the held one's "now"
    for _ in range(25):  # retries over a day, each after its backoff
        clock.advance(timedelta(hours=1))
        await sender.deliver_due()
    # The first is parked after its day; the one behind it after one more failed attempt,
    # not after a day of its own.
    parked = await admin.delivery_log(10, parked_only=True)
    assert [d.event for d in reversed(parked)] == [EventName.CREATED, EventName.ACKNOWLEDGED]
    assert all(d.status is DeliveryStatus.PARKED for d in parked)
    assert parked[-1].attempts > 5 and "Error" in (parked[-1].last_error or "")
    assert parked[0].attempts == 1
    # The receiver is back; the incident's next event is not held behind the parked ones.
    await receiver.up()
    try:
        await sim.press_button(
            city.crews["relawan"][0], city.card("relawan", number), text="✅ Terima"
        )
        await harness.settle()
        await sender.deliver_due()
        await receiver.wait_for(1)
        assert receiver.events() == [("acknowledged", number)]
        # Sent again on request (`siaga112 subscription resend`), in the order asked.
        created = parked[-1]
        assert await admin.resend(created.id)
        assert not await admin.resend(created.id)  # no longer parked
        await sender.deliver_due()
        await receiver.wait_for(2)
    finally:
        await receiver.down()
    assert receiver.events()[1] == ("created", number)
    assert all(verified(headers, body) for headers, body in receiver.got)


async def test_a_removed_subscription_drops_what_it_had_queued(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    from models.api import DeliveryStatus, EventName

    _, keys = await city_with_keys(sim, harness)
    receiver = Receiver()
    await receiver.up()
    await receiver.down()
    admin = ApiAdmin(harness.services.store, harness.services.clock)
    number = await admin.subscribe(receiver.url, [EventName.CREATED], SECRET)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        assert (await api.post("/incidents", CALL))[0] == 201
    await harness.settle()
    assert await admin.unsubscribe(number)
    [dropped] = await admin.delivery_log(10)
    assert dropped.status is DeliveryStatus.DROPPED
    assert not await admin.resend(dropped.id)
    async with harness.services.store.lookup() as tx:
        assert await tx.next_delivery_due() is None  # nothing left to wake the sender for


async def test_odd_bodies_never_get_a_server_error(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """A hostile or buggy client: 200 bodies with fields of every odd kind, seeded."""
    import random

    odd: list[Any] = [
        None, True, 0, -1, 1e308, -1e308, 2**70, "", " ", "\u200b" * 50, "😀" * 500,
        "x" * 5000, [], {}, [None], {"a": {"b": {"c": []}}}, "kebakaran", "0", "NaN", "\x00",
    ]  # fmt: skip
    fields = [*CALL.keys(), "location.lat", "location.lon", "location.address", "caller.phone"]
    rng = random.Random(112)
    _, keys = await city_with_keys(sim, harness, api_rate_per_minute=10_000)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["callcenter"])
        for n in range(200):
            body: dict[str, Any] = json.loads(json.dumps(CALL))
            body["external_id"] = f"ODD-{n}"
            for field in rng.sample(fields, rng.randint(1, 3)):
                head, _, tail = field.partition(".")
                if tail and isinstance(body.get(head), dict):
                    body[head][tail] = rng.choice(odd)
                else:
                    body[head] = rng.choice(odd)
            status, answer, _ = await api.post("/incidents", body)
            assert status in (200, 201, 422), (body, answer)
            if status == 422:
                assert answer["errors"] and all(e["field"] for e in answer["errors"])
    await harness.settle()


async def test_what_changed_since_includes_acknowledgements_and_hides_residents(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    from datetime import timedelta

    from models.clock import ManualClock

    clock = ManualClock()
    city, keys = await city_with_keys(sim, harness, clock=clock)
    ani = sim.add_user("Ani", last_name="Wulandari", language_code="id")
    await harness.says(ani, "/start")
    number = await report(city, ani)
    clock.advance(timedelta(minutes=10))
    since = clock.now().isoformat().replace("+00:00", "%2B00:00")
    async with aiohttp.ClientSession() as session:
        api = Client(session, address_of(harness), keys["dashboard"])
        assert (await api.get(f"/incidents?since={since}"))[1]["incidents"] == []
        await sim.press_button(
            city.crews["damkar"][0], city.card("damkar", number), text="✅ Terima"
        )
        await harness.settle()
        changed = (await api.get(f"/incidents?since={since}"))[1]["incidents"]
        assert [i["number"] for i in changed] == [number]  # an acknowledgement is a change
        detail = (await api.get(f"/incidents/{number}"))[1]
    reported = detail["timeline"][0]
    assert reported["kind"] == "reported" and reported["actor"] is None  # a resident: no name
    assert "Ani" not in json.dumps(detail)
    assert any(e["actor"] == "Rudi" for e in detail["timeline"])  # staff by name


async def test_bodies_that_once_broke_the_server_get_a_clear_answer(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    _, keys = await city_with_keys(sim, harness)
    address = address_of(harness)
    async with aiohttp.ClientSession() as session:
        api = Client(session, address, keys["callcenter"])
        status, body, _ = await api.post("/incidents", raw=b"[" * 60_000)  # deep nesting
        assert status == 400 and body["error"] == "invalid_json"
        status, body, _ = await api.get("/incidents?since=0001-01-01T00:00:00%2B01:00")
        assert status == 422 and body["errors"][0]["field"] == "since"
        async with session.post(f"{address}/masuk/telegram", data=b"\xff\xfe\x00bad") as answer:
            assert answer.status == 403

        async def pieces() -> Any:  # a valid call, sent chunked in three writes
            text = json.dumps({**CALL, "external_id": "CHUNKED"}).encode()
            for start in range(0, len(text), len(text) // 3 + 1):
                yield text[start : start + len(text) // 3 + 1]
                await asyncio.sleep(0)

        async with session.post(
            f"{address}/api/v1/incidents", data=pieces(), headers=api.headers()
        ) as answer:
            assert answer.status == 201, await answer.text()
