"""Every CAP document the bot makes validates against the official OASIS CAP 1.2 schema, and
the Atom feed for aggregators carries them: sent alerts, and a stopped one as a Cancel."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
import pytest
import xmlschema

from bot.services.api import ApiAdmin
from bot.simulator import TelegramSimulator
from models.api import Scope
from tests.harness import BotHarness
from tests.scenario import build_city
from tests.test_broadcasts import ALL_GROUPS, EMERGENCY, SEND, WARNING, compose, last, send

SCHEMA_FILE = Path(__file__).parent / "data" / "cap" / "CAP-v1.2-schema.xsd"
SCHEMA_SHA256 = "dd73a2e1f76efa451814b02b127bbf4c86cedc7bb21a77204231c38c84d8fd36"
ATOM = "{http://www.w3.org/2005/Atom}"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256
    return xmlschema.XMLSchema(SCHEMA_FILE)


GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>x-1</identifier><sender>a@b.c</sender><sent>2026-12-07T10:00:00+07:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><category>Safety</category><event>Banjir</event><urgency>Expected</urgency>
  <severity>Moderate</severity><certainty>Likely</certainty></info>
</alert>"""


def test_the_schema_rejects_a_known_bad_alert(schema: xmlschema.XMLSchema) -> None:
    assert schema.is_valid(GOOD)
    assert not schema.is_valid(GOOD.replace("<status>Actual</status>", "<status>Real</status>"))
    assert not schema.is_valid(GOOD.replace("<msgType>Alert</msgType>", ""))  # required
    assert not schema.is_valid(GOOD.replace("+07:00", "Z"))  # CAP times carry an offset
    assert not schema.is_valid(GOOD.replace("<urgency>Expected</urgency>", ""))


async def key_for(harness: BotHarness) -> str:
    key = await ApiAdmin(harness.services.store, harness.services.clock).create_key(
        "aggregator", Scope.READ
    )
    assert key is not None
    return key


async def test_the_feed_carries_every_alert_and_a_stopped_one_as_a_cancel(
    sim: TelegramSimulator, harness: BotHarness, schema: xmlschema.XMLSchema
) -> None:
    city = await build_city(sim, harness)
    warning = await send(city, urgency=WARNING)
    emergency = await send(
        city, text="Banjir di Jl. Rajawali. Warga mengungsi ke SDN 4.", urgency=EMERGENCY
    )
    # A third is stopped while its copies wait (Telegram is slow).
    outbox = harness.services.outbox
    chat = await compose(city, text="Asap tebal di Kalampangan, jalan ditutup.")
    await outbox.stop()
    await sim.press_button(city.dispatcher, last(sim, chat), text=SEND)
    await harness.handled()
    stopped = emergency + 1
    assert await harness.services.broadcasts.stop(stopped) is not None
    outbox.start()
    await harness.settle()
    assert harness.app is not None
    address = harness.app.bot_data.web_address
    key = await key_for(harness)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{address}/cap/feed.atom") as response:
            assert response.status == 401  # key-protected by default
        headers = {"Authorization": f"Bearer {key}"}
        async with session.get(f"{address}/cap/feed.atom", headers=headers) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("application/atom+xml")
            feed = ET.fromstring(await response.read())
        documents = {}
        for entry in feed.iter(f"{ATOM}entry"):
            link = entry.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
            async with session.get(link, headers=headers) as response:
                assert response.status == 200, link
                documents[link.rsplit("/", 1)[1]] = await response.read()
            inline = entry.find(f"{ATOM}content/{CAP}alert")
            assert inline is not None
            schema.validate(ET.tostring(inline, encoding="unicode"))
    assert feed.tag == f"{ATOM}feed" and feed.find(f"{ATOM}updated") is not None
    assert sorted(documents) == sorted(
        [f"{warning}.xml", f"{emergency}.xml", f"{stopped}.xml", f"{stopped}-cancel.xml"]
    )
    for name, document in documents.items():
        schema.validate(document.decode())
        alert = ET.fromstring(document)
        kind = alert.findtext(f"{CAP}msgType")
        assert kind == ("Cancel" if name.endswith("-cancel.xml") else "Alert"), name
    cancel = ET.fromstring(documents[f"{stopped}-cancel.xml"])
    assert f"broadcast-{stopped}," in (cancel.findtext(f"{CAP}references") or "")
    urgent = ET.fromstring(documents[f"{emergency}.xml"])
    assert urgent.findtext(f"{CAP}info/{CAP}urgency") == "Immediate"


async def test_the_feed_can_be_public_and_drafts_are_never_in_it(
    sim: TelegramSimulator, harness: BotHarness, schema: xmlschema.XMLSchema
) -> None:
    city = await build_city(sim, harness, cap_feed_public=True)
    await compose(city, target=ALL_GROUPS)  # a draft: never sent
    assert harness.app is not None
    address = harness.app.bot_data.web_address
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{address}/cap/feed.atom") as response:
            assert response.status == 200
            feed = ET.fromstring(await response.read())
        assert list(feed.iter(f"{ATOM}entry")) == []
        async with session.get(f"{address}/cap/alerts/1.xml") as response:
            assert response.status == 404  # the draft
        await harness.says(city.dispatcher, "/batal")  # the draft is thrown away
        number = await send(city)
        async with session.get(f"{address}/cap/alerts/{number}.xml") as response:
            assert response.status == 200
            schema.validate((await response.read()).decode())
        async with session.get(f"{address}/cap/alerts/{number}-cancel.xml") as response:
            assert response.status == 404  # not stopped


async def test_every_urgency_with_and_without_a_place_validates(
    sim: TelegramSimulator, harness: BotHarness, schema: xmlschema.XMLSchema
) -> None:
    from datetime import UTC, datetime

    from bot.services.cap import cap_alert
    from models.broadcast import Broadcast, BroadcastStatus, TargetKind, Urgency

    await harness.start()
    zone = harness.services.settings.zone
    sent = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    for urgency in Urgency:
        for point in ((None, None), (-2.21, 113.92)):
            for status, cancelled in (
                (BroadcastStatus.SENT, None),
                (BroadcastStatus.CANCELLED, sent),
                (BroadcastStatus.DRAFT, None),
            ):
                broadcast = Broadcast(
                    id=7,
                    sender_id=1,
                    sender_name="Dita",
                    text="Peringatan dini: angin kencang & hujan lebat <malam ini>. Jl. A. Yani",
                    urgency=urgency,
                    target_kind=TargetKind.GROUPS,
                    agency_ids=(),
                    latitude=point[0],
                    longitude=point[1],
                    status=status,
                    created_at=sent,
                    sent_at=None if status is BroadcastStatus.DRAFT else sent,
                    cancelled_at=cancelled,
                )
                document = cap_alert(
                    broadcast, sender="siaga112@palangkaraya.go.id", agency_names=[], zone=zone
                )
                schema.validate(document.decode())
